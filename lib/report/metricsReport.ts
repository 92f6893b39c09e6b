// Domain PerformanceMetrics → the report's metrics block (money as exact decimal strings, ratios as numbers).
import { Decimal } from "../domain/decimal";
import type { MetricsFill, PerformanceMetrics } from "../domain/metrics";
import type { FillRecord } from "../ports/StateStore";
import type { ReportMetrics } from "./reportSchema";

/** Non-finite ratios become null (JSON has no Infinity/NaN). */
function ratio(x: number | null): number | null {
  return x === null || !Number.isFinite(x) ? null : x;
}

/** A stored fill as the metrics see it: a closing fill carries its realized PnL, an opening fill none. */
export function metricsFillFromRecord(f: Pick<FillRecord, "quantity" | "price" | "fee" | "realizedPnl">): MetricsFill {
  const fill: MetricsFill = { qty: new Decimal(f.quantity), price: new Decimal(f.price), fee: new Decimal(f.fee) };
  if (f.realizedPnl !== null) fill.realizedPnl = new Decimal(f.realizedPnl);
  return fill;
}

export function metricsToReport(m: PerformanceMetrics): ReportMetrics {
  return {
    totalPnl: m.totalPnl.toFixed(),
    realizedPnl: m.realizedPnl.toFixed(),
    unrealizedPnl: m.unrealizedPnl.toFixed(),
    fees: m.fees.toFixed(),
    sharpe: ratio(m.sharpe),
    sharpeConvention: m.sharpeConvention,
    sortino: ratio(m.sortino),
    ...(m.annualisedNullReason !== undefined ? { annualisedNullReason: m.annualisedNullReason } : {}),
    perPeriodSharpe: {
      sharpe: ratio(m.perPeriod.sharpe),
      standardError: ratio(m.perPeriod.standardError),
      periods: m.perPeriod.periods,
      meanPeriodMs: m.perPeriod.meanPeriodMs,
    },
    maxDrawdown: m.maxDrawdown.toFixed(),
    maxDrawdownPct: Number.isFinite(m.maxDrawdownPct) ? m.maxDrawdownPct : 0,
    calmar: ratio(m.calmar),
    winRate: ratio(m.winRate),
    profitFactor: ratio(m.profitFactor),
    // A mean, not a sum: 8 decimal places is exact enough and keeps the string readable.
    expectancy: m.expectancy.toDecimalPlaces(8).toFixed(),
    tradeCount: m.tradeCount,
    turnover: m.turnover.toFixed(),
    startingEquity: m.startingEquity.toFixed(),
    endingEquity: m.endingEquity.toFixed(),
  };
}
