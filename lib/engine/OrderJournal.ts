// The order journal: every order in the state store before it reaches the exchange, and every status move the
// exchange's answers decide written once, here. A decorator over the exchange port (the quoter places through
// it); order-placement, which claims its orders itself, uses `record`, `claim` and `moveOrder`.
// Fill handling books executions only against known orders, so an unjournaled order's fills would be refused.
// The journal keeps the last version it wrote of each live order, so a status move is one conditional write
// (no read): on LocalStack a read per move made the quoter's journal most of all DynamoDB requests.
import { LRUCache } from "lru-cache";
import { dec } from "../domain/decimal";
import { createOrder, IllegalTransitionError, type Order } from "../domain/orders";
import { canTransition, type OrderStatus, TERMINAL_STATUSES } from "../domain/orders/orderStatus";
import { type Clock, systemClock } from "../ports/Clock";
import type {
  CancelOrderResult,
  ExchangePort,
  ExecutionFeed,
  ExecutionFeedOptions,
  OrderRef,
  PlaceOrderArgs,
  PlaceOrderResult,
  VenueOrder,
} from "../ports/Exchange";
import { type OrderRepository, VersionConflictError, type VersionedOrder } from "../ports/StateStore";

/** An order the journal refused to send (trading halted while it was being written). */
export class OrderNotPlacedError extends Error {
  override name = "OrderNotPlacedError";
  constructor(
    readonly clientOrderId: string,
    readonly reason: string,
  ) {
    super(`not placed: ${reason}`);
  }
}

export interface OrderJournalOptions {
  store: OrderRepository;
  clock?: Clock;
  /** Best-effort writes that failed (the journal never throws them at the caller). */
  onError?: (msg: string, err: unknown) => void;
  /** true, or why an order may not go out now (e.g. trading HALTED). Checked after the journal write. */
  mayPlace?: (strategyId: string | undefined) => true | string;
}

export interface StatusExtra {
  exchangeOrderId?: string;
  errorMessage?: string;
}

export class OrderJournal implements ExchangePort {
  journaled = 0;
  journalErrors = 0;
  private readonly store: OrderRepository;
  private readonly clock: Clock;
  private readonly onError: (msg: string, err: unknown) => void;
  private readonly mayPlace: (strategyId: string | undefined) => true | string;
  /** The last version this journal wrote or read of each order it may still move (bounded). */
  private readonly known = new LRUCache<string, VersionedOrder>({ max: 10_000 });

  constructor(
    readonly inner: ExchangePort,
    opts: OrderJournalOptions,
  ) {
    this.store = opts.store;
    this.clock = opts.clock ?? systemClock;
    this.onError = opts.onError ?? (() => {});
    this.mayPlace = opts.mayPlace ?? (() => true);
  }

  /** The pending-new record (conditional put: a repeat returns the existing one). */
  async record(order: Order): Promise<{ created: boolean; order: VersionedOrder }> {
    const r = await this.store.createPendingOrder(order);
    const v = r.created ? r.order : r.existing;
    this.known.set(order.clientOrderId, v);
    return { created: r.created, order: v };
  }

  /** An order written elsewhere (e.g. in the placement's transaction): its version seeds later moves. */
  remember(order: VersionedOrder): VersionedOrder {
    this.known.set(order.order.clientOrderId, order);
    return order;
  }

  /**
   * pending-new → submitted at `version`: whoever wins this version-checked write owns sending the order.
   * false when another writer got there first.
   */
  async claim(order: Order, version: number, at: number): Promise<boolean> {
    try {
      const v = await this.store.updateOrderStatus(order.clientOrderId, version, { status: "submitted", at }, order);
      this.known.set(order.clientOrderId, v);
      return true;
    } catch (e) {
      if (e instanceof VersionConflictError) return false;
      throw e;
    }
  }

  /**
   * Move an order to `to` from wherever it is now (re-reading on a version conflict). No-op when it is already
   * there, finished, or the move is no longer legal (a fill got there first). pending-new steps through submitted.
   */
  async moveOrder(clientOrderId: string, to: OrderStatus, at: number, extra: StatusExtra = {}) {
    let cur = this.known.get(clientOrderId);
    try {
      for (let attempt = 0; attempt < 5; attempt++) {
        cur ??= await this.store.getOrder(clientOrderId);
        if (!cur) return undefined;
        const o = cur.order;
        if (o.status === to || TERMINAL_STATUSES.has(o.status)) return o;
        // An ack after a fill: the fill already moved the order on.
        if (to === "accepted" && o.status !== "pending-new" && o.status !== "submitted") return o;
        const step = o.status === "pending-new" && !canTransition("pending-new", to) ? "submitted" : to;
        try {
          cur = await this.store.updateOrderStatus(clientOrderId, cur.version, { status: step, at, ...extra }, o);
          this.known.set(clientOrderId, cur);
          if (step === to) return cur.order;
        } catch (e) {
          if (e instanceof VersionConflictError) {
            cur = undefined;
            continue;
          }
          if (e instanceof IllegalTransitionError) return o;
          throw e;
        }
      }
      cur = await this.store.getOrder(clientOrderId);
      return cur?.order;
    } finally {
      // Nothing moves a finished order again.
      if (!cur || TERMINAL_STATUSES.has(cur.order.status)) this.known.delete(clientOrderId);
    }
  }

  /** Best effort: failures are reported, never thrown (fills move the record on their own). */
  private mark(clientOrderId: string, to: OrderStatus, extra?: StatusExtra): void {
    this.moveOrder(clientOrderId, to, this.clock(), extra).catch((e) => this.onError("order status not written", e));
  }

  async placeOrder(args: PlaceOrderArgs): Promise<PlaceOrderResult> {
    try {
      await this.record(
        createOrder(
          {
            strategyId: args.strategyId ?? "quoter",
            venue: args.venue,
            symbol: args.symbol,
            side: args.side,
            type: args.type,
            timeInForce: args.timeInForce ?? "GTC",
            postOnly: args.postOnly ?? false,
            quantity: dec(args.quantity),
            ...(args.price !== undefined ? { limitPrice: dec(args.price) } : {}),
          },
          { clientOrderId: args.clientOrderId },
          this.clock(),
        ),
      );
      this.journaled++;
    } catch (e) {
      // Not journaled → its fills would be refused by fill handling: don't send it.
      this.journalErrors++;
      this.onError("order not journaled; not placed", e);
      throw e;
    }
    // The journal write took time: if trading was halted meanwhile, the order must not reach the exchange.
    const gate = this.mayPlace(args.strategyId);
    if (gate !== true) {
      this.mark(args.clientOrderId, "rejected");
      throw new OrderNotPlacedError(args.clientOrderId, gate);
    }
    const res = await this.inner.placeOrder(args);
    const st = res.order?.status;
    // Fills move the record themselves; what the answer alone decides is recorded here.
    const to = st === "rejected" || st === "expired" || st === "canceled" ? st : "accepted";
    this.mark(args.clientOrderId, to, res.order?.orderId ? { exchangeOrderId: res.order.orderId } : undefined);
    return res;
  }

  async cancelOrder(ref: OrderRef): Promise<CancelOrderResult> {
    const res = await this.inner.cancelOrder(ref);
    if (ref.clientOrderId) this.mark(ref.clientOrderId, "canceled");
    return res;
  }

  getOrder(ref: OrderRef): Promise<VenueOrder | undefined> {
    return this.inner.getOrder(ref);
  }

  listOpenOrders(filter?: { accountId?: string; venue?: string; symbol?: string; strategyId?: string }) {
    return this.inner.listOpenOrders(filter);
  }

  /** Orders held for later moves (bounded; an order leaves when it finishes: a move, or a fill that ends it). */
  get tracked(): number {
    return this.known.size;
  }

  streamExecutions(opts?: ExecutionFeedOptions): ExecutionFeed {
    const feed = this.inner.streamExecutions(opts);
    const known = this.known;
    return {
      get lastSequence() {
        return feed.lastSequence;
      },
      get isClosed() {
        return feed.isClosed;
      },
      get connects() {
        return feed.connects;
      },
      close: () => feed.close(),
      async *[Symbol.asyncIterator]() {
        for await (const e of feed) {
          // Fill handling moves a filled order on in the store; nothing here moves it again, so stop holding it.
          if (e.orderStatus && TERMINAL_STATUSES.has(e.orderStatus)) known.delete(e.clientOrderId);
          yield e;
        }
      },
    };
  }
}
