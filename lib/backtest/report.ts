// BacktestResult (domain) → report.json (lib/report/reportSchema), validated before it is written.

import { metricsToReport } from "../report/metricsReport";
import { type Report, ReportSchema } from "../report/reportSchema";
import type { DataQualityReport } from "./dataQuality";
import type { BacktestResult } from "./engine/BacktestEngine";

export interface BacktestReportInfo {
  strategy: string;
  runId: string;
  seed?: number;
  dataFile?: string;
  config?: Record<string, unknown>;
  tradesFile?: string;
  dataQuality?: DataQualityReport;
}

const iso = (ts: number): string => new Date(ts).toISOString();

export function backtestToReport(r: BacktestResult, info: BacktestReportInfo, generatedAt = Date.now()): Report {
  const report: Report = {
    schemaVersion: 1,
    strategy: info.strategy,
    startedAt: iso(r.startedAt),
    endedAt: iso(r.endedAt),
    meta: {
      runId: info.runId,
      mode: "backtest",
      ticks: r.ticks,
      tradePrints: r.tradePrints,
      ...(info.tradesFile !== undefined ? { tradesFile: info.tradesFile } : {}),
      generatedAt: iso(generatedAt),
      ...(info.seed !== undefined ? { seed: info.seed } : {}),
      ...(info.dataFile !== undefined ? { dataFile: info.dataFile } : {}),
    },
    ...(info.config ? { config: info.config } : {}),
    trades: r.trades.map((t) => ({
      ts: iso(t.ts),
      venue: t.venue,
      symbol: t.symbol,
      side: t.side,
      qty: t.qty.toFixed(),
      price: t.price.toFixed(),
      fee: t.fee.toFixed(),
      strategyId: t.strategyId,
      liquidity: t.liquidity,
      orderId: t.orderId,
      realizedPnl: t.realizedPnl?.toFixed() ?? null,
    })),
    equityCurve: r.equityCurve.map((p) => ({ ts: iso(p.ts), equity: p.equity.toFixed() })),
    positionCurve: r.positionCurve.map((p) => ({ ts: iso(p.ts), symbol: p.symbol, quantity: p.quantity.toFixed() })),
    drawdownCurve: r.drawdownCurve.map((p) => ({
      ts: iso(p.ts),
      drawdown: p.drawdown.toFixed(),
      drawdownPct: p.drawdownPct,
    })),
    metrics: metricsToReport(r.metrics),
    risk: {
      finalState: r.risk.finalState,
      denials: r.risk.denials,
      events: r.risk.events.map((e) => ({ ts: iso(e.ts), kind: e.kind, message: e.message })),
      throttled: r.ordersThrottled,
    },
    fillModel: r.fillModel,
    latencyModel: r.latency,
    valuation: r.valuation,
    ...(info.dataQuality ? { dataQuality: info.dataQuality } : {}),
  };
  return ReportSchema.parse(report);
}
