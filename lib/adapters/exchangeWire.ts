// The one mapping between the exchange's wire messages and the domain: order statuses, sides, liquidity,
// executions → ExecutionReport, and ExecutionReport → the ExecutionReported bus event. The gRPC adapter, the
// quoter's bridge, the execution forwarder and the session's replay all go through here.
import {
  type Execution,
  Liquidity,
  type Order as WireOrder,
  Side as WireSide,
  OrderStatus as WireStatus,
} from "../../gen/proto/tse/exchange/exchange";
import type { OrderStatus } from "../domain/orders/orderStatus";
import type { Side } from "../domain/types";
import { buildBusEvent } from "../events/build";
import type { BusEvent } from "../ports/EventBus";
import type { ExecutionReport, VenueOrder, VenueStatus } from "../ports/Exchange";
import { activeTraceparent } from "../telemetry/spans";

const VENUE_STATUS: Record<number, VenueStatus> = {
  [WireStatus.NEW]: "NEW",
  [WireStatus.PARTIALLY_FILLED]: "PARTIALLY_FILLED",
  [WireStatus.FILLED]: "FILLED",
  [WireStatus.CANCELED]: "CANCELED",
  [WireStatus.REJECTED]: "REJECTED",
  [WireStatus.EXPIRED]: "EXPIRED",
};

/** What each venue status means on the domain order state machine. */
const DOMAIN_STATUS: Record<VenueStatus, OrderStatus | undefined> = {
  NEW: "accepted",
  PARTIALLY_FILLED: "partially-filled",
  FILLED: "filled",
  CANCELED: "canceled",
  REJECTED: "rejected",
  EXPIRED: "expired",
  UNRECOGNIZED: undefined,
};

export const venueStatusOf = (s: WireStatus): VenueStatus => VENUE_STATUS[s] ?? "UNRECOGNIZED";
export const domainStatusOf = (s: VenueStatus): OrderStatus | undefined => DOMAIN_STATUS[s];

export const sideOf = (s: WireSide): Side | undefined =>
  s === WireSide.BUY ? "BUY" : s === WireSide.SELL ? "SELL" : undefined;

/**
 * An unspecified liquidity flag counts as TAKER: the dearer fee schedule, so a report never looks better than
 * the venue's answer.
 */
export const liquidityOf = (l: Liquidity): "MAKER" | "TAKER" => (l === Liquidity.MAKER ? "MAKER" : "TAKER");

/** The venue's order in domain words; fields are read from the wire message on demand (no copy per answer). */
class WireVenueOrder implements VenueOrder {
  constructor(private readonly w: WireOrder) {}
  get orderId() {
    return this.w.orderId;
  }
  get clientOrderId() {
    return this.w.clientOrderId;
  }
  get strategyId() {
    return this.w.strategyId;
  }
  get venue() {
    return this.w.venue;
  }
  get symbol() {
    return this.w.symbol;
  }
  get side() {
    return sideOf(this.w.side);
  }
  get quantity() {
    return this.w.quantity;
  }
  get price() {
    return this.w.price;
  }
  get filledQuantity() {
    return this.w.filledQuantity;
  }
  get remainingQuantity() {
    return this.w.remainingQuantity;
  }
  get venueStatus() {
    return venueStatusOf(this.w.status);
  }
  get status() {
    return this.w.status === WireStatus.UNSPECIFIED ? undefined : domainStatusOf(venueStatusOf(this.w.status));
  }
  get rejectReason() {
    return this.w.rejectReason;
  }
}

export const venueOrderOf = (o: WireOrder): VenueOrder => new WireVenueOrder(o);

export function executionReportOf(e: Execution): ExecutionReport {
  return {
    sequence: Number(e.sequence),
    executionId: e.executionId,
    orderId: e.orderId,
    clientOrderId: e.clientOrderId,
    strategyId: e.strategyId,
    venue: e.venue,
    symbol: e.symbol,
    side: sideOf(e.side),
    price: e.price,
    quantity: e.quantity,
    fee: e.fee || "0",
    feeAsset: e.feeAsset || "USD",
    liquidity: liquidityOf(e.liquidity),
    timestampMs: Number(e.timestampMs),
    cumulativeQuantity: e.cumulativeQuantity,
    remainingQuantity: e.remainingQuantity,
    orderStatus: e.orderStatus === WireStatus.UNSPECIFIED ? undefined : domainStatusOf(venueStatusOf(e.orderStatus)),
    ...(e.traceparent ? { traceparent: e.traceparent } : {}),
  };
}

/**
 * The ExecutionReported event of one execution (validated by the event schema: bad data throws). The event id
 * is `exec-<venue>-<executionId>` (execution ids are unique per venue): the same execution, published by the
 * quoter's bridge, the forwarder or a replay, is the same event.
 */
export function executionEvent(e: ExecutionReport): BusEvent<"ExecutionReported"> {
  return buildBusEvent(
    "tse.exchange",
    "ExecutionReported",
    {
      executionId: e.executionId,
      sequence: e.sequence,
      clientOrderId: e.clientOrderId,
      exchangeOrderId: e.orderId,
      venue: e.venue,
      symbol: e.symbol,
      side: e.side ?? ("UNSPECIFIED" as "BUY"),
      quantity: e.quantity,
      price: e.price,
      fee: e.fee || "0",
      feeAsset: e.feeAsset || "USD",
      liquidity: e.liquidity,
      ...(e.strategyId ? { strategyId: e.strategyId } : {}),
      ...(e.cumulativeQuantity ? { cumulativeQuantity: e.cumulativeQuantity } : {}),
      ...(e.remainingQuantity ? { leavesQuantity: e.remainingQuantity } : {}),
      ts: new Date(e.timestampMs).toISOString(),
    },
    { now: e.timestampMs, eventId: executionEventId(e), ...traceOf(e) },
  );
}

/** The event's trace: the span building it (a create span), else the execution's own placing span. */
function traceOf(e: ExecutionReport): { traceparent?: string } {
  const tp = activeTraceparent() ?? e.traceparent;
  return tp ? { traceparent: tp } : {};
}

export const executionEventId = (e: { venue: string; executionId: string }): string =>
  `exec-${e.venue}-${e.executionId}`;
