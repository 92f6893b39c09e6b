// Dispatch and its results: what a decision produced goes to the venue, each call on its own (the tick handler
// never awaits them), and every answer moves the order on the engine's OrderTracker.
import { decimalToNumber } from "../lib/domain/strategies/quoteMath";
import type { OrderEventView } from "../lib/domain/strategies/Strategy";
import { OrderNotPlacedError } from "../lib/engine/OrderJournal";
import type { OrderTracker, TrackedOrder } from "../lib/engine/OrderTracker";
import { InvalidArgumentError, NotFoundError, RejectedError } from "../lib/grpc/errors";
import type { ExchangePort, PlaceOrderArgs, PlaceOrderResult } from "../lib/ports/Exchange";
import type { OrderHopRecorder } from "../lib/telemetry/orderHops";
import { captureTraceScope, inTraceScope, type TraceScope } from "../lib/telemetry/spans";
import { type QuoterCounters, type QuoterLogger, sleep } from "./types";

/** Refusals that are final (the order never rests): no cancel needed to find out. */
const isRefusal = (err: unknown) =>
  err instanceof InvalidArgumentError || err instanceof RejectedError || err instanceof OrderNotPlacedError;
const POST_ONLY = /post.?only/i;
const MAX_SCOPES = 10_000;

export interface DispatcherOptions {
  exchange: ExchangePort;
  tracker: OrderTracker;
  counters: QuoterCounters;
  log: QuoterLogger;
  accountId: string;
  now: () => number;
  /** An order closed without filling (the strategy hears of it). */
  onClosed: (o: TrackedOrder, kind: OrderEventView["kind"] | undefined, reason?: string) => void;
  /** Hop instants for the latency waterfall (place, ack). */
  hops?: OrderHopRecorder;
  /** Defers the rest of a tick's calls (default setImmediate: the lead's frame is flushed on its own first). */
  defer?: (fn: () => void) => void;
}

/**
 * The order of a tick's calls:
 * 1. the lead: the first place that cannot cross any order of ours that may rest, sent in the tick's own turn, alone
 *    (its HTTP/2 frame is flushed before anything else is built);
 * 2. in the next turn (the same one when the tick cancels nothing), the other places that cannot cross, then the
 *    cancels;
 * 3. a post-only place that would cross an order of ours that may still rest is held until that order is gone
 *    (its cancel confirmed, or filled), never for a timer: the exchange does not always serve concurrent calls in
 *    the order they were sent, so a place sent behind its cancel can still overtake it and be rejected post-only.
 */
export class Dispatcher {
  private readonly places: TrackedOrder[] = [];
  private readonly cancels: TrackedOrder[] = [];
  private readonly held: TrackedOrder[] = [];
  /** Calls whose answer is not handled yet (their handlers remove them: no extra promise per call). */
  private readonly inflight = new Set<Promise<unknown>>();
  private flushScheduled = false;
  // Tracing on: the trace scope (the tick) each queued call belongs to, resumed when it goes out (maybe in a later
  // turn); taken when sent.
  private readonly placeScopes = new Map<TrackedOrder, TraceScope>();
  private readonly cancelScopes = new Map<TrackedOrder, TraceScope>();
  private readonly defer: (fn: () => void) => void;
  private readonly flushRest = () => {
    this.flushScheduled = false;
    this.flush();
  };

  constructor(private readonly o: DispatcherOptions) {
    this.defer = o.defer ?? setImmediate;
  }

  queuePlace(order: TrackedOrder): void {
    this.places.push(order);
    this.o.hops?.queued(order.clientOrderId);
    this.keepScope(this.placeScopes, order);
  }

  /** A cancel intent: queued once per order (sent after the tick's lead place, before the others). */
  queueCancel(order: TrackedOrder): void {
    if (order.pendingCancel) return;
    // A cancel for an order not sent yet just drops it (requestCancel closes it).
    if (!this.o.tracker.requestCancel(order, this.o.now())) return;
    this.cancels.push(order);
    this.keepScope(this.cancelScopes, order);
  }

  /** Sends the lead now; the rest goes in the next turn (see the class comment). */
  dispatch(): void {
    const places = this.places;
    if (places.length === 0 && this.cancels.length === 0) return;
    for (let i = 0; i < places.length; i++) {
      const o = places[i]!;
      if (this.crossesOwn(o)) continue;
      places.splice(i, 1);
      this.sendPlace(o);
      break;
    }
    if (this.cancels.length === 0)
      this.flush(); // nothing to replace: no call worth deferring behind the lead
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      this.defer(this.flushRest);
    }
  }

  /**
   * Everything queued, now: the other places that cannot cross our orders, the cancels, and the places that
   * would cross an order of ours that may rest, held until it is gone.
   */
  flush(): void {
    const places = this.places;
    let crossing = 0;
    for (let i = 0; i < places.length; i++) {
      const o = places[i]!;
      if (this.crossesOwn(o)) places[crossing++] = o;
      else this.sendPlace(o);
    }
    places.length = crossing;
    const cancels = this.cancels;
    for (let i = 0; i < cancels.length; i++) this.sendCancel(cancels[i]!);
    cancels.length = 0;
    for (let i = 0; i < places.length; i++) {
      const o = places[i]!;
      if (this.crossesOwn(o)) {
        this.held.push(o);
        this.o.counters.placesHeld++;
      } else this.sendPlace(o);
    }
    places.length = 0;
  }

  /** Places held (waiting for an own crossing order to go). */
  get heldCount(): number {
    return this.held.length;
  }

  /** An order of ours has closed (or a cancel been confirmed): held places that no longer cross go out. */
  releaseHeld(): void {
    const held = this.held;
    if (held.length === 0) return;
    let keep = 0;
    for (let i = 0; i < held.length; i++) {
      const o = held[i]!;
      if (!this.o.tracker.has(o) || o.status !== "pending-new") continue; // canceled while held
      if (this.crossesOwn(o)) held[keep++] = o;
      else this.sendPlace(o);
    }
    held.length = keep;
  }

  /**
   * True when a post-only limit order would cross an opposite-side order of ours on its book that may rest
   * (sent and not closed; a decided order not yet sent is not on the book).
   */
  private crossesOwn(o: TrackedOrder): boolean {
    const intent = o.intent;
    if (!intent.postOnly || intent.type !== "LIMIT" || intent.limitPrice === undefined) return false;
    const px = decimalToNumber(intent.limitPrice);
    const buy = o.side === "BUY";
    for (const other of this.o.tracker.values()) {
      if (other.side === o.side || other.venue !== o.venue || other.symbol !== o.symbol) continue;
      if (other.status === "pending-new" || other.limitPrice === undefined) continue; // a market order never rests
      const opx = decimalToNumber(other.limitPrice);
      if (buy ? px >= opx : px <= opx) return true;
    }
    return false;
  }

  /** A post-only rejection while an own order it crosses still lives is our own ordering's doing. */
  private countRejection(o: TrackedOrder, reason: string | undefined): void {
    const c = this.o.counters;
    c.ordersRejected++;
    if (reason !== undefined && POST_ONLY.test(reason) && this.crossesOwn(o)) c.ordersRejectedSelfCross++;
    else c.ordersRejectedOther++;
  }

  private keepScope(scopes: Map<TrackedOrder, TraceScope>, o: TrackedOrder): void {
    const scope = captureTraceScope();
    if (scope === undefined) return;
    if (scopes.size >= MAX_SCOPES) scopes.delete(scopes.keys().next().value!); // calls never sent
    scopes.set(o, scope);
  }

  private takeScope(scopes: Map<TrackedOrder, TraceScope>, o: TrackedOrder): TraceScope | undefined {
    if (scopes.size === 0) return undefined;
    const scope = scopes.get(o);
    if (scope !== undefined) scopes.delete(o);
    return scope;
  }

  private place(o: TrackedOrder): Promise<PlaceOrderResult> {
    const intent = o.intent;
    const args: PlaceOrderArgs = {
      clientOrderId: o.clientOrderId,
      venue: o.venue,
      symbol: o.symbol,
      side: o.side,
      type: intent.type,
      quantity: intent.quantity,
      timeInForce: intent.timeInForce,
      postOnly: intent.postOnly,
      strategyId: o.strategyId,
      accountId: this.o.accountId,
      riskChecked: true,
      riskCheckId: `quoter-risk:${o.clientOrderId}`,
    };
    if (intent.limitPrice !== undefined) args.price = intent.limitPrice;
    return this.o.exchange.placeOrder(args);
  }

  private sendPlace(o: TrackedOrder): void {
    const { tracker, counters, log } = this.o;
    const scope = this.takeScope(this.placeScopes, o);
    if (!tracker.has(o) || o.status !== "pending-new") return; // canceled before it went out
    counters.ordersPlaced++;
    tracker.sent(o, this.o.now());
    this.o.hops?.placed(o.clientOrderId);
    const p: Promise<void> = (scope ? inTraceScope(scope, () => this.place(o)) : this.place(o)).then(
      (res) => {
        this.inflight.delete(p);
        const v = res.order;
        const st = v?.status;
        if (st === "rejected" || st === "canceled" || st === "expired") {
          if (st === "rejected") this.countRejection(o, v?.rejectReason);
          o.outstanding = "none";
          if (tracker.close(o, st, this.o.now(), v?.rejectReason))
            this.o.onClosed(
              o,
              st === "rejected" ? "REJECTED" : st === "expired" ? "EXPIRED" : "CANCELED",
              v?.rejectReason,
            );
          this.releaseHeld();
          return;
        }
        counters.ordersAcked++;
        this.o.hops?.acked(o.clientOrderId);
        const next = tracker.placeAnswered(o, st, v?.orderId ?? "", this.o.now());
        if (st === "filled") return; // the execution stream closes it
        if (next === "cancel") this.sendCancel(o);
      },
      (err: unknown) => {
        this.inflight.delete(p);
        counters.placeErrors++;
        log.warn("place failed", { clientOrderId: o.clientOrderId, error: String(err) });
        if (isRefusal(err)) {
          o.outstanding = "none";
          if (tracker.close(o, "rejected", this.o.now(), String(err))) this.o.onClosed(o, "REJECTED", String(err));
          this.releaseHeld();
          return;
        }
        // Unknown outcome (deadline, peer down): the order may rest on the book. Cancel by client order id
        // (idempotent; NOT_FOUND means it never landed) before forgetting it.
        if (tracker.placeUnknown(o, this.o.now())) this.sendCancel(o);
      },
    );
    this.inflight.add(p);
  }

  private cancel(o: TrackedOrder) {
    return this.o.exchange.cancelOrder({ clientOrderId: o.clientOrderId, accountId: this.o.accountId });
  }

  sendCancel(o: TrackedOrder): void {
    const { tracker, counters, log } = this.o;
    if (!o.acked || o.outstanding !== "none" || !tracker.has(o)) return; // sent after the place answers
    tracker.cancelSent(o);
    counters.cancelsSent++;
    const scope = this.takeScope(this.cancelScopes, o);
    const p: Promise<void> = (scope ? inTraceScope(scope, () => this.cancel(o)) : this.cancel(o)).then(
      (res) => {
        this.inflight.delete(p);
        counters.cancelsConfirmed++;
        o.outstanding = "none";
        const st = res.order?.status;
        // Not canceled because already closed: filled (executions close it) or rejected/expired.
        if (res.canceled || st === undefined || st === "canceled" || st === "rejected" || st === "expired") {
          if (tracker.close(o, "canceled", this.o.now())) this.o.onClosed(o, "CANCELED");
        } else if (st === "filled") tracker.close(o, "filled", this.o.now());
        this.releaseHeld();
      },
      (err: unknown) => {
        this.inflight.delete(p);
        if (err instanceof NotFoundError) {
          o.outstanding = "none";
          if (tracker.close(o, "canceled", this.o.now())) this.o.onClosed(o, "CANCELED");
          this.releaseHeld();
          return;
        }
        counters.cancelErrors++;
        tracker.cancelFailed(o); // the timer retries
        log.warn("cancel failed; will retry", { clientOrderId: o.clientOrderId, error: String(err) });
      },
    );
    this.inflight.add(p);
  }

  /** Cancels wanted whose earlier attempt failed or whose place has just been answered. */
  retryCancels(): void {
    for (const o of this.o.tracker.cancelsDue()) this.sendCancel(o);
  }

  /** Cancels every open order (optionally of one strategy). Orders not yet acknowledged are canceled on the ack. */
  cancelAll(strategyId?: string): number {
    let n = 0;
    const now = this.o.now();
    for (const o of [...this.o.tracker.values()]) {
      if (strategyId && o.strategyId !== strategyId) continue;
      if (this.o.tracker.requestCancel(o, now)) this.sendCancel(o);
      n++;
    }
    return n;
  }

  async cancelAllAndWait(timeoutMs: number, strategyId?: string): Promise<void> {
    const deadline = this.o.now() + timeoutMs;
    const left = () => [...this.o.tracker.values()].filter((o) => !strategyId || o.strategyId === strategyId).length;
    while (left() > 0 && this.o.now() < deadline) {
      this.cancelAll(strategyId);
      await Promise.race([Promise.allSettled([...this.inflight]), sleep(50)]);
    }
    if (left() > 0) this.o.log.error("open orders remain after cancel-all", { remaining: left(), strategyId });
  }
}
