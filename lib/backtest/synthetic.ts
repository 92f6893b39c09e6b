// Seeded synthetic L1 data: a GBM fair price per symbol, and per venue an Ornstein–Uhlenbeck
// divergence with occasional jumps (so cross-venue spreads open and close). Pure and deterministic.
import { Decimal } from "../domain/decimal";
import { type FastL1Quote, withNums } from "../domain/strategies/quoteMath";
import { seededRng } from "../domain/strategies/Strategy";

export interface SyntheticSymbol {
  symbol: string;
  startPrice: number;
  /** Annualised volatility, e.g. 0.8 = 80 %. */
  annualVol: number;
  tick: number;
  /** Top-of-book size range, base units, and its lot. */
  minSize: number;
  maxSize: number;
  lot: number;
}

export interface SyntheticOptions {
  seed: number;
  /** Time steps; each step emits one quote per venue and symbol. */
  steps: number;
  stepMs: number;
  startTs: number;
  symbols: readonly SyntheticSymbol[];
  venues: readonly string[];
  /** Stationary std of each venue's divergence from fair (bps). */
  divergenceBps: number;
  /** Mean-reversion per step of the divergence (0..1). */
  divergenceReversion: number;
  /** Probability per step and venue of a divergence jump. */
  jumpProbability: number;
  jumpBps: number;
  /** Independent per-quote jitter of each venue's mid (bps std), i.e. microstructure noise. */
  noiseBps: number;
  /** Half-spread range (bps). */
  minHalfSpreadBps: number;
  maxHalfSpreadBps: number;
}

export const DEFAULT_SYNTHETIC_SYMBOLS: readonly SyntheticSymbol[] = [
  { symbol: "BTC-USD", startPrice: 30_000, annualVol: 0.8, tick: 0.01, minSize: 0.05, maxSize: 2, lot: 0.0001 },
  { symbol: "ETH-USD", startPrice: 2_000, annualVol: 0.9, tick: 0.01, minSize: 1, maxSize: 40, lot: 0.001 },
];

export const DEFAULT_SYNTHETIC: SyntheticOptions = {
  seed: 42,
  steps: 1000,
  stepMs: 1000,
  startTs: Date.UTC(2026, 0, 5, 12, 0, 0),
  symbols: DEFAULT_SYNTHETIC_SYMBOLS,
  venues: ["venue-a", "venue-b"],
  divergenceBps: 6,
  divergenceReversion: 0.05,
  jumpProbability: 0.004,
  jumpBps: 30,
  noiseBps: 0,
  minHalfSpreadBps: 0.5,
  maxHalfSpreadBps: 2.5,
};

const MS_PER_YEAR = 365 * 24 * 3600 * 1000;

/** Streams quotes in time order. Prices/sizes are interned Decimals so millions of quotes stay small. */
export function* syntheticQuotes(partial: Partial<SyntheticOptions> = {}): Generator<FastL1Quote> {
  const o: SyntheticOptions = { ...DEFAULT_SYNTHETIC, ...partial };
  const rnd = seededRng(o.seed);
  let spare: number | undefined;
  const gauss = (): number => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    let u = 0;
    while (u === 0) u = rnd();
    const v = rnd();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
  // Interned by (symbol index, integer ticks): a random walk revisits few distinct prices.
  const priceIntern = new Map<number, Decimal>();
  const priceOf = (si: number, ticks: number, tick: number, dp: number): Decimal => {
    const key = si * 1e12 + ticks;
    let d = priceIntern.get(key);
    if (!d) {
      d = new Decimal((ticks * tick).toFixed(dp));
      priceIntern.set(key, d);
    }
    return d;
  };
  const sizeIntern = new Map<string, Decimal>();
  const sizeOf = (x: number, lot: number): Decimal => {
    const units = Math.max(1, Math.round(x / lot));
    const key = `${lot}:${units}`;
    let d = sizeIntern.get(key);
    if (!d) {
      d = new Decimal((units * lot).toFixed(Math.max(0, -Math.floor(Math.log10(lot)))));
      sizeIntern.set(key, d);
    }
    return d;
  };
  const fair = o.symbols.map((s) => s.startPrice);
  const div = o.symbols.map(() => o.venues.map(() => 0));
  const sdStep = Math.sqrt(o.divergenceReversion * (2 - o.divergenceReversion)) * o.divergenceBps;
  for (let step = 0; step < o.steps; step++) {
    const ts = o.startTs + step * o.stepMs;
    for (let si = 0; si < o.symbols.length; si++) {
      const s = o.symbols[si]!;
      const vol = s.annualVol * Math.sqrt(o.stepMs / MS_PER_YEAR);
      fair[si] = fair[si]! * Math.exp(-0.5 * vol * vol + vol * gauss());
      const dp = Math.max(0, -Math.floor(Math.log10(s.tick)));
      for (let vi = 0; vi < o.venues.length; vi++) {
        let d = div[si]![vi]! * (1 - o.divergenceReversion) + sdStep * gauss();
        if (rnd() < o.jumpProbability) d += (rnd() < 0.5 ? -1 : 1) * o.jumpBps;
        div[si]![vi] = d;
        const noise = o.noiseBps > 0 ? o.noiseBps * gauss() : 0;
        const mid = fair[si]! * (1 + (d + noise) / 10_000);
        const half = (o.minHalfSpreadBps + (o.maxHalfSpreadBps - o.minHalfSpreadBps) * rnd()) / 10_000;
        const bidT = Math.floor((mid * (1 - half)) / s.tick);
        let askT = Math.ceil((mid * (1 + half)) / s.tick);
        if (askT <= bidT) askT = bidT + 1;
        const range = s.maxSize - s.minSize;
        yield withNums({
          ts,
          venue: o.venues[vi]!,
          symbol: s.symbol,
          bid: priceOf(si, bidT, s.tick, dp),
          ask: priceOf(si, askT, s.tick, dp),
          bidSize: sizeOf(s.minSize + range * rnd(), s.lot),
          askSize: sizeOf(s.minSize + range * rnd(), s.lot),
        });
      }
    }
  }
}
