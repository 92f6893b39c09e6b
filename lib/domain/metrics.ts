// Performance metrics over an equity curve and a list of fills. Pure: money stays Decimal,
// ratios are numbers (null where undefined, e.g. Sharpe of a flat curve).
import { Decimal } from "./decimal";

export interface EquitySample {
  ts: number;
  equity: Decimal;
}

export interface MetricsFill {
  qty: Decimal;
  price: Decimal;
  /** Fee paid in quote currency (negative = rebate). */
  fee: Decimal;
  /** Realized PnL booked by this fill before fees; undefined for a fill that only opens/increases a position. */
  realizedPnl?: Decimal;
}

/** What the metrics need from the fills, as running sums: a report can add new fills to the last report's. */
export interface FillStats {
  count: number;
  turnover: Decimal;
  /** Fills that closed (part of) a position, and those with a positive realized PnL. */
  closing: number;
  wins: number;
  grossProfit: Decimal;
  /** Positive: the sum of the losing closes' losses. */
  grossLoss: Decimal;
}

export const EMPTY_FILL_STATS: FillStats = {
  count: 0,
  turnover: new Decimal(0),
  closing: 0,
  wins: 0,
  grossProfit: new Decimal(0),
  grossLoss: new Decimal(0),
};

/** `base` plus `fills`. */
export function addFillStats(base: FillStats, fills: readonly MetricsFill[]): FillStats {
  let { count, turnover, closing, wins, grossProfit, grossLoss } = base;
  for (const f of fills) {
    count++;
    turnover = turnover.plus(f.qty.times(f.price).abs());
    if (f.realizedPnl === undefined) continue;
    closing++;
    if (f.realizedPnl.gt(0)) {
      wins++;
      grossProfit = grossProfit.plus(f.realizedPnl);
    } else if (f.realizedPnl.lt(0)) {
      grossLoss = grossLoss.plus(f.realizedPnl.neg());
    }
  }
  return { count, turnover, closing, wins, grossProfit, grossLoss };
}

export interface MetricsInput {
  /** Equity samples, oldest first. Their real timestamps set the period used to annualise. */
  equityCurve: readonly EquitySample[];
  /** The fills, or their running sums (`fillStats`, which wins when both are given). */
  fills?: readonly MetricsFill[];
  fillStats?: FillStats;
  realizedPnl: Decimal;
  unrealizedPnl: Decimal;
  fees: Decimal;
  /** Nominal sampling period (ms), named in the convention only; the maths uses the timestamps. */
  periodMs?: number;
}

/** The per-period Sharpe, always reported: unlike the annualised figure it means something on a short run. */
export interface PerPeriodSharpe {
  /** mean / stdev (n−1) of the per-period returns; null when undefined (fewer than 2, or a flat curve). */
  sharpe: number | null;
  /** Lo (2002), IID returns: SE(SR) = √((1 + SR²/2) / n). */
  standardError: number | null;
  /** Number of returns n. */
  periods: number;
  /** Mean real spacing of the samples (span / n), ms; null with no return. */
  meanPeriodMs: number | null;
}

export interface PerformanceMetrics {
  totalPnl: Decimal;
  realizedPnl: Decimal;
  unrealizedPnl: Decimal;
  fees: Decimal;
  returns: number[];
  /** Annualised; null unless the sample spans >= 1 day with >= 30 periods (annualisedNullReason says which). */
  sharpe: number | null;
  sharpeConvention: string;
  sortino: number | null;
  /** Why sharpe, sortino and calmar are null; undefined when they are annualised (or undefined for a flat curve). */
  annualisedNullReason?: string;
  perPeriod: PerPeriodSharpe;
  maxDrawdown: Decimal;
  maxDrawdownPct: number;
  calmar: number | null;
  winRate: number | null;
  profitFactor: number | null;
  expectancy: Decimal;
  tradeCount: number;
  turnover: Decimal;
  startingEquity: Decimal;
  endingEquity: Decimal;
}

const MS_PER_YEAR = 365 * 24 * 3600 * 1000; // crypto trades 24/7
const MS_PER_DAY = 86_400_000;
/** Annualised ratios need a sample this long and this many periods (GIPS forbids annualising short periods). */
export const MIN_ANNUALISED_SPAN_MS = MS_PER_DAY;
export const MIN_ANNUALISED_PERIODS = 30;

/** Number of sampling periods in a (365-day) year. */
export function periodsPerYear(periodMs: number): number {
  if (!(periodMs > 0)) throw new RangeError(`periodMs must be > 0, got ${periodMs}`);
  return MS_PER_YEAR / periodMs;
}

export function describePeriod(periodMs: number): string {
  if (periodMs % 86_400_000 === 0) return `${periodMs / 86_400_000}d`;
  if (periodMs % 3_600_000 === 0) return `${periodMs / 3_600_000}h`;
  if (periodMs % 60_000 === 0) return `${periodMs / 60_000}min`;
  if (periodMs % 1000 === 0) return `${periodMs / 1000}s`;
  return `${periodMs}ms`;
}

export function sharpeConvention(periodMs?: number): string {
  const nominal = periodMs !== undefined && periodMs > 0 ? `sampled every ${describePeriod(periodMs)}; ` : "";
  return (
    `simple per-period returns of the equity curve ${nominal}` +
    "per-period Sharpe = mean/stdev(sample, n-1), rf = 0, standard error sqrt((1 + SR^2/2)/n) (Lo 2002, IID); " +
    "annualised (x sqrt(periods per 365-day year), the period being the samples' real mean spacing) only when " +
    `the sample spans >= 1 day with >= ${MIN_ANNUALISED_PERIODS} periods, else null; ` +
    "Sortino = mean/downside deviation (sqrt(sum(min(r,0)^2)/n)) x same factor; " +
    "Calmar = mean return x periods per year / max drawdown fraction"
  );
}

/** Lo (2002), eq. for IID returns: √n·(SR̂ − SR) → N(0, 1 + SR²/2), so SE(SR̂) = √((1 + SR̂²/2) / n). */
export function sharpeStandardError(sharpe: number, periods: number): number {
  if (!(periods > 0)) throw new RangeError(`periods must be > 0, got ${periods}`);
  return Math.sqrt((1 + (sharpe * sharpe) / 2) / periods);
}

/** Why an annualised ratio over this sample would mean nothing; undefined when it may be annualised. */
export function annualisationRefusal(spanMs: number, periods: number): string | undefined {
  const short: string[] = [];
  if (spanMs < MIN_ANNUALISED_SPAN_MS) short.push(`spans ${describeSpan(spanMs)} (< 1 day)`);
  if (periods < MIN_ANNUALISED_PERIODS) short.push(`has ${periods} periods (< ${MIN_ANNUALISED_PERIODS})`);
  return short.length > 0 ? `not annualised: the sample ${short.join(" and ")}` : undefined;
}

function describeSpan(ms: number): string {
  if (ms >= 3_600_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  if (ms >= 60_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Simple returns r_i = E_i / E_(i-1) - 1; a period starting at non-positive equity yields no return. */
export function equityReturns(curve: readonly EquitySample[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < curve.length; i++) {
    const prev = curve[i - 1]!.equity;
    if (prev.lte(0)) continue;
    out.push(curve[i]!.equity.div(prev).minus(1).toNumber());
  }
  return out;
}

function mean(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

export function sharpeRatio(returns: readonly number[], ppy: number): number | null {
  if (returns.length < 2) return null;
  const m = mean(returns);
  let ss = 0;
  for (const r of returns) ss += (r - m) ** 2;
  const sd = Math.sqrt(ss / (returns.length - 1));
  if (!(sd > 0)) return null;
  return (m / sd) * Math.sqrt(ppy);
}

export function sortinoRatio(returns: readonly number[], ppy: number): number | null {
  if (returns.length < 1) return null;
  let ss = 0;
  for (const r of returns) if (r < 0) ss += r * r;
  const dd = Math.sqrt(ss / returns.length);
  if (!(dd > 0)) return null;
  return (mean(returns) / dd) * Math.sqrt(ppy);
}

export interface DrawdownStats {
  maxDrawdown: Decimal;
  /** Percent of the running peak, 12.5 = 12.5 %. */
  maxDrawdownPct: number;
  curve: { ts: number; drawdown: Decimal; drawdownPct: number }[];
}

/** Running-peak drawdown. Max abs and max % are each the largest of their own kind. */
export function drawdowns(curve: readonly EquitySample[]): DrawdownStats {
  let peak: Decimal | undefined;
  let maxDd = new Decimal(0);
  let maxPct = 0;
  const out: DrawdownStats["curve"] = [];
  for (const p of curve) {
    if (peak === undefined || p.equity.gt(peak)) peak = p.equity;
    const dd = peak.minus(p.equity);
    const pct = peak.gt(0) ? dd.div(peak).times(100).toNumber() : 0;
    if (dd.gt(maxDd)) maxDd = dd;
    if (pct > maxPct) maxPct = pct;
    out.push({ ts: p.ts, drawdown: dd, drawdownPct: pct });
  }
  return { maxDrawdown: maxDd, maxDrawdownPct: maxPct, curve: out };
}

export function computeMetrics(input: MetricsInput): PerformanceMetrics {
  const returns = equityReturns(input.equityCurve);
  const dd = drawdowns(input.equityCurve);
  const curve = input.equityCurve;
  const spanMs = curve.length > 1 ? curve[curve.length - 1]!.ts - curve[0]!.ts : 0;
  const meanPeriodMs = returns.length > 0 && spanMs > 0 ? spanMs / returns.length : null;
  const perPeriodSharpe = sharpeRatio(returns, 1);
  const perPeriod: PerPeriodSharpe = {
    sharpe: perPeriodSharpe,
    standardError: perPeriodSharpe === null ? null : sharpeStandardError(perPeriodSharpe, returns.length),
    periods: returns.length,
    meanPeriodMs,
  };
  const refusal = annualisationRefusal(spanMs, returns.length);
  const ppy = refusal === undefined && meanPeriodMs !== null ? periodsPerYear(meanPeriodMs) : undefined;

  const { count, turnover, closing, wins, grossProfit, grossLoss } =
    input.fillStats ?? addFillStats(EMPTY_FILL_STATS, input.fills ?? []);

  const calmar =
    ppy !== undefined && returns.length > 0 && dd.maxDrawdownPct > 0
      ? (mean(returns) * ppy) / (dd.maxDrawdownPct / 100)
      : null;
  const first = input.equityCurve[0]?.equity ?? new Decimal(0);
  const last = input.equityCurve[input.equityCurve.length - 1]?.equity ?? first;

  return {
    totalPnl: input.realizedPnl.plus(input.unrealizedPnl).minus(input.fees),
    realizedPnl: input.realizedPnl,
    unrealizedPnl: input.unrealizedPnl,
    fees: input.fees,
    returns,
    sharpe: ppy === undefined ? null : sharpeRatio(returns, ppy),
    sharpeConvention: sharpeConvention(input.periodMs),
    sortino: ppy === undefined ? null : sortinoRatio(returns, ppy),
    ...(refusal !== undefined ? { annualisedNullReason: refusal } : {}),
    perPeriod,
    maxDrawdown: dd.maxDrawdown,
    maxDrawdownPct: dd.maxDrawdownPct,
    calmar,
    winRate: closing > 0 ? wins / closing : null,
    profitFactor: grossLoss.gt(0) ? grossProfit.div(grossLoss).toNumber() : null,
    expectancy: closing > 0 ? grossProfit.minus(grossLoss).div(closing) : new Decimal(0),
    tradeCount: count,
    turnover,
    startingEquity: first,
    endingEquity: last,
  };
}
