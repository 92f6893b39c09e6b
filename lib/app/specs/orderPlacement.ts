// The order-placement function: what it parses, how it is observed, and the logic it calls. functions/order-placement/handler.ts
// is the Lambda entry point; hosts (embedded bus, function host, tests) build it with their own dependencies.
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import type { ParsedEvent } from "../../events/parse";
import { eventBridgeParser, type FunctionSpec } from "../functionRuntime";
import { handleSignalGenerated, type PlacementOutcome } from "../orderPlacement";

export const orderPlacementFunction: FunctionSpec<ParsedEvent<"SignalGenerated">, PlacementOutcome> = {
  functionName: "order-placement",
  parse: eventBridgeParser("SignalGenerated"),
  correlationIdOf: (e) => e.detail.meta.correlationId,
  async handle(event, d, { logger, metrics }) {
    const out = await handleSignalGenerated(event, d);
    metrics.addMetric(out.decision === "approved" ? "SignalsApproved" : "SignalsDenied", MetricUnit.Count, 1);
    metrics.addMetric("OrdersPlaced", MetricUnit.Count, out.legs.filter((l) => l.placed).length);
    logger.info("signal processed", { ...out });
    return out;
  },
};
