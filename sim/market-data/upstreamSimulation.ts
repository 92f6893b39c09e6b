// Upstream's GenerateSimulation over our seeded price process: a "historical" OHLCV path between start_time and
// end_time, a simulated path of the requested SimulationType, and similarity metrics computed from both
// (upstream returns random metrics; ours are measured). Deterministic for the same request and simulator seed.
import {
  type PricePoint,
  type SimulationRequest,
  type SimulationResponse,
  SimulationType,
  type StatisticalMetrics,
} from "../../gen/proto/marketdata/marketdata";
import { invalidArgument } from "../common/grpcErrors";
import { SeededRandom } from "../common/rng";
import { MarketSimulation, type MarketSimulationOptions, type SimSymbol } from "./MarketSimulation";

const HOUR_MS = 3_600_000;
const MAX_POINTS = 10_000;
/** Sub-steps per bar (open, high, low, close come from these). */
const SUBSTEPS = 4;

const tsOf = (ms: number) => {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: (ms - seconds * 1000) * 1e6 };
};
const msOf = (t: { seconds: number; nanos: number }) => t.seconds * 1000 + Math.floor(t.nanos / 1e6);

function logReturns(xs: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < xs.length; i++) out.push(Math.log(xs[i]! / xs[i - 1]!));
  return out;
}
const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
function std(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}
function pearson(a: readonly number[], b: readonly number[]): number {
  const ma = mean(a);
  const mb = mean(b);
  let num = 0;
  let da = 0;
  let db = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - ma) * (b[i]! - mb);
    da += (a[i]! - ma) ** 2;
    db += (b[i]! - mb) ** 2;
  }
  return da === 0 || db === 0 ? 0 : num / Math.sqrt(da * db);
}
/** Two-sample Kolmogorov–Smirnov statistic (0 = same empirical distribution). */
function ks(a: readonly number[], b: readonly number[]): number {
  if (a.length === 0 || b.length === 0) return 1;
  const x = [...a].sort((p, q) => p - q);
  const y = [...b].sort((p, q) => p - q);
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < x.length && j < y.length) {
    const v = Math.min(x[i]!, y[j]!);
    while (i < x.length && x[i]! <= v) i++;
    while (j < y.length && y[j]! <= v) j++;
    d = Math.max(d, Math.abs(i / x.length - j / y.length));
  }
  return d;
}
function slope(ys: readonly number[]): number {
  const xs = ys.map((_, i) => i);
  const mx = mean(xs);
  const my = mean(ys);
  let num = 0;
  let den = 0;
  for (let i = 0; i < ys.length; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}
const ratio = (a: number, b: number) => (a === 0 && b === 0 ? 1 : Math.min(a, b) / Math.max(a, b));

export function similarityMetrics(
  historical: readonly PricePoint[],
  simulated: readonly PricePoint[],
): StatisticalMetrics {
  const h = historical.map((p) => p.close);
  const s = simulated.map((p) => p.close);
  const rh = logReturns(h);
  const rs = logReturns(s);
  const sh = slope(h);
  const ss = slope(s);
  const m = {
    correlationCoefficient: pearson(h, s),
    volatilitySimilarity: ratio(std(rh), std(rs)),
    returnDistributionSimilarity: 1 - ks(rh, rs),
    trendSimilarity: sh === 0 && ss === 0 ? 1 : 1 - Math.abs(sh - ss) / (Math.abs(sh) + Math.abs(ss)),
    confidenceScore: 0,
  };
  m.confidenceScore =
    (Math.max(0, m.correlationCoefficient) +
      m.volatilitySimilarity +
      m.returnDistributionSimilarity +
      m.trendSimilarity) /
    4;
  return m;
}

function bars(
  spec: SimSymbol,
  opts: Pick<MarketSimulationOptions, "venues" | "model">,
  seed: number,
  times: number[],
  stepMs: number,
) {
  const sim = new MarketSimulation({ ...opts, seed, symbols: [spec], startTimeMs: times[0]! });
  return times.map((t) => {
    const ps: number[] = [];
    let volume = 0;
    for (let k = 0; k < SUBSTEPS; k++) {
      sim.step(stepMs / SUBSTEPS);
      const st = sim.stats(spec.symbol)!;
      ps.push(st.price);
      volume += st.volume;
    }
    return { timestamp: tsOf(t), open: ps[0]!, high: Math.max(...ps), low: Math.min(...ps), close: ps.at(-1)!, volume };
  });
}

/** n points from x0, each from the previous one. */
function walk(n: number, x0: number, next: (x: number) => number): number[] {
  const out = [x0];
  for (let i = 1; i < n; i++) out.push(next(out[i - 1]!));
  return out;
}

export function generateUpstreamSimulation(
  req: SimulationRequest,
  spec: SimSymbol,
  opts: Pick<MarketSimulationOptions, "venues" | "model" | "seed"> & { nowMs: number },
): SimulationResponse {
  const endMs = req.endTime ? msOf(req.endTime) : opts.nowMs;
  const startMs = req.startTime ? msOf(req.startTime) : endMs - 24 * HOUR_MS;
  if (!(endMs > startMs)) throw invalidArgument("end_time", new Date(endMs).toISOString(), "must be after start_time");
  const p = req.parameters;
  if (p && (p.dataPoints < 0 || p.dataPoints > MAX_POINTS))
    throw invalidArgument("parameters.data_points", p.dataPoints, `must be 0..${MAX_POINTS}`);
  // Upstream's spacing is one bar per hour; data_points > 0 asks for that many bars over the same span.
  const n = p?.dataPoints ? p.dataPoints : Math.ceil((endMs - startMs) / HOUR_MS);
  if (n > MAX_POINTS)
    throw invalidArgument("end_time", new Date(endMs).toISOString(), `more than ${MAX_POINTS} hourly bars`);
  const stepMs = (endMs - startMs) / n;
  const times = Array.from({ length: n }, (_, i) => Math.round(startMs + i * stepMs));
  const volFactor = p?.volatilityFactor || 1;
  if (!(volFactor > 0 && volFactor <= 100))
    throw invalidArgument("parameters.volatility_factor", volFactor, "must be > 0 and <= 100 (1 = as is)");
  const trend = (p?.trendFactor ?? 0) * 0.001;
  const noise = p?.includeNoise ? p.noiseLevel || 0.005 : 0;
  const seed = ((opts.seed ?? 1) ^ Math.floor(startMs / 1000) ^ req.simulationType) >>> 0;
  const historical = bars(spec, opts, seed, times, stepMs);
  const rng = new SeededRandom((seed ^ 0x5f3759df) >>> 0);
  const closes = historical.map((b) => b.close);
  const sigma = std(logReturns(closes)) * volFactor;
  const mu = mean(logReturns(closes));
  const x0 = closes[0]!;
  let path: number[];
  switch (req.simulationType) {
    case SimulationType.STATISTICAL_SIMILARITY:
      path = closes.map((c) => c * (1 + sigma * rng.normal()));
      break;
    case SimulationType.MONTE_CARLO:
      path = walk(n, x0, (x) => x * Math.exp(mu - (sigma * sigma) / 2 + sigma * rng.normal()));
      break;
    case SimulationType.BROWNIAN_MOTION: {
      const dsd = std(closes.slice(1).map((c, i) => c - closes[i]!)) * volFactor;
      path = walk(n, x0, (x) => Math.max(x * 1e-3, x + dsd * rng.normal()));
      break;
    }
    case SimulationType.MEAN_REVERSION: {
      const m = mean(closes);
      path = walk(n, x0, (x) => x * Math.exp(0.2 * Math.log(m / x) + sigma * rng.normal()));
      break;
    }
    case SimulationType.TREND_FOLLOWING:
      path = closes.map((c, i) => c * (1 + mu * i));
      break;
    default:
      throw invalidArgument("simulation_type", req.simulationType, "unknown simulation type");
  }
  const simulated: PricePoint[] = path.map((c, i) => {
    const close = c * (1 + trend) ** i * (1 + noise * rng.normal());
    const b = historical[i]!;
    const k = close / b.close;
    return { timestamp: b.timestamp, open: b.open * k, high: b.high * k, low: b.low * k, close, volume: b.volume };
  });
  return {
    symbol: req.symbol,
    historicalData: historical,
    simulatedData: simulated,
    similarityMetrics: similarityMetrics(historical, simulated),
    simulationId: `sim-${req.symbol}-${seed.toString(16)}-${n}`,
  };
}
