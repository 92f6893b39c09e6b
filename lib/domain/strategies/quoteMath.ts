// Number fast path for strategies: read quotes as numbers once, round to the tick in integer ticks and
// only build Decimals for the intents they emit (DESIGN: hot paths compute in numbers, round to tick/lot).
import { Decimal } from "../decimal";
import type { Instrument, L1Quote } from "../types";

export interface NumericL1 {
  bid: number;
  ask: number;
  bidSize: number;
  askSize: number;
}

/** An L1 quote that may carry its numeric mirror (set by the backtester's loader / the quoter). */
export type FastL1Quote = L1Quote & { n?: NumericL1 };

export function quoteNums(q: L1Quote): NumericL1 {
  const f = q as FastL1Quote;
  if (f.n) return f.n;
  const n = {
    bid: q.bid.toNumber(),
    ask: q.ask.toNumber(),
    bidSize: q.bidSize.toNumber(),
    askSize: q.askSize.toNumber(),
  };
  f.n = n;
  return n;
}

/** Attach the numeric mirror up front (loader side). */
export function withNums(q: L1Quote): FastL1Quote {
  quoteNums(q);
  return q as FastL1Quote;
}

export interface TickInfo {
  tick: number;
  tickD: Decimal;
  lot: number;
  lotD: Decimal;
  /** tick = tickInt / 10^tickDp exactly (e.g. 0.01 = 1 / 10^2). */
  tickInt: number;
  tickScale: number;
  /** Recently built prices by tick count (bounded), so repeated quotes reuse one Decimal. */
  prices: Map<number, Decimal>;
}

const tickCache = new WeakMap<Instrument, TickInfo>();
export function tickInfo(inst: Instrument): TickInfo {
  let t = tickCache.get(inst);
  if (!t) {
    const dp = Math.max(0, inst.tickSize.decimalPlaces());
    const tickScale = 10 ** dp;
    t = {
      tick: inst.tickSize.toNumber(),
      tickD: inst.tickSize,
      lot: inst.lotSize.toNumber(),
      lotD: inst.lotSize,
      tickInt: inst.tickSize.times(tickScale).toNumber(),
      tickScale,
      prices: new Map(),
    };
    tickCache.set(inst, t);
  }
  return t;
}

/**
 * Number mirrors of Decimals built here. integer / 10^dp is correctly rounded in IEEE-754, so the
 * mirror equals Number(decimal.toString()) exactly — safe for price comparisons.
 */
const numberHints = new WeakMap<Decimal, number>();

/** Decimal → number, memoised per (immutable) Decimal; exact mirror when this module built it. */
export function decimalToNumber(d: Decimal): number {
  let h = numberHints.get(d);
  if (h === undefined) {
    h = d.toNumber();
    numberHints.set(d, h);
  }
  return h;
}

/** Prices built by priceFromTicks are exact multiples of that TickInfo's tick by construction. */
const builtOnTick = new WeakMap<Decimal, TickInfo>();

/** True when `d` was built by priceFromTicks for this instrument (so it is on its tick grid). */
export function isBuiltOnTick(d: Decimal, inst: Instrument): boolean {
  const t = builtOnTick.get(d);
  return t !== undefined && t === tickCache.get(inst);
}

/** Exact Decimal for `ticks` ticks of this instrument (cached, with its number mirror). */
export function priceFromTicks(ticks: number, t: TickInfo): Decimal {
  let d = t.prices.get(ticks);
  if (d === undefined) {
    if (t.prices.size > 50_000) t.prices.clear();
    d = t.tickD.times(ticks);
    t.prices.set(ticks, d);
    numberHints.set(d, (ticks * t.tickInt) / t.tickScale);
    builtOnTick.set(d, t);
  }
  return d;
}

// 1e-9 absorbs float noise so an exact multiple of the tick stays put.
export function bidTicks(px: number, tick: number): number {
  return Math.floor(px / tick + 1e-9);
}
export function askTicks(px: number, tick: number): number {
  return Math.ceil(px / tick - 1e-9);
}
export function lots(qty: number, lot: number): number {
  return Math.floor(qty / lot + 1e-9);
}

/** Exact Decimal for an integer count of ticks/lots. */
export function fromUnits(units: number, unit: Decimal): Decimal {
  return unit.times(units);
}

/** Identity-cached Decimal→number (Decimals are immutable; the portfolio returns the same object until it changes). */
export class DecimalNumberCache {
  private last: Decimal | undefined;
  private lastN = 0;
  get(d: Decimal): number {
    if (d !== this.last) {
      this.last = d;
      this.lastN = d.toNumber();
    }
    return this.lastN;
  }
}

export const ZERO = new Decimal(0);
