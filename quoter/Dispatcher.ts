// Dispatch and its results: what a decision produced goes to the venue, each call on its own (the tick handler
// never awaits them), and every answer moves the order on the engine's OrderTracker.
import { decimalToNumber } from "../lib/domain/strategies/quoteMath";
import type { OrderEventView } from "../lib/domain/strategies/Strategy";
import { OrderNotPlacedError } from "../lib/engine/OrderJournal";
import type { OrderTracker, TrackedOrder } from "../lib/engine/OrderTracker";
import { InvalidArgumentError, NotFoundError, RejectedError } from "../lib/grpc/errors";
import type { ExchangePort } from "../lib/ports/Exchange";
import { type QuoterCounters, type QuoterLogger, sleep } from "./types";

type Outbound = { kind: "place"; order: TrackedOrder; sent: boolean } | { kind: "cancel"; order: TrackedOrder };

/** Refusals that are final (the order never rests): no cancel needed to find out. */
const isRefusal = (err: unknown) =>
  err instanceof InvalidArgumentError || err instanceof RejectedError || err instanceof OrderNotPlacedError;

export interface DispatcherOptions {
  exchange: ExchangePort;
  tracker: OrderTracker;
  counters: QuoterCounters;
  log: QuoterLogger;
  accountId: string;
  now: () => number;
  /** An order closed without filling (the strategy hears of it). */
  onClosed: (o: TrackedOrder, kind: OrderEventView["kind"] | undefined, reason?: string) => void;
}

export class Dispatcher {
  private readonly outbound: Outbound[] = [];
  private readonly inflight = new Set<Promise<unknown>>();

  constructor(private readonly o: DispatcherOptions) {}

  queuePlace(order: TrackedOrder): void {
    this.outbound.push({ kind: "place", order, sent: false });
  }

  /** A cancel intent: queued once per order (sent after the tick's safe places, before the others). */
  queueCancel(order: TrackedOrder): void {
    if (order.pendingCancel) return;
    // A cancel for an order not sent yet just drops it (requestCancel closes it).
    if (this.o.tracker.requestCancel(order, this.o.now())) this.outbound.push({ kind: "cancel", order });
  }

  /**
   * Sends what the decision produced. A post-only place that cannot cross any order of ours still on the book
   * goes out first, ahead of the cancels (the first order of a tick then does not queue behind a cancel on the
   * wire and at the exchange). A replaced quote only crosses our OPPOSITE side, never the old quote it replaces,
   * so this is safe whatever the cancels' fate. Every other place is sent after all the cancels (the exchange
   * may still serve concurrent calls out of order, so this narrows, but does not close, the window for a
   * post-only rejection).
   */
  dispatch(): void {
    const out = this.outbound;
    if (out.length === 0) return;
    for (let i = 0; i < out.length; i++) {
      const x = out[i]!;
      if (x.kind === "place" && this.cannotCrossOwn(x.order)) {
        x.sent = true;
        this.sendPlace(x.order);
      }
    }
    for (let i = 0; i < out.length; i++) {
      const x = out[i]!;
      if (x.kind === "cancel") this.sendCancel(x.order);
    }
    for (let i = 0; i < out.length; i++) {
      const x = out[i]!;
      if (x.kind === "place" && !x.sent) this.sendPlace(x.order);
    }
    out.length = 0;
  }

  /** True when a post-only limit order is strictly inside every opposite-side order of ours on its book. */
  private cannotCrossOwn(o: TrackedOrder): boolean {
    const intent = o.intent;
    if (!intent.postOnly || intent.type !== "LIMIT" || intent.limitPrice === undefined) return false;
    const px = decimalToNumber(intent.limitPrice);
    const buy = o.side === "BUY";
    for (const other of this.o.tracker.values()) {
      if (other.side === o.side || other.venue !== o.venue || other.symbol !== o.symbol) continue;
      if (other.limitPrice === undefined) return false; // a resting market order: unknown, keep the safe order
      const opx = decimalToNumber(other.limitPrice);
      if (buy ? px >= opx : px <= opx) return false;
    }
    return true;
  }

  private track<T>(p: Promise<T>): void {
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  private sendPlace(o: TrackedOrder): void {
    const { tracker, counters, log } = this.o;
    if (!tracker.has(o) || o.status !== "pending-new") return; // canceled before it went out
    counters.ordersPlaced++;
    tracker.sent(o, this.o.now());
    const intent = o.intent;
    const p = this.o.exchange
      .placeOrder({
        clientOrderId: o.clientOrderId,
        venue: o.venue,
        symbol: o.symbol,
        side: o.side,
        type: intent.type,
        quantity: intent.quantity,
        ...(intent.limitPrice !== undefined ? { price: intent.limitPrice } : {}),
        timeInForce: intent.timeInForce,
        postOnly: intent.postOnly,
        strategyId: o.strategyId,
        accountId: this.o.accountId,
        riskChecked: true,
        riskCheckId: `quoter-risk:${o.clientOrderId}`,
      })
      .then(
        (res) => {
          const v = res.order;
          const st = v?.status;
          if (st === "rejected" || st === "canceled" || st === "expired") {
            if (st === "rejected") counters.ordersRejected++;
            o.outstanding = "none";
            if (tracker.close(o, st, this.o.now(), v?.rejectReason))
              this.o.onClosed(
                o,
                st === "rejected" ? "REJECTED" : st === "expired" ? "EXPIRED" : "CANCELED",
                v?.rejectReason,
              );
            return;
          }
          counters.ordersAcked++;
          const next = tracker.placeAnswered(o, st, v?.orderId ?? "", this.o.now());
          if (st === "filled") return; // the execution stream closes it
          if (next === "cancel") this.sendCancel(o);
        },
        (err: unknown) => {
          counters.placeErrors++;
          log.warn("place failed", { clientOrderId: o.clientOrderId, error: String(err) });
          if (isRefusal(err)) {
            o.outstanding = "none";
            if (tracker.close(o, "rejected", this.o.now(), String(err))) this.o.onClosed(o, "REJECTED", String(err));
            return;
          }
          // Unknown outcome (deadline, peer down): the order may rest on the book. Cancel by client order id
          // (idempotent; NOT_FOUND means it never landed) before forgetting it.
          if (tracker.placeUnknown(o, this.o.now())) this.sendCancel(o);
        },
      );
    this.track(p);
  }

  sendCancel(o: TrackedOrder): void {
    const { tracker, counters, log } = this.o;
    if (!o.acked || o.outstanding !== "none" || !tracker.has(o)) return; // sent after the place answers
    tracker.cancelSent(o);
    counters.cancelsSent++;
    const p = this.o.exchange.cancelOrder({ clientOrderId: o.clientOrderId, accountId: this.o.accountId }).then(
      (res) => {
        counters.cancelsConfirmed++;
        o.outstanding = "none";
        const st = res.order?.status;
        // Not canceled because already closed: filled (executions close it) or rejected/expired.
        if (res.canceled || st === undefined || st === "canceled" || st === "rejected" || st === "expired") {
          if (tracker.close(o, "canceled", this.o.now())) this.o.onClosed(o, "CANCELED");
        } else if (st === "filled") tracker.close(o, "filled", this.o.now());
      },
      (err: unknown) => {
        if (err instanceof NotFoundError) {
          o.outstanding = "none";
          if (tracker.close(o, "canceled", this.o.now())) this.o.onClosed(o, "CANCELED");
          return;
        }
        counters.cancelErrors++;
        tracker.cancelFailed(o); // the timer retries
        log.warn("cancel failed; will retry", { clientOrderId: o.clientOrderId, error: String(err) });
      },
    );
    this.track(p);
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
