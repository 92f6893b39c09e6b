// A seeded L1 + trades tape shaped like a liquid crypto book (BTC-USDT-like): a one- or two-tick spread,
// touch sizes that grow and shrink by adds and cancels, trade prints at the touch that eat its size, and
// a touch that moves a tick when it is used up; aggressors follow a GBM fair price, so the book does. Used by the benchmark
// and by tests where a real capture cannot ship. Pure and deterministic.

import { Decimal } from "../domain/decimal";
import { withNums } from "../domain/strategies/quoteMath";
import { seededRng } from "../domain/strategies/Strategy";
import type { BacktestEvent } from "./engine/marketEvents";
import { tradePrint } from "./engine/marketEvents";

export interface TapeOptions {
  seed: number;
  /** Events to emit (quotes + trades). */
  events: number;
  startTs: number;
  /** Mean ms between events (exponential gaps, integer ms, so several can share a ms). */
  meanGapMs: number;
  venue: string;
  symbol: string;
  startPrice: number;
  tick: number;
  lot: number;
  /** Probability an event is a trade print. */
  tradeProbability: number;
  /** Median touch size and trade size (base units, lognormal). */
  touchSize: number;
  tradeSize: number;
  /** Annualised volatility of the fair price the touch follows. */
  annualVol: number;
  /** Within this many ticks of the fair price trades are as likely to sell as to buy; beyond, they follow it. */
  slackTicks: number;
}

export const DEFAULT_TAPE: TapeOptions = {
  seed: 11,
  events: 10_000,
  startTs: Date.UTC(2026, 0, 5, 12, 0, 0),
  meanGapMs: 2,
  venue: "venue-a",
  symbol: "BTC-USD",
  startPrice: 30_000,
  tick: 0.01,
  lot: 0.0001,
  tradeProbability: 0.1,
  touchSize: 0.1,
  tradeSize: 0.05,
  annualVol: 0.6,
  slackTicks: 20,
};

export function* syntheticTape(partial: Partial<TapeOptions> = {}): Generator<BacktestEvent> {
  const o: TapeOptions = { ...DEFAULT_TAPE, ...partial };
  const rnd = seededRng(o.seed);
  const gauss = (): number => {
    let u = 0;
    while (u === 0) u = rnd();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd());
  };
  const dp = Math.max(0, -Math.floor(Math.log10(o.tick)));
  const lotDp = Math.max(0, -Math.floor(Math.log10(o.lot)));
  const prices = new Map<number, Decimal>();
  const px = (ticks: number): Decimal => {
    let d = prices.get(ticks);
    if (!d) {
      d = new Decimal((ticks * o.tick).toFixed(dp));
      prices.set(ticks, d);
    }
    return d;
  };
  const sizes = new Map<number, Decimal>();
  const lots = (x: number): number => Math.max(1, Math.round(x / o.lot));
  const sz = (l: number): Decimal => {
    let d = sizes.get(l);
    if (!d) {
      d = new Decimal((l * o.lot).toFixed(lotDp));
      sizes.set(l, d);
    }
    return d;
  };
  const touch = () => lots(o.touchSize * Math.exp(0.8 * gauss()));
  let bidT = Math.round(o.startPrice / o.tick);
  let askT = bidT + 1;
  let bidL = touch();
  let askL = touch();
  let ts = o.startTs;
  // Fair price in ticks; σ per √ms of the GBM, in ticks.
  let fair = bidT + 0.5;
  const volTicks = (o.annualVol / Math.sqrt(365 * 24 * 3600 * 1000)) * (o.startPrice / o.tick);
  for (let i = 0; i < o.events; i++) {
    const gap = Math.floor(-Math.log(1 - rnd()) * o.meanGapMs);
    ts += gap;
    fair += volTicks * Math.sqrt(Math.max(gap, 0.25)) * gauss();
    if (rnd() < o.tradeProbability) {
      // Aggressors push the touch towards the fair price, which moves the book tick by tick.
      const off = fair - (bidT + askT) / 2;
      const sell = off < -o.slackTicks ? true : off > o.slackTicks ? false : rnd() < 0.5;
      // Far from fair, aggressors sweep the touch (so the book keeps up with the fair price).
      const want = Math.abs(off) > o.slackTicks ? Number.POSITIVE_INFINITY : lots(o.tradeSize * Math.exp(gauss()));
      const l = Math.min(want, sell ? bidL : askL);
      yield tradePrint({
        ts,
        venue: o.venue,
        symbol: o.symbol,
        price: px(sell ? bidT : askT),
        qty: sz(l),
        side: sell ? "SELL" : "BUY",
      });
      // The touch loses what traded; an emptied touch moves one tick away.
      if (sell) {
        bidL -= l;
        if (bidL <= 0) {
          bidT--;
          bidL = touch();
          if (askT - bidT > 2) {
            askT--;
            askL = touch();
          }
        }
      } else {
        askL -= l;
        if (askL <= 0) {
          askT++;
          askL = touch();
          if (askT - bidT > 2) {
            bidT++;
            bidL = touch();
          }
        }
      }
      continue;
    }
    if (askT - bidT > 1 && rnd() < 0.5) {
      // Someone improves the wide side back to a one-tick spread.
      if (rnd() < 0.5) {
        bidT++;
        bidL = lots(o.tradeSize * 5 * rnd());
      } else {
        askT--;
        askL = lots(o.tradeSize * 5 * rnd());
      }
    } else {
      // Adds and cancels at the touch.
      const f = () => Math.exp(0.15 * gauss());
      bidL = Math.max(1, Math.round(bidL * f()));
      askL = Math.max(1, Math.round(askL * f()));
    }
    yield withNums({
      ts,
      venue: o.venue,
      symbol: o.symbol,
      bid: px(bidT),
      ask: px(askT),
      bidSize: sz(bidL),
      askSize: sz(askL),
    });
  }
}
