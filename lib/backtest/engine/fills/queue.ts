// Queue-position fill models for resting orders on L1 data + trade prints, after hftbacktest's
// RiskAdverseQueueModel and ProbQueueModel (power / log probability functions). `ahead` is the
// displayed quantity estimated ahead of our order at its price; fills come from trades once it is < 0.
import type { Side } from "../../../domain/types";

export interface QueuePosition {
  /** Estimated quantity ahead of us at our price; Infinity while our level is behind the touch. */
  ahead: number;
  /** Trade quantity at our price since the last depth update (the probabilistic model subtracts it). */
  traded: number;
}

export interface QueueModel {
  /** Level quantity at our price went from prevQty to newQty. */
  depth(q: QueuePosition, prevQty: number, newQty: number): void;
  /** A trade of qty printed at our price (on our side of the book). */
  trade(q: QueuePosition, qty: number): void;
}

/** Advances only on trades at our price and on size decreases (cancels) that could have been ahead. */
export const riskAverseQueue: QueueModel = {
  depth(q, _prev, next) {
    q.ahead = Math.min(q.ahead, next);
  },
  trade(q, qty) {
    q.ahead -= qty;
  },
};

/** Probability that a size decrease happened behind our order, given the quantity in front and behind. */
export type QueueProbability = (front: number, back: number) => number;

export const QUEUE_PROBABILITY_FUNCTIONS = ["power", "power2", "power3", "log", "log2"] as const;
export type QueueProbabilityFunction = (typeof QUEUE_PROBABILITY_FUNCTIONS)[number];

/** hftbacktest's PowerProbQueueFunc(1,2,3) and LogProbQueueFunc(1,2). */
export function queueProbability(fn: QueueProbabilityFunction, n: number): QueueProbability {
  const pow = (x: number) => x ** n;
  const log = (x: number) => Math.log1p(x);
  switch (fn) {
    case "power":
      return (front, back) => pow(back) / (pow(back) + pow(front));
    case "power2":
      return (front, back) => pow(back) / pow(back + front);
    case "power3":
      return (front, back) => 1 - pow(front / (front + back));
    case "log":
      return (front, back) => log(back) / (log(back) + log(front));
    case "log2":
      return (front, back) => log(back) / log(back + front);
  }
}

/** A decrease is split between the queue ahead and behind us by a probability of where it happened. */
export function probabilisticQueue(prob: QueueProbability): QueueModel {
  return {
    depth(q, prev, next) {
      // Trades already advanced us; only the rest of the decrease is cancels.
      const chg = prev - next - q.traded;
      q.traded = 0;
      if (chg < 0) {
        q.ahead = Math.min(q.ahead, next);
        return;
      }
      const front = q.ahead;
      const back = prev - front;
      let p = prob(front, back);
      if (!Number.isFinite(p)) p = 1; // hftbacktest: an undefined split counts as behind us
      const est = front - (1 - p) * chg + Math.min(back - p * chg, 0);
      q.ahead = Math.min(est, next);
    },
    trade(q, qty) {
      q.ahead -= qty;
      q.traded += qty;
    },
  };
}

export interface QueuedOrder {
  side: Side;
  px: number;
  remaining: number;
  q: QueuePosition;
}

/** The queue side of the simulated book: one model applied to our resting orders (methods, not module functions, on the hot path). */
export class QueueFills {
  constructor(readonly model: QueueModel) {}

  /** Where a new resting order joins: behind the displayed size at the touch, first when it improves it. */
  join(q: QueuePosition, buy: boolean, px: number, touchPx: number, touchQty: number): void {
    q.traded = 0;
    if (!(touchPx > 0)) q.ahead = 0;
    else if (px === touchPx) q.ahead = touchQty;
    else q.ahead = (buy ? px > touchPx : px < touchPx) ? 0 : Number.POSITIVE_INFINITY;
  }

  /**
   * A new quote on one side of the book. At our price: a depth change (or the level re-appearing, then
   * at most what is shown is ahead). Touch moved past our price: our level is empty but for us.
   */
  touch(list: readonly QueuedOrder[], buy: boolean, prevPx: number, prevQty: number, px: number, qty: number): void {
    for (let i = 0; i < list.length; i++) {
      const r = list[i]!;
      const q = r.q;
      if (r.px === px) {
        if (prevPx === px) this.model.depth(q, prevQty, qty);
        else {
          q.ahead = Math.min(q.ahead, qty);
          q.traded = 0;
        }
      } else if (buy ? px < r.px : px > r.px) {
        q.ahead = Math.min(q.ahead, 0);
        q.traded = 0;
      }
    }
  }

  /**
   * A trade print against our side (`buy` = our bids, hit by a sell aggressor). A trade through our
   * price fills us; a trade at our price advances the queue and fills what goes past us. Fills are
   * capped by the trade's quantity across our orders (time priority). Appends [order, qty] pairs to out.
   */
  trade<T extends QueuedOrder>(
    list: readonly T[],
    buy: boolean,
    px: number,
    qty: number,
    lot: number,
    out: [T, number][],
  ): void {
    let left = qty;
    for (let i = 0; i < list.length && left > 0; i++) {
      const r = list[i]!;
      if (r.remaining <= 0) continue;
      let fill = 0;
      if (buy ? px < r.px : px > r.px) fill = Math.min(r.remaining, left);
      else if (px === r.px) {
        this.model.trade(r.q, qty);
        if (Math.round(r.q.ahead / lot) < 0) {
          fill = Math.min(Math.floor(-r.q.ahead / lot + 1e-9) * lot, r.remaining, left);
          r.q.ahead = 0;
        }
      }
      if (fill > 0) {
        out.push([r, fill]);
        left -= fill;
      }
    }
  }
}
