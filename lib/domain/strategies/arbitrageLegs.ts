// Serverless arbitrage helpers: pick the best cross-venue opportunity from the freshest quote of each venue,
// derive a deterministic signal id from its inputs, the signal function's strategy that does both, and decide
// what to do about leg risk once both legs are done (hedge the filled difference, cancel a leg still resting).
// Pure: no I/O, no clock.
import { createHash } from "node:crypto";
import { Decimal } from "../decimal";
import type { L1Quote, OrderIntent, Side, Venue } from "../types";
import { type ArbitrageSignal, arbitrageLegs, type DetectArbitrageConfig, detectArbitrage } from "./arbitrage";
import { marketIocIntent, type Strategy, type StrategyContext } from "./Strategy";

export interface SequencedQuote {
  quote: L1Quote;
  /** Per venue+symbol feed sequence (part of the signal id, so a replay yields the same id). */
  sequence: number;
}

export interface ArbitrageOpportunity {
  signal: ArbitrageSignal;
  buy: SequencedQuote;
  sell: SequencedQuote;
}

/** Best opportunity over every venue pair of one symbol's quotes, or null. Ties keep the first pair (venue order). */
export function bestArbitrage(
  quotes: readonly SequencedQuote[],
  venues: readonly Venue[],
  cfg: DetectArbitrageConfig,
): ArbitrageOpportunity | null {
  const sorted = [...quotes].sort((a, b) =>
    a.quote.venue < b.quote.venue ? -1 : a.quote.venue > b.quote.venue ? 1 : 0,
  );
  let best: ArbitrageOpportunity | null = null;
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i + 1; j < sorted.length; j++) {
      const a = sorted[i]!;
      const b = sorted[j]!;
      const s = detectArbitrage(a.quote, b.quote, venues, cfg);
      if (!s) continue;
      if (best && s.netSpreadBps <= best.signal.netSpreadBps) continue;
      const buy = s.buyVenue === a.quote.venue ? a : b;
      const sell = buy === a ? b : a;
      best = { signal: s, buy, sell };
    }
  }
  return best;
}

/**
 * Deterministic signal id: the same strategy, symbol, venues, feed sequences, prices and quantity always give
 * the same id, so a redelivered snapshot produces the same signal (and so the same client order ids).
 */
export function arbitrageSignalId(strategyId: string, opp: ArbitrageOpportunity): string {
  const s = opp.signal;
  const material = [
    strategyId,
    s.symbol,
    `${s.buyVenue}@${opp.buy.sequence}`,
    `${s.sellVenue}@${opp.sell.sequence}`,
    s.buyPrice.toFixed(),
    s.sellPrice.toFixed(),
    s.quantity.toFixed(),
  ].join("|");
  return `sig-${createHash("sha256").update(material).digest("hex").slice(0, 32)}`;
}

/** An opportunity the signal strategy acted on, under its deterministic signal id. */
export interface SignalledOpportunity extends ArbitrageOpportunity {
  signalId: string;
}

/**
 * The signal function's arbitrage strategy: on each snapshot, the best opportunity over the context's quotes of
 * that symbol becomes two IOC limit legs tagged `arb:<signalId>:BUY|SELL`. It keeps no state between snapshots
 * (the function's cooldown and leg risk live in the state store and order-placement), so a redelivered snapshot
 * yields the same legs under the same id.
 */
export class ArbitrageSignalStrategy implements Strategy {
  readonly name = "arbitrage";
  /** The opportunities signalled, most recent last. */
  readonly signals: SignalledOpportunity[] = [];

  constructor(
    readonly id: string,
    private readonly cfg: { minSpreadBps: number; maxQuantity: Decimal },
    /** Each quote's feed sequence (part of the signal id). */
    private readonly sequenceOf: (q: L1Quote) => number,
  ) {}

  onMarket(q: L1Quote, ctx: StrategyContext): OrderIntent[] {
    const quotes: SequencedQuote[] = [];
    for (const o of ctx.quotes()) if (o.symbol === q.symbol) quotes.push({ quote: o, sequence: this.sequenceOf(o) });
    const lot = ctx.instrument(q.symbol)?.lotSize;
    const opp = bestArbitrage(quotes, ctx.venues(), {
      minSpreadBps: this.cfg.minSpreadBps,
      maxQuantity: this.cfg.maxQuantity,
      ...(lot ? { lotSize: lot } : {}),
    });
    if (!opp) return [];
    const signalId = arbitrageSignalId(this.id, opp);
    this.signals.push({ ...opp, signalId });
    return arbitrageLegs(this.id, signalId, opp.signal);
  }

  onFill(): OrderIntent[] {
    return [];
  }

  onTimer(): OrderIntent[] {
    return [];
  }
}

/** One leg of a multi-leg signal after placement. */
export interface LegOutcome {
  clientOrderId: string;
  venue: string;
  side: Side;
  quantity: Decimal;
  filled: Decimal;
  /** Still able to trade (resting on the book). */
  open: boolean;
  /** Refused (exchange rejection, denial) or placement failed. */
  failed: boolean;
}

export interface LegRiskDecision {
  /** Legs still resting that must be canceled because a sibling failed. */
  cancel: string[];
  /** Market IOC order flattening the filled difference (buy filled − sell filled), or undefined when flat. */
  hedge?: OrderIntent;
}

/**
 * Leg risk of a two-sided signal. A failed leg makes every resting sibling a cancel; once nothing rests, any
 * difference between bought and sold quantity is hedged at market on the venue with the best price for it
 * (best bid for a sell, best ask for a buy), falling back to the venue of the leg being unwound.
 */
export function resolveLegRisk(
  strategyId: string,
  symbol: string,
  legs: readonly LegOutcome[],
  quotes: readonly L1Quote[],
  tag?: string,
): LegRiskDecision {
  const anyFailed = legs.some((l) => l.failed);
  const cancel = anyFailed ? legs.filter((l) => l.open && !l.failed).map((l) => l.clientOrderId) : [];
  const stillOpen = legs.some((l) => l.open && !cancel.includes(l.clientOrderId));
  if (stillOpen) return { cancel };
  let bought = new Decimal(0);
  let sold = new Decimal(0);
  for (const l of legs) {
    if (l.side === "BUY") bought = bought.plus(l.filled);
    else sold = sold.plus(l.filled);
  }
  const diff = bought.minus(sold);
  if (diff.isZero()) return { cancel };
  const side: Side = diff.gt(0) ? "SELL" : "BUY";
  const unwound = legs.find((l) => l.side !== side && l.filled.gt(0)) ?? legs[0];
  let venue = unwound?.venue ?? "";
  let best: Decimal | undefined;
  for (const q of quotes) {
    if (q.symbol !== symbol) continue;
    const px = side === "SELL" ? q.bid : q.ask;
    if (!px.gt(0)) continue;
    if (!best || (side === "SELL" ? px.gt(best) : px.lt(best))) {
      best = px;
      venue = q.venue;
    }
  }
  return {
    cancel,
    hedge: marketIocIntent(strategyId, venue, symbol, side, diff.abs(), tag),
  };
}
