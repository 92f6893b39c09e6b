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
}

const tickCache = new WeakMap<Instrument, TickInfo>();
export function tickInfo(inst: Instrument): TickInfo {
  let t = tickCache.get(inst);
  if (!t) {
    t = { tick: inst.tickSize.toNumber(), tickD: inst.tickSize, lot: inst.lotSize.toNumber(), lotD: inst.lotSize };
    tickCache.set(inst, t);
  }
  return t;
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
