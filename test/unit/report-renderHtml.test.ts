import { describe, expect, it } from "vitest";
import { drawdownPctFromEquity, positionSeriesFromTrades } from "../../lib/report/curves";
import { formatMoney, formatPercent } from "../../lib/report/format";
import { renderReportHtml } from "../../lib/report/renderHtml";
import { parseReport, type Report } from "../../lib/report/reportSchema";
import { generateSyntheticRun } from "../fixtures/syntheticTrading";

function minimalReport(overrides: Partial<Report> = {}): Report {
  return parseReport({
    strategy: "market-making",
    startedAt: "2026-01-01T00:00:00.000Z",
    endedAt: "2026-01-01T00:03:00.000Z",
    meta: { runId: "r1", mode: "backtest" },
    trades: [
      {
        ts: "2026-01-01T00:00:30.000Z",
        venue: "alpha",
        symbol: "BTC-USD",
        side: "BUY",
        qty: "0.5",
        price: "100",
        fee: "0.01",
      },
      {
        ts: "2026-01-01T00:01:30.000Z",
        venue: "alpha",
        symbol: "BTC-USD",
        side: "SELL",
        qty: "0.2",
        price: "110",
        fee: "0.01",
        realizedPnl: "2",
      },
    ],
    equityCurve: [
      { ts: "2026-01-01T00:00:00.000Z", equity: "1000" },
      { ts: "2026-01-01T00:01:00.000Z", equity: "1100" },
      { ts: "2026-01-01T00:02:00.000Z", equity: "990" },
      { ts: "2026-01-01T00:03:00.000Z", equity: "1050" },
    ],
    metrics: {
      totalPnl: "50",
      realizedPnl: "2",
      unrealizedPnl: "48.02",
      fees: "0.02",
      sharpe: 1.5,
      sharpeConvention: "per-minute returns x sqrt(525600)",
      sortino: null,
      maxDrawdown: "110",
      maxDrawdownPct: 10,
      calmar: null,
      winRate: 1,
      profitFactor: null,
      expectancy: "2",
      tradeCount: 2,
      turnover: "72",
    },
    ...overrides,
  });
}

describe("renderReportHtml", () => {
  it("is one self-contained document: no scripts, no external references", () => {
    const html = renderReportHtml(generateSyntheticRun({ minutes: 5 }).report);
    expect(html.startsWith("<!doctype html>")).toBe(true);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/@import|url\(/i);
    expect(html).toContain('data-chart="equity"');
    expect(html).toContain('data-chart="drawdown"');
    expect(html).toContain('data-chart-group="position"');
  });

  it("escapes every text from the report (no HTML injection)", () => {
    const evil = '<img src=x onerror="alert(1)">';
    const report = minimalReport({
      strategy: evil,
      meta: { runId: `</title><script>alert(2)</script>`, mode: "backtest", scenario: evil },
    });
    report.trades[0]!.symbol = "<svg onload=alert(3)>";
    report.metrics.sharpeConvention = "<b>bold</b>";
    const html = renderReportHtml(report);
    expect(html).not.toContain("<img src=x");
    expect(html).not.toContain("<script>alert");
    expect(html).not.toContain("<svg onload");
    expect(html).not.toContain("<b>bold</b>");
    expect(html).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;");
  });

  it("caps the trades table and states the total", () => {
    const run = generateSyntheticRun({ minutes: 20 });
    const total = run.report.trades.length;
    expect(total).toBeGreaterThan(50);
    const html = renderReportHtml(run.report, { maxTrades: 50 });
    expect(html).toContain(`data-rows="50" data-total="${total}"`);
    expect(html).toContain(`Showing the last 50 of ${total.toLocaleString("en-US")} trades`);
    // The rows shown are the most recent ones.
    const lastTs = run.report.trades.at(-1)!.ts;
    expect(html).toContain(`${lastTs.slice(0, 10)} ${lastTs.slice(11, 23)}`);
  });

  it("derives drawdown from equity and positions from fills when the report has neither", () => {
    const html = renderReportHtml(minimalReport());
    expect(html).toContain("derived from the equity curve");
    expect(html).toContain("rebuilt from fills");
    expect(html).toContain("Sharpe convention:</strong> per-minute returns x sqrt(525600)");
    expect(drawdownPctFromEquity(minimalReport().equityCurve).map((p) => p.y)).toEqual([0, 0, -10, -(50 / 1100) * 100]);
    const [btc] = positionSeriesFromTrades(minimalReport().trades);
    expect(btc?.points.map((p) => p.y)).toEqual([0.5, 0.3]);
  });

  it("shows signed, coloured PnL and units", () => {
    const html = renderReportHtml(minimalReport({ metrics: { ...minimalReport().metrics, totalPnl: "-1234.5" } }));
    expect(html).toContain('<span class="neg">\u2212$1,234.50</span>');
    expect(formatMoney("12.345", true)).toBe("+$12.34"); // banker's rounding on exact decimals
    expect(formatPercent(12.5)).toBe("12.50\u202f%");
    expect(formatPercent(0.00056)).toBe("0.00056\u202f%"); // tiny but not zero: never "0.00 %"
    expect(formatPercent(-0.0000921, 3, true)).toBe("\u22120.000092\u202f%");
    expect(formatPercent(0)).toBe("0.00\u202f%");
  });
});

describe("renderReportFile", () => {
  it("writes report.html next to report.json, and names the bad field of an invalid report", async () => {
    const { mkdtempSync, readFileSync, rmSync, writeFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { renderReportFile, ReportFileError } = await import("../../lib/report/renderReportFile");
    const dir = mkdtempSync(join(tmpdir(), "tse-rrf-"));
    try {
      const json = join(dir, "report.json");
      writeFileSync(json, JSON.stringify(minimalReport()));
      const out = await renderReportFile(json);
      expect(out).toBe(join(dir, "report.html"));
      expect(readFileSync(out, "utf8")).toContain('data-chart="equity"');

      const bad = minimalReport() as unknown as { trades: { qty: string }[] };
      bad.trades[1]!.qty = "1e3";
      writeFileSync(json, JSON.stringify(bad));
      await expect(renderReportFile(json)).rejects.toThrow(ReportFileError);
      await expect(renderReportFile(json)).rejects.toThrow(/trades\.1\.qty: expected a decimal string/);
      await expect(renderReportFile(join(dir, "missing.json"))).rejects.toThrow(/cannot read \(ENOENT\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
