// An in-process venue for unit tests of the engine and the quoter: the exchange and market-data ports with
// answers the test controls (immediate, or held until the test releases them) and an execution feed it pushes to.

import { domainStatusOf } from "../../../lib/adapters/exchangeWire";
import type {
  CancelOrderResult,
  ExchangePort,
  ExecutionFeed,
  ExecutionReport,
  OrderRef,
  PlaceOrderArgs,
  PlaceOrderResult,
  VenueOrder,
  VenueStatus,
} from "../../../lib/ports/Exchange";
import type { MarketDataPort, MarketQuote, QuoteFeed } from "../../../lib/ports/MarketData";

/** A push-driven async iterable (what a stream looks like to the quoter). */
class Channel<T> implements AsyncIterable<T> {
  private readonly queue: T[] = [];
  private waiting: ((r: IteratorResult<T>) => void) | undefined;
  closed = false;
  push(v: T): void {
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = undefined;
      w({ value: v, done: false });
    } else this.queue.push(v);
  }
  close(): void {
    this.closed = true;
    this.waiting?.({ value: undefined as never, done: true });
    this.waiting = undefined;
  }
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        const v = this.queue.shift();
        if (v !== undefined) return Promise.resolve({ value: v, done: false });
        if (this.closed) return Promise.resolve({ value: undefined as never, done: true });
        return new Promise((r) => {
          this.waiting = r;
        });
      },
    };
  }
}

export function venueOrder(args: PlaceOrderArgs, venueStatus: VenueStatus, rejectReason = ""): VenueOrder {
  return {
    orderId: `x-${args.clientOrderId}`,
    clientOrderId: args.clientOrderId,
    strategyId: args.strategyId ?? "",
    venue: args.venue,
    symbol: args.symbol,
    side: args.side,
    quantity: String(args.quantity),
    price: args.price === undefined ? "" : String(args.price),
    filledQuantity: "0",
    remainingQuantity: String(args.quantity),
    venueStatus,
    status: domainStatusOf(venueStatus),
    rejectReason,
  };
}

interface Held<T> {
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
}

export class FakeVenue implements ExchangePort, MarketDataPort {
  /** Every call in order: "place:<coid>", "cancel:<coid>". */
  readonly calls: string[] = [];
  readonly placed: PlaceOrderArgs[] = [];
  /** Hold place answers until `answerPlace` (default: answer NEW at once). */
  holdPlaces = false;
  /** How an immediate place is answered. */
  placeAnswer: (args: PlaceOrderArgs) => Promise<PlaceOrderResult> = async (args) => ({
    order: venueOrder(args, "NEW"),
    duplicate: false,
  });
  readonly heldPlaces = new Map<string, Held<PlaceOrderResult> & { args: PlaceOrderArgs }>();
  /** Hold cancel answers until `answerCancel` (default: answer at once). */
  holdCancels = false;
  readonly heldCancels = new Map<string, () => void>();
  /** Orders the venue holds open (client order id → order). */
  readonly open = new Map<string, VenueOrder>();
  readonly executions = new Channel<ExecutionReport>();
  readonly quotes = new Channel<MarketQuote>();
  private seq = 0;

  placeOrder(args: PlaceOrderArgs): Promise<PlaceOrderResult> {
    this.calls.push(`place:${args.clientOrderId}`);
    this.placed.push(args);
    if (this.holdPlaces)
      return new Promise((resolve, reject) => this.heldPlaces.set(args.clientOrderId, { resolve, reject, args }));
    return this.placeAnswer(args).then((r) => {
      if (r.order?.status === "accepted") this.open.set(args.clientOrderId, r.order);
      return r;
    });
  }

  /** Release a held place with this venue status (or an error). */
  answerPlace(clientOrderId: string, answer: VenueStatus | Error): void {
    const h = this.heldPlaces.get(clientOrderId);
    if (!h) throw new Error(`no held place ${clientOrderId}`);
    this.heldPlaces.delete(clientOrderId);
    if (answer instanceof Error) h.reject(answer);
    else {
      const order = venueOrder(h.args, answer);
      if (answer === "NEW") this.open.set(clientOrderId, order);
      h.resolve({ order, duplicate: false });
    }
  }

  /** Release a held cancel (answered from the venue's book as it then is). */
  answerCancel(clientOrderId: string): void {
    const r = this.heldCancels.get(clientOrderId);
    if (!r) throw new Error(`no held cancel ${clientOrderId}`);
    this.heldCancels.delete(clientOrderId);
    r();
  }

  async cancelOrder(ref: OrderRef): Promise<CancelOrderResult> {
    const key = ref.clientOrderId ?? [...this.open.values()].find((o) => o.orderId === ref.orderId)?.clientOrderId;
    this.calls.push(`cancel:${key}`);
    if (this.holdCancels && key) await new Promise<void>((r) => this.heldCancels.set(key, r));
    const o = key ? this.open.get(key) : undefined;
    if (!o) return { canceled: false, order: undefined };
    this.open.delete(key!);
    return { canceled: true, order: { ...o, venueStatus: "CANCELED", status: "canceled" } };
  }

  async getOrder(ref: OrderRef): Promise<VenueOrder | undefined> {
    return ref.clientOrderId ? this.open.get(ref.clientOrderId) : undefined;
  }

  async listOpenOrders(): Promise<VenueOrder[]> {
    return [...this.open.values()];
  }

  streamExecutions(): ExecutionFeed {
    const ch = this.executions;
    return {
      lastSequence: 0,
      get isClosed() {
        return ch.closed;
      },
      connects: 1,
      close: () => ch.close(),
      [Symbol.asyncIterator]: () => ch[Symbol.asyncIterator](),
    };
  }

  streamQuotes(): QuoteFeed {
    const ch = this.quotes;
    return {
      close: () => ch.close(),
      resetSequences: () => {},
      [Symbol.asyncIterator]: () => ch[Symbol.asyncIterator](),
    };
  }

  /** A fill of an order placed here (the whole remainder unless `quantity`). */
  fill(args: PlaceOrderArgs, quantity = String(args.quantity), remaining = "0"): ExecutionReport {
    const seq = ++this.seq;
    if (remaining === "0") this.open.delete(args.clientOrderId);
    return {
      sequence: seq,
      executionId: `e-${seq}`,
      orderId: `x-${args.clientOrderId}`,
      clientOrderId: args.clientOrderId,
      strategyId: args.strategyId ?? "",
      venue: args.venue,
      symbol: args.symbol,
      side: args.side,
      price: String(args.price),
      quantity,
      fee: "0",
      feeAsset: "USD",
      liquidity: "MAKER",
      timestampMs: Date.now(),
      cumulativeQuantity: quantity,
      remainingQuantity: remaining,
      orderStatus: remaining === "0" ? "filled" : "partially-filled",
    };
  }
}

let quoteSeq = 0;
export function quote(bid: number, ask: number, venue = "venue-a", symbol = "BTC-USD"): MarketQuote {
  return {
    venue,
    symbol,
    bid: bid.toFixed(2),
    ask: ask.toFixed(2),
    bidSize: "1",
    askSize: "1",
    sequence: ++quoteSeq,
    timestamp: Date.now(),
  };
}
