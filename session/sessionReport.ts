// What a session records while it runs (equity and positions sampled about once a second) and the report it
// writes on exit: the same schema as the backtest report (lib/report/reportSchema.ts), validated before writing.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Decimal } from "../lib/domain/decimal";
import { computeMetrics, drawdowns } from "../lib/domain/metrics";
import type { FillRecord } from "../lib/ports/StateStore";
import { metricsFillFromRecord, metricsToReport } from "../lib/report/metricsReport";
import { renderReportHtml } from "../lib/report/renderHtml";
import {
  type DenialsByPath,
  denialRows,
  type MarketDataSummary,
  type Report,
  ReportSchema,
} from "../lib/report/reportSchema";

export interface EquitySample {
  ts: number;
  equity: Decimal;
  realized: Decimal;
  unrealized: Decimal;
  fees: Decimal;
}

export interface PositionSample {
  ts: number;
  symbol: string;
  quantity: Decimal;
}

export interface SessionReportInput {
  runId: string;
  mode: "embedded" | "localstack";
  seed: number;
  scenario: string;
  strategies: string[];
  startedAt: number;
  endedAt: number;
  startingEquity: Decimal;
  sampleMs: number;
  fills: readonly FillRecord[];
  equity: readonly EquitySample[];
  positions: readonly PositionSample[];
  risk: {
    finalState: "ACTIVE" | "REDUCING" | "HALTED";
    denials: DenialsByPath;
    events: { ts: number; kind: string; message: string }[];
  };
  config?: Record<string, unknown>;
  /** Settlement at the custodian and reconciliation (sessions with a custodian). */
  settlement?: Report["settlement"];
  reconciliation?: Report["reconciliation"];
  /** The median and p99 traced order's hops (tracing on). */
  latencyWaterfall?: Report["latencyWaterfall"];
  /** Market-data ticks the engine processed. */
  ticks?: number;
  marketData?: MarketDataSummary;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function buildSessionReport(input: SessionReportInput, generatedAt = Date.now()): Report {
  const last = input.equity.at(-1);
  const fills = [...input.fills].sort((a, b) => a.ts - b.ts || (a.sequence ?? 0) - (b.sequence ?? 0));
  const metricFills = fills.map(metricsFillFromRecord);
  const curve = input.equity.map((p) => ({ ts: p.ts, equity: p.equity }));
  const metrics = computeMetrics({
    equityCurve: curve.length > 0 ? curve : [{ ts: input.startedAt, equity: input.startingEquity }],
    fills: metricFills,
    realizedPnl: last?.realized ?? new Decimal(0),
    unrealizedPnl: last?.unrealized ?? new Decimal(0),
    fees: last?.fees ?? new Decimal(0),
    periodMs: input.sampleMs,
  });
  const dd = drawdowns(curve);
  const report: Report = {
    schemaVersion: 1,
    strategy: input.strategies.join(","),
    startedAt: iso(input.startedAt),
    endedAt: iso(input.endedAt),
    meta: {
      runId: input.runId,
      mode: input.mode,
      seed: input.seed,
      scenario: input.scenario,
      ...(input.ticks !== undefined ? { ticks: input.ticks } : {}),
      ...(input.marketData ? { marketData: input.marketData } : {}),
      generatedAt: iso(generatedAt),
    },
    ...(input.config ? { config: input.config } : {}),
    trades: fills.map((f) => ({
      ts: iso(f.ts),
      venue: f.venue,
      symbol: f.symbol,
      side: f.side,
      qty: new Decimal(f.quantity).toFixed(),
      price: new Decimal(f.price).toFixed(),
      fee: new Decimal(f.fee).toFixed(),
      strategyId: f.strategyId,
      ...(f.liquidity ? { liquidity: f.liquidity } : {}),
      orderId: f.clientOrderId,
      realizedPnl: f.realizedPnl === null ? null : new Decimal(f.realizedPnl).toFixed(),
    })),
    equityCurve: curve.map((p) => ({ ts: iso(p.ts), equity: p.equity.toFixed() })),
    positionCurve: input.positions.map((p) => ({ ts: iso(p.ts), symbol: p.symbol, quantity: p.quantity.toFixed() })),
    drawdownCurve: dd.curve.map((p) => ({ ts: iso(p.ts), drawdown: p.drawdown.toFixed(), drawdownPct: p.drawdownPct })),
    metrics: metricsToReport(metrics),
    risk: {
      finalState: input.risk.finalState,
      denials: input.risk.denials,
      events: input.risk.events.map((e) => ({ ts: iso(e.ts), kind: e.kind, message: e.message })),
    },
    ...(input.settlement ? { settlement: input.settlement } : {}),
    ...(input.reconciliation ? { reconciliation: input.reconciliation } : {}),
    ...(input.latencyWaterfall ? { latencyWaterfall: input.latencyWaterfall } : {}),
  };
  return ReportSchema.parse(report);
}

/** Writes <outDir>/report.json and <outDir>/report.html; returns both paths. */
export async function writeSessionReport(report: Report, outDir: string): Promise<{ json: string; html: string }> {
  await mkdir(outDir, { recursive: true });
  const json = join(outDir, "report.json");
  const html = join(outDir, "report.html");
  await writeFile(json, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(html, renderReportHtml(report));
  return { json, html };
}

/** "quoter order-rate 12, price-band 1; functions order-rate 3" (the summary line). */
export function denialSummary(denials: DenialsByPath): string {
  const part = (path: "quoter" | "functions") => {
    const rows = denialRows(denials).filter(([p]) => p === path);
    return `${path} ${rows.length ? rows.map(([, rule, n]) => `${rule} ${n}`).join(", ") : "none"}`;
  };
  return `${part("quoter")}; ${part("functions")}`;
}
