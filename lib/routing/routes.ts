// THE routing table: which events reach which function. Single source for the CDK rules,
// the LocalStack tap queues/function host and the embedded in-process bus.
//
// Patterns filter on source, detail-type and the envelope only (plus the shadow-signal
// exclusion). They deliberately do NOT validate payload fields: a malformed event must still
// reach its function so the handler rejects it with a typed error and it lands in the DLQ.
import type { EventPattern } from "./eventPattern";

export type { EventPattern, PatternOperator, PatternValue } from "./eventPattern";

export interface Route {
  /** Function name = folder under functions/ (functions/<functionName>/handler.ts). */
  functionName: string;
  description: string;
  eventPattern: EventPattern;
}

export const EVENT_SOURCES = {
  market: "tse.market",
  engine: "tse.engine",
  exchange: "tse.exchange",
  risk: "tse.risk",
} as const;
export type EventSource = (typeof EVENT_SOURCES)[keyof typeof EVENT_SOURCES];

/** Every envelope carries meta.eventId; events without it are not ours. */
const ENVELOPE = { meta: { eventId: [{ exists: true }] } } as const satisfies EventPattern;

export const ROUTES: readonly Route[] = [
  {
    functionName: "signal",
    description:
      "Market snapshots, one per entry or conflated into batches, drive the signal strategies (cross-venue arbitrage by default).",
    eventPattern: {
      source: [EVENT_SOURCES.market],
      "detail-type": ["MarketSnapshot", "MarketSnapshotBatch"],
      detail: ENVELOPE,
    },
  },
  {
    functionName: "order-placement",
    description:
      "Signals are sized, risk-checked and placed. Signals whose kind starts with 'shadow-' (paper strategies) are recorded but never traded, so they are not routed here.",
    eventPattern: {
      source: [EVENT_SOURCES.engine],
      "detail-type": ["SignalGenerated"],
      detail: { ...ENVELOPE, data: { kind: [{ "anything-but": { prefix: "shadow-" } }] } },
    },
  },
  {
    functionName: "fill-handling",
    description: "Executions update fill, order and position in one transaction.",
    eventPattern: {
      source: [EVENT_SOURCES.exchange],
      "detail-type": ["ExecutionReported"],
      detail: ENVELOPE,
    },
  },
  {
    functionName: "reporting",
    description:
      "Position changes (debounced by the function) refresh the strategy report; a schedule also triggers it.",
    eventPattern: {
      source: [EVENT_SOURCES.engine],
      "detail-type": ["PositionChanged"],
      detail: ENVELOPE,
    },
  },
  {
    functionName: "settlement",
    description:
      "Booked fills are instructed for settlement at the custodian, keyed by execution id; a schedule also reconciles balances.",
    eventPattern: {
      source: [EVENT_SOURCES.engine],
      "detail-type": ["FillBooked"],
      detail: ENVELOPE,
    },
  },
] as const;

/** Function names in routing order. */
export const ROUTED_FUNCTIONS: readonly string[] = ROUTES.map((r) => r.functionName);

export function routeFor(functionName: string): Route {
  const route = ROUTES.find((r) => r.functionName === functionName);
  if (!route)
    throw new Error(`unknown function '${functionName}': routed functions are ${ROUTED_FUNCTIONS.join(", ")}`);
  return route;
}
