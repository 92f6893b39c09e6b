// Report rendering at backtest scale: a report with 200k equity points and 100k trades rendered to
// HTML (charts thinned by min/max bucketing, trades table capped at 500). Baseline in the same run:
// JSON.stringify of the same report, i.e. what writing report.json costs anyway.
import { renderReportHtml } from "../lib/report/renderHtml";
import type { Report, ReportTrade } from "../lib/report/reportSchema";
import { mulberry32 } from "../test/fixtures/syntheticTrading";

function bigReport(points: number, tradeCount: number): Report {
  const rnd = mulberry32(42);
  const t0 = Date.parse("2026-01-01T00:00:00.000Z");
  let eq = 1_000_000;
  const equityCurve = Array.from({ length: points }, (_, i) => {
    eq += (rnd() - 0.495) * 200;
    return { ts: new Date(t0 + i * 1000).toISOString(), equity: eq.toFixed(2) };
  });
  const trades: ReportTrade[] = Array.from({ length: tradeCount }, (_, i) => ({
    ts: new Date(t0 + Math.floor((i * points) / tradeCount) * 1000).toISOString(),
    venue: i % 2 ? "alpha" : "beta",
    symbol: i % 3 ? "BTC-USD" : "ETH-USD",
    side: rnd() < 0.5 ? "BUY" : "SELL",
    qty: (0.01 + rnd()).toFixed(3),
    price: (95_000 + rnd() * 1000).toFixed(2),
    fee: (rnd() * 2).toFixed(4),
    strategyId: i % 5 ? "market-making" : "arbitrage",
    liquidity: i % 5 ? "MAKER" : "TAKER",
  }));
  return {
    schemaVersion: 1,
    strategy: "market-making",
    startedAt: equityCurve[0]!.ts,
    endedAt: equityCurve.at(-1)!.ts,
    meta: { runId: "bench", mode: "backtest" },
    trades,
    equityCurve,
    metrics: {
      totalPnl: "1",
      realizedPnl: "1",
      unrealizedPnl: "0",
      fees: "0",
      sharpe: 1,
      sharpeConvention: "bench",
      sortino: 1,
      maxDrawdown: "1",
      maxDrawdownPct: 1,
      calmar: 1,
      winRate: 0.5,
      profitFactor: 1,
      expectancy: "0",
      tradeCount,
      turnover: "1",
    },
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export async function run(progress: (m: string) => void): Promise<Record<string, number>> {
  const report = bigReport(200_000, 100_000);
  const render: number[] = [];
  const json: number[] = [];
  let bytes = 0;
  let jsonBytes = 0;
  for (let i = 0; i < 5; i++) {
    let t = performance.now();
    bytes = renderReportHtml(report).length;
    render.push(performance.now() - t);
    t = performance.now();
    jsonBytes = JSON.stringify(report).length;
    json.push(performance.now() - t);
    progress(`run ${i + 1}/5: html ${render.at(-1)!.toFixed(0)} ms, json ${json.at(-1)!.toFixed(0)} ms`);
  }
  return {
    "report.render_html_ms_200k_points_100k_trades": Math.round(median(render)),
    "report.baseline_json_stringify_ms": Math.round(median(json)),
    "report.html_bytes": bytes,
    "report.json_bytes": jsonBytes,
  };
}
