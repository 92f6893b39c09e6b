// signal function (MarketSnapshot → SignalGenerated). Thin: parse + observability here, logic in lib/app/signal.ts
// over the domain. `handler` is what Lambda runs; `createHandler(deps)` lets hosts and tests inject adapters.
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { createEngineDependencies, type DependenciesProvider } from "../../lib/app/dependencies";
import { buildFunction, eventBridgeParser, eventBridgeSchema, type LambdaHandler } from "../../lib/app/functionRuntime";
import { handleMarketSnapshot, type SignalOutcome } from "../../lib/app/signal";
import type { ParsedEvent } from "../../lib/events/parse";

export function createHandler(deps: DependenciesProvider): LambdaHandler {
  return buildFunction<ParsedEvent<"MarketSnapshot">, SignalOutcome>(
    {
      functionName: "signal",
      parse: eventBridgeParser("MarketSnapshot"),
      schema: eventBridgeSchema("MarketSnapshot"),
      correlationIdOf: (e) => e.detail.meta.correlationId,
      async handle(event, d, { logger, metrics }) {
        const out = await handleMarketSnapshot(event, d);
        metrics.addMetric("SignalsGenerated", MetricUnit.Count, out.signalIds.length);
        logger.info("snapshot processed", { venue: event.detail.data.venue, symbol: event.detail.data.symbol, ...out });
        return out;
      },
    },
    deps,
  );
}

export const handler = createHandler(async () => createEngineDependencies());
