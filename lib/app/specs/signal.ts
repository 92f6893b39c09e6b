// The signal function: what it parses, how it is observed, and the logic it calls. functions/signal/handler.ts
// is the Lambda entry point; hosts (embedded bus, function host, tests) build it with their own dependencies.
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import type { ParsedEvent } from "../../events/parse";
import { eventBridgeParser, type FunctionSpec } from "../functionRuntime";
import { handleMarketSnapshot, handleMarketSnapshotBatch, type SignalOutcome } from "../signal";
import type { BaseDependencies } from "../wiring/base";

export const signalFunction: FunctionSpec<
  ParsedEvent<"MarketSnapshot" | "MarketSnapshotBatch">,
  SignalOutcome,
  BaseDependencies
> = {
  functionName: "signal",
  parse: eventBridgeParser(["MarketSnapshot", "MarketSnapshotBatch"] as const),
  correlationIdOf: (e) => e.detail.meta.correlationId,
  async handle(event, d, { logger, metrics }) {
    if (event["detail-type"] === "MarketSnapshotBatch") {
      const out = await handleMarketSnapshotBatch(event, d);
      metrics.addMetric("SignalsGenerated", MetricUnit.Count, out.signalIds.length);
      logger.info("snapshot batch processed", { ...out });
      return out;
    }
    const out = await handleMarketSnapshot(event, d);
    metrics.addMetric("SignalsGenerated", MetricUnit.Count, out.signalIds.length);
    logger.info("snapshot processed", { venue: event.detail.data.venue, symbol: event.detail.data.symbol, ...out });
    return out;
  },
};
