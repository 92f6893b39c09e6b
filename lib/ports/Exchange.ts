// The exchange port, domain-typed: domain sides, order statuses and liquidity in; exact decimal strings for
// quantities and prices out. The gRPC adapter (lib/adapters/GrpcExchange.ts) maps the wire messages through the
// one wire-mapping module (lib/adapters/exchangeWire.ts); tests use an in-process fake venue.
import type { Decimal } from "../domain/decimal";
import type { OrderStatus } from "../domain/orders/orderStatus";
import type { OrderType, Side, TimeInForce } from "../domain/types";

/** The venue's own status words (what events carry); `status` is the same answer on the domain state machine. */
export type VenueStatus = "NEW" | "PARTIALLY_FILLED" | "FILLED" | "CANCELED" | "REJECTED" | "EXPIRED" | "UNRECOGNIZED";

export interface PlaceOrderArgs {
  /** Idempotency key: required, deterministic per signal. */
  clientOrderId: string;
  venue: string;
  symbol: string;
  side: Side;
  type: OrderType;
  quantity: Decimal | string;
  /** Required for LIMIT. */
  price?: Decimal | string;
  timeInForce?: TimeInForce;
  postOnly?: boolean;
  strategyId?: string;
  accountId?: string;
  riskChecked?: boolean;
  riskCheckId?: string;
}

export interface OrderRef {
  orderId?: string;
  clientOrderId?: string;
  accountId?: string;
}

/** Which order, as the venue names it (orders and their executions). */
export interface VenueOrderRef {
  orderId: string;
  clientOrderId: string;
  strategyId: string;
  venue: string;
  symbol: string;
  side: Side | undefined;
}

/** An order as the venue reports it. */
export interface VenueOrder extends VenueOrderRef {
  /** Decimal strings ("" when the venue sent none). */
  quantity: string;
  price: string;
  filledQuantity: string;
  remainingQuantity: string;
  venueStatus: VenueStatus;
  /** The domain status the venue's answer means (undefined: the venue sent no status). */
  status: OrderStatus | undefined;
  rejectReason: string;
}

export interface PlaceOrderResult {
  order: VenueOrder | undefined;
  duplicate: boolean;
}

export interface CancelOrderResult {
  canceled: boolean;
  order: VenueOrder | undefined;
}

/** One execution (fill), in the exchange's sequence. */
export interface ExecutionReport extends VenueOrderRef {
  sequence: number;
  /** Unique per venue. */
  executionId: string;
  price: string;
  quantity: string;
  fee: string;
  feeAsset: string;
  liquidity: "MAKER" | "TAKER";
  timestampMs: number;
  cumulativeQuantity: string;
  remainingQuantity: string;
  /** The order's status after this fill, on the domain state machine. */
  orderStatus: OrderStatus | undefined;
  /** W3C traceparent of the span that placed the order at the venue (absent when not traced). */
  traceparent?: string;
}

export interface ExecutionFeedOptions {
  /** First sequence to deliver (inclusive). Default 1. */
  fromSequence?: number;
  accountId?: string;
  strategyId?: string;
  initialDelayMs?: number;
  maxDelayMs?: number;
  onDisconnect?: (err: Error | undefined) => void;
}

/** Executions in sequence order, each once across reconnects; `lastSequence` is the resume point. */
export interface ExecutionFeed extends AsyncIterable<ExecutionReport> {
  readonly lastSequence: number;
  readonly isClosed: boolean;
  /** Successful (re)connections so far. */
  readonly connects: number;
  close(): void;
}

export interface ExchangePort {
  placeOrder(args: PlaceOrderArgs): Promise<PlaceOrderResult>;
  cancelOrder(ref: OrderRef): Promise<CancelOrderResult>;
  getOrder(ref: OrderRef): Promise<VenueOrder | undefined>;
  listOpenOrders(filter?: {
    accountId?: string;
    venue?: string;
    symbol?: string;
    strategyId?: string;
  }): Promise<VenueOrder[]>;
  streamExecutions(opts?: ExecutionFeedOptions): ExecutionFeed;
}
