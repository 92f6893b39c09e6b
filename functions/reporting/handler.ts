// reporting function (schedule / PositionChanged / direct invocation → report). Thin: parse + observability
// here, logic in lib/app/reporting.ts over the domain metrics. `createHandler(deps)` injects adapters.
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { createEngineDependencies, type DependenciesProvider } from "../../lib/app/dependencies";
import { buildFunction, type LambdaHandler } from "../../lib/app/functionRuntime";
import { handleReporting, parseReportingInput } from "../../lib/app/reporting";

export function createHandler(deps: DependenciesProvider): LambdaHandler {
  return buildFunction(
    {
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
    },
    deps,
  );
}

export const handler = createHandler(async () => createEngineDependencies());
