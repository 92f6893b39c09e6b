// fill-handling function (ExecutionReported → fill + order + position, atomically → PositionChanged). Thin:
// parse + observability here, logic in lib/app/fillHandling.ts. `createHandler(deps)` injects adapters.
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { createEngineDependencies, type DependenciesProvider } from "../../lib/app/dependencies";
import { type FillOutcome, handleExecutionReported } from "../../lib/app/fillHandling";
import { buildFunction, eventBridgeParser, eventBridgeSchema, type LambdaHandler } from "../../lib/app/functionRuntime";
import type { ParsedEvent } from "../../lib/events/parse";

export function createHandler(deps: DependenciesProvider): LambdaHandler {
  return buildFunction<ParsedEvent<"ExecutionReported">, FillOutcome>(
    {
      functionName: "fill-handling",
      parse: eventBridgeParser("ExecutionReported"),
      schema: eventBridgeSchema("ExecutionReported"),
      correlationIdOf: (e) => e.detail.meta.correlationId,
      async handle(event, d, tools) {
        const out = await handleExecutionReported(event, d, tools);
        tools.metrics.addMetric(out.applied ? "FillsApplied" : "DuplicateFills", MetricUnit.Count, 1);
        if (out.attempts && out.attempts > 1)
          tools.metrics.addMetric("FillVersionRetries", MetricUnit.Count, out.attempts - 1);
        tools.logger.info("execution processed", { ...out });
        return out;
      },
    },
    deps,
  );
}

export const handler = createHandler(async () => createEngineDependencies());
