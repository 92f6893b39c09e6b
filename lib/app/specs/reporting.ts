// The reporting function: what it parses, how it is observed, and the logic it calls. functions/reporting/handler.ts
// is the Lambda entry point; hosts (embedded bus, function host, tests) build it with their own dependencies.
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import type { FunctionSpec } from "../functionRuntime";
import { handleReporting, parseReportingInput, type ReportingInput, type ReportingOutcome } from "../reporting";
import type { BaseDependencies } from "../wiring/base";

export const reportingFunction: FunctionSpec<ReportingInput, ReportingOutcome, BaseDependencies> = {
  functionName: "reporting",
  parse: parseReportingInput,
  correlationIdOf: (i) => (i.trigger === "POSITION_CHANGED" ? i.event.detail.meta.correlationId : undefined),
  async handle(input, d, { logger, metrics }) {
    const out = await handleReporting(input, d);
    metrics.addMetric("ReportsGenerated", MetricUnit.Count, out.reports.filter((r) => r.report).length);
    logger.info("reporting done", {
      trigger: out.trigger,
      reports: out.reports.map((r) => ({
        strategyId: r.strategyId,
        skipped: r.skipped,
        reportId: r.report?.reportId,
      })),
    });
    return out;
  },
};
