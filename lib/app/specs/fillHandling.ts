// The fill-handling function: what it parses, how it is observed, and the logic it calls. functions/fill-handling/handler.ts
// is the Lambda entry point; hosts (embedded bus, function host, tests) build it with their own dependencies.
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import type { ParsedEvent } from "../../events/parse";
import { type FillHandlingDependencies, type FillOutcome, handleExecutionReported } from "../fillHandling";
import { eventBridgeParser, type FunctionSpec } from "../functionRuntime";

export const fillHandlingFunction: FunctionSpec<
  ParsedEvent<"ExecutionReported">,
  FillOutcome,
  FillHandlingDependencies
> = {
  functionName: "fill-handling",
  parse: eventBridgeParser("ExecutionReported"),
  correlationIdOf: (e) => e.detail.meta.correlationId,
  async handle(event, d, tools) {
    const out = await handleExecutionReported(event, d, tools);
    tools.metrics.addMetric(out.applied ? "FillsApplied" : "DuplicateFills", MetricUnit.Count, 1);
    if (out.attempts && out.attempts > 1)
      tools.metrics.addMetric("FillVersionRetries", MetricUnit.Count, out.attempts - 1);
    tools.logger.info("execution processed", { ...out });
    return out;
  },
};
