// The settlement function: what it parses, how it is observed, and the logic it calls. functions/settlement/handler.ts
// is the Lambda entry point; hosts (embedded bus, function host, tests) build it with their own dependencies.
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import type { FunctionSpec } from "../functionRuntime";
import {
  handleFillBooked,
  parseSettlementInput,
  type ReconciliationOutcome,
  reconcile,
  type SettlementDependencies,
  type SettlementInput,
  type SettlementOutcome,
} from "../settlement";

export const settlementFunction: FunctionSpec<
  SettlementInput,
  SettlementOutcome | ReconciliationOutcome,
  SettlementDependencies
> = {
  functionName: "settlement",
  parse: parseSettlementInput,
  correlationIdOf: (i) => (i.kind === "fill" ? i.event.detail.meta.correlationId : undefined),
  async handle(input, d, { logger, metrics }) {
    if (input.kind === "fill") {
      const out = await handleFillBooked(input.event, d);
      metrics.addMetric(out.duplicate ? "DuplicateSettlements" : "SettlementsInstructed", MetricUnit.Count, 1);
      logger.info("settlement instructed", { ...out });
      return out;
    }
    const out = await reconcile(input.trigger, d, input.graceMs);
    metrics.addMetric("ReconciliationRuns", MetricUnit.Count, 1);
    metrics.addMetric("ReconciliationBreaks", MetricUnit.Count, out.breaks.length);
    (out.alerts > 0 ? logger.warn : logger.info).call(logger, "reconciliation done", { ...out });
    return out;
  },
};
