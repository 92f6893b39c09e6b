// Domain PerformanceMetrics → the report's metrics block (money as exact decimal strings, ratios as numbers).
import type { PerformanceMetrics } from "../domain/metrics";
import type { ReportMetrics } from "./reportSchema";

/** Non-finite ratios become null (JSON has no Infinity/NaN). */
function ratio(x: number | null): number | null {
  return x === null || !Number.isFinite(x) ? null : x;
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
