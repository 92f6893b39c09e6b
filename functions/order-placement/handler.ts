// order-placement function (SignalGenerated → orders). Thin: parse + observability here, logic in
// lib/app/orderPlacement.ts over the domain. `createHandler(deps)` lets hosts and tests inject adapters.
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { createEngineDependencies, type DependenciesProvider } from "../../lib/app/dependencies";
import { buildFunction, eventBridgeParser, eventBridgeSchema, type LambdaHandler } from "../../lib/app/functionRuntime";
import { handleSignalGenerated, type PlacementOutcome } from "../../lib/app/orderPlacement";
import type { ParsedEvent } from "../../lib/events/parse";

export function createHandler(deps: DependenciesProvider): LambdaHandler {
  return buildFunction<ParsedEvent<"SignalGenerated">, PlacementOutcome>(
    {
      functionName: "order-placement",
      parse: eventBridgeParser("SignalGenerated"),
      schema: eventBridgeSchema("SignalGenerated"),
      correlationIdOf: (e) => e.detail.meta.correlationId,
      async handle(event, d, { logger, metrics }) {
        const out = await handleSignalGenerated(event, d);
        metrics.addMetric(out.decision === "approved" ? "SignalsApproved" : "SignalsDenied", MetricUnit.Count, 1);
        metrics.addMetric("OrdersPlaced", MetricUnit.Count, out.legs.filter((l) => l.placed).length);
        logger.info("signal processed", { ...out });
        return out;
      },
    },
    deps,
  );
}

export const handler = createHandler(async () => createEngineDependencies());
