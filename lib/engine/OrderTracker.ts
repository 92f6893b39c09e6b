// The life of each order this process placed, on the domain order state machine (lib/domain/orders):
// pending-new (decided) → submitted (sent) → accepted / partially-filled → filled | canceled | rejected | expired,
// with pending-cancel once a cancel is wanted. Besides the order, the tracker keeps the one request outstanding at
// the venue for it (a place or a cancel awaiting its answer): a cancel goes out only once the place is answered
// (a cancel by client order id that overtakes its place would find nothing and the order would then rest).
import type { Decimal } from "../domain/decimal";
import { applyFill, createOrder, FillError, IllegalTransitionError, type Order, transition } from "../domain/orders";
import { canTransition, type OrderStatus } from "../domain/orders/orderStatus";
import type { OpenOrderView } from "../domain/strategies/Strategy";
import type { OrderIntent, Side } from "../domain/types";
import type { ExchangePort } from "../ports/Exchange";

export type Outstanding = "none" | "place" | "cancel";

/** One live order; also the strategy's view of it (getters read the current domain order). */
export class TrackedOrder implements OpenOrderView {
  order: Order;
  outstanding: Outstanding = "none";
  readonly orderId: string;
  readonly clientOrderId: string;
  readonly strategyId: string;
  readonly venue: string;
  readonly symbol: string;
  readonly side: Side;
  readonly quantity: Decimal;
  readonly limitPrice: Decimal | undefined;
  readonly tag: string | undefined;
  readonly createdAt: number;

  constructor(
    readonly intent: OrderIntent,
    clientOrderId: string,
    now: number,
  ) {
    this.order = createOrder(intent, { clientOrderId }, now);
    this.orderId = clientOrderId;
    this.clientOrderId = clientOrderId;
    this.strategyId = intent.strategyId;
    this.venue = intent.venue;
    this.symbol = intent.symbol;
    this.side = intent.side;
    this.quantity = this.order.quantity;
    this.limitPrice = intent.limitPrice;
    this.tag = intent.tag;
    this.createdAt = now;
  }
  get status(): OrderStatus {
    return this.order.status;
  }
  get remainingQuantity(): Decimal {
    return this.order.remainingQuantity;
  }
  get pendingCancel(): boolean {
    return this.order.status === "pending-cancel";
  }
  get exchangeOrderId(): string | undefined {
    return this.order.exchangeOrderId;
  }
  /** The venue answered the place (or its outcome is unknown and a cancel must find out). */
  get acked(): boolean {
    return this.order.status !== "pending-new" && this.outstanding !== "place";
  }
}

/** What the venue's answer to a place leaves to do. */
export type PlaceOutcome = "open" | "cancel" | "closed";

export class OrderTracker {
  private readonly orders = new Map<string, TrackedOrder>();
  /** Each strategy's open orders (stable arrays: strategies' contexts hand them out as is). */
  private readonly byStrategy = new Map<string, TrackedOrder[]>();

  get size(): number {
    return this.orders.size;
  }
  get(clientOrderId: string): TrackedOrder | undefined {
    return this.orders.get(clientOrderId);
  }
  values(): IterableIterator<TrackedOrder> {
    return this.orders.values();
  }
  has(o: TrackedOrder): boolean {
    return this.orders.get(o.clientOrderId) === o;
  }

  /** The open orders of one strategy (the same array for the strategy's whole life). */
  openOf(strategyId: string): TrackedOrder[] {
    let list = this.byStrategy.get(strategyId);
    if (!list) {
      list = [];
      this.byStrategy.set(strategyId, list);
    }
    return list;
  }

  /** A decided order (pending-new), tracked until it closes. */
  open(intent: OrderIntent, clientOrderId: string, now: number): TrackedOrder {
    const o = new TrackedOrder(intent, clientOrderId, now);
    this.orders.set(clientOrderId, o);
    this.openOf(o.strategyId).push(o);
    return o;
  }

  /** The place request is on its way. */
  sent(o: TrackedOrder, now: number): void {
    o.order = transition(o.order, "submitted", now);
    o.outstanding = "place";
  }

  /**
   * The venue answered the place with `status` (undefined: no order in the answer). A closed answer closes the
   * order; an open one is accepted, and a cancel wanted meanwhile may go out now.
   */
  placeAnswered(o: TrackedOrder, status: OrderStatus | undefined, exchangeOrderId: string, now: number): PlaceOutcome {
    o.outstanding = "none";
    if (exchangeOrderId) o.order = { ...o.order, exchangeOrderId };
    if (status === "rejected" || status === "canceled" || status === "expired") {
      this.close(o, status, now);
      return "closed";
    }
    if (o.order.status === "submitted") o.order = transition(o.order, "accepted", now);
    return o.order.status === "pending-cancel" ? "cancel" : "open";
  }

  /** The place failed with an unknown outcome (deadline, peer down): it may rest, so cancel it to find out. */
  placeUnknown(o: TrackedOrder, now: number): boolean {
    o.outstanding = "none";
    return this.requestCancel(o, now);
  }

  /** A cancel is wanted. true when it may be sent now (the place is answered and no cancel is in flight). */
  requestCancel(o: TrackedOrder, now: number): boolean {
    if (!this.has(o)) return false;
    const st = o.order.status;
    if (st !== "pending-cancel") {
      if (st === "pending-new") {
        // Decided but never sent: nothing rests on the venue.
        this.close(o, "canceled", now);
        return false;
      }
      if (!canTransition(st, "pending-cancel")) return false;
      o.order = transition(o.order, "pending-cancel", now);
    }
    return o.outstanding === "none";
  }

  /** Orders whose cancel is wanted, whose place is answered and with nothing in flight (the timer retries). */
  *cancelsDue(): Iterable<TrackedOrder> {
    for (const o of this.orders.values()) if (o.order.status === "pending-cancel" && o.outstanding === "none") yield o;
  }

  cancelSent(o: TrackedOrder): void {
    o.outstanding = "cancel";
  }
  cancelFailed(o: TrackedOrder): void {
    if (o.outstanding === "cancel") o.outstanding = "none";
  }

  /**
   * An execution of this order. The venue's remaining quantity is the truth: when the domain order disagrees
   * (an execution it cannot take), the order is closed once the venue says nothing remains.
   * Returns true when the order is done.
   */
  fill(o: TrackedOrder, quantity: string, price: string, fee: string, remaining: Decimal, now: number): boolean {
    try {
      o.order = applyFill(o.order, { quantity, price, fee }, now);
    } catch (e) {
      if (!(e instanceof FillError) && !(e instanceof IllegalTransitionError)) throw e;
    }
    const done = remaining.isZero() || o.order.status === "filled";
    if (done) this.close(o, "filled", now);
    return done;
  }

  /** Stop tracking; the order moves to `to` when that is still legal (a venue's late word never breaks it). */
  close(o: TrackedOrder, to: OrderStatus, now: number, errorMessage?: string): boolean {
    if (!this.has(o)) return false;
    this.orders.delete(o.clientOrderId);
    const list = this.byStrategy.get(o.strategyId);
    const i = list ? list.indexOf(o) : -1;
    if (i >= 0) list!.splice(i, 1);
    // "filled" on the venue's word while fills are still on their way: the order stays as its fills left it.
    const legal = canTransition(o.order.status, to) && (to !== "filled" || o.order.remainingQuantity.isZero());
    if (o.order.status !== to && legal)
      o.order = transition(o.order, to, now, errorMessage ? { errorMessage } : undefined);
    return true;
  }

  /**
   * At start-up: orders of these strategies left open on the venue by an earlier process are canceled.
   * Returns how many.
   */
  static async sweepOrphans(
    exchange: Pick<ExchangePort, "listOpenOrders" | "cancelOrder">,
    accountId: string,
    strategyIds: ReadonlySet<string>,
  ): Promise<number> {
    if (strategyIds.size === 0) return 0;
    const open = await exchange.listOpenOrders({ accountId });
    const mine = open.filter((o) => strategyIds.has(o.strategyId));
    for (const o of mine) await exchange.cancelOrder({ orderId: o.orderId, accountId });
    return mine.length;
  }
}
