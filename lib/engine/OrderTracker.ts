// The life of each order this process placed, on the domain order state machine (lib/domain/orders):
// pending-new (decided) → submitted (sent) → accepted / partially-filled → filled | canceled | rejected | expired,
// with pending-cancel once a cancel is wanted. Every move is checked against the domain's transition table; the
// tracked order is mutated in place (the decision path moves several orders per tick and must not allocate for
// it). Besides the status, the tracker keeps the one request outstanding at the venue for each order (a place or
// a cancel awaiting its answer): a cancel goes out only once the place is answered (a cancel by client order id
// that overtakes its place would find nothing, and the order would then rest).
import type { Decimal } from "../domain/decimal";
import { IllegalTransitionError } from "../domain/orders";
import { canTransition, type OrderStatus } from "../domain/orders/orderStatus";
import type { OpenOrderView } from "../domain/strategies/Strategy";
import type { OrderIntent, Side } from "../domain/types";
import type { ExchangePort } from "../ports/Exchange";

export type Outstanding = "none" | "place" | "cancel";

/** One live order; also the strategy's view of it. */
export class TrackedOrder implements OpenOrderView {
  status: OrderStatus = "pending-new";
  outstanding: Outstanding = "none";
  remainingQuantity: Decimal;
  exchangeOrderId: string | undefined = undefined;
  /** Why it ended, when the venue said. */
  errorMessage: string | undefined = undefined;
  updatedAt: number;
  readonly orderId: string;
  readonly strategyId: string;
  readonly venue: string;
  readonly symbol: string;
  readonly side: Side;
  readonly quantity: Decimal;
  readonly limitPrice: Decimal | undefined;
  readonly tag: string | undefined;

  constructor(
    readonly intent: OrderIntent,
    readonly clientOrderId: string,
    readonly createdAt: number,
  ) {
    this.orderId = clientOrderId;
    this.strategyId = intent.strategyId;
    this.venue = intent.venue;
    this.symbol = intent.symbol;
    this.side = intent.side;
    this.quantity = intent.quantity;
    this.remainingQuantity = intent.quantity;
    this.limitPrice = intent.limitPrice;
    this.tag = intent.tag;
    this.updatedAt = createdAt;
  }
  get pendingCancel(): boolean {
    return this.status === "pending-cancel";
  }
  /** The venue answered the place (or its outcome is unknown and a cancel must find out). */
  get acked(): boolean {
    return this.status !== "pending-new" && this.outstanding !== "place";
  }
  /** A move on the domain state machine (IllegalTransitionError if it is not one). */
  moveTo(to: OrderStatus, now: number): void {
    if (!canTransition(this.status, to)) throw new IllegalTransitionError(this.status, to, this.orderId);
    this.status = to;
    this.updatedAt = now;
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
    o.moveTo("submitted", now);
    o.outstanding = "place";
  }

  /**
   * The venue answered the place with `status` (undefined: no order in the answer). A closed answer closes the
   * order; an open one is accepted, and a cancel wanted meanwhile may go out now.
   */
  placeAnswered(o: TrackedOrder, status: OrderStatus | undefined, exchangeOrderId: string, now: number): PlaceOutcome {
    o.outstanding = "none";
    if (exchangeOrderId) o.exchangeOrderId = exchangeOrderId;
    if (status === "rejected" || status === "canceled" || status === "expired") {
      this.close(o, status, now);
      return "closed";
    }
    if (o.status === "submitted") o.moveTo("accepted", now);
    return o.status === "pending-cancel" ? "cancel" : "open";
  }

  /** The place failed with an unknown outcome (deadline, peer down): it may rest, so cancel it to find out. */
  placeUnknown(o: TrackedOrder, now: number): boolean {
    o.outstanding = "none";
    return this.requestCancel(o, now);
  }

  /** A cancel is wanted. true when it may be sent now (the place is answered and no cancel is in flight). */
  requestCancel(o: TrackedOrder, now: number): boolean {
    if (!this.has(o)) return false;
    const st = o.status;
    if (st !== "pending-cancel") {
      if (st === "pending-new") {
        // Decided but never sent: nothing rests on the venue.
        this.close(o, "canceled", now);
        return false;
      }
      if (!canTransition(st, "pending-cancel")) return false;
      o.status = "pending-cancel";
      o.updatedAt = now;
    }
    return o.outstanding === "none";
  }

  /** Orders whose cancel is wanted, whose place is answered and with nothing in flight (the timer retries). */
  *cancelsDue(): Iterable<TrackedOrder> {
    for (const o of this.orders.values()) if (o.status === "pending-cancel" && o.outstanding === "none") yield o;
  }

  cancelSent(o: TrackedOrder): void {
    o.outstanding = "cancel";
  }
  cancelFailed(o: TrackedOrder): void {
    if (o.outstanding === "cancel") o.outstanding = "none";
  }

  /**
   * An execution of this order: the venue's remaining quantity is the truth. The status moves to partially-filled
   * (kept pending-cancel while a cancel is pending) or, once nothing remains, filled and the order closes.
   * Returns true when the order is done.
   */
  fill(o: TrackedOrder, remaining: Decimal, now: number): boolean {
    o.remainingQuantity = remaining;
    if (remaining.isZero()) {
      this.close(o, "filled", now);
      return true;
    }
    if (o.status !== "pending-cancel" && canTransition(o.status, "partially-filled")) o.moveTo("partially-filled", now);
    return false;
  }

  /** Stop tracking; the order moves to `to` when that is still legal (a venue's late word never breaks it). */
  close(o: TrackedOrder, to: OrderStatus, now: number, errorMessage?: string): boolean {
    if (!this.has(o)) return false;
    this.orders.delete(o.clientOrderId);
    const list = this.byStrategy.get(o.strategyId);
    const i = list ? list.indexOf(o) : -1;
    if (i >= 0) list!.splice(i, 1);
    // "filled" on the venue's word while fills are still on their way: the order stays as its fills left it.
    const legal = canTransition(o.status, to) && (to !== "filled" || o.remainingQuantity.isZero());
    if (o.status !== to && legal) o.moveTo(to, now);
    if (errorMessage) o.errorMessage = errorMessage;
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
