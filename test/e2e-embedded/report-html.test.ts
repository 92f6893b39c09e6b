// report.html opened from disk in real headless Chromium with the network cut off: every request
// that is not file:// is refused and recorded, and the charts (equity, drawdown, position) must
// still render with data.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBacktestFile } from "../../lib/backtest/runBacktestFile";
import { renderReportHtml } from "../../lib/report/renderHtml";
import { renderReportFile } from "../../lib/report/renderReportFile";
import { parseReport } from "../../lib/report/reportSchema";
import { generateSyntheticRun } from "../fixtures/syntheticTrading";
import { type LaunchedBrowser, launchChromium } from "./browser";

const OUT_DIR = join(process.cwd(), "test-output");

async function vertices(page: Page, selector: string): Promise<number[]> {
  return page.$$eval(selector, (paths) => paths.map((p) => (p.getAttribute("d")?.match(/[ML]/g) ?? []).length));
}

describe("report.html offline in headless Chromium", () => {
  let browser: LaunchedBrowser;
  let dir: string;
  let page: Page;
  let tradeCount = 0;
  const attempted: string[] = [];
  const requested: string[] = [];

  beforeAll(async () => {
    const run = generateSyntheticRun({ seed: 7, minutes: 60 });
    // Round-trip through JSON and the schema, exactly like `tse report <report.json>` would.
    const report = parseReport(JSON.parse(JSON.stringify(run.report)));
    tradeCount = report.trades.length;
    dir = mkdtempSync(join(tmpdir(), "tse-report-"));
    writeFileSync(join(dir, "report.json"), JSON.stringify(report));
    writeFileSync(join(dir, "report.html"), renderReportHtml(report));

    // bypassCSP: the report's own CSP would silently block an external fetch; with it off, any
    // reference to the network becomes a real request that the route below records and refuses.
    browser = await launchChromium({ width: 1280, height: 900 }, { bypassCSP: true });
    await browser.context.setOffline(true);
    await browser.context.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith("file://")) return route.continue();
      attempted.push(url);
      return route.abort("internetdisconnected");
    });
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    page.setDefaultTimeout(15_000);
    page.on("request", (r) => requested.push(r.url()));
  }, 600_000); // first run on a fresh machine installs chromium (apt-get, ~125 MB)

  afterAll(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it("opens from file:// with no network and renders equity, drawdown and position charts with data", async () => {
    const url = pathToFileURL(join(dir, "report.html")).href;
    const response = await page.goto(url, { waitUntil: "load" });
    expect(response?.ok() ?? true).toBe(true);

    const [equity] = await vertices(page, 'svg[data-chart="equity"] path.series-line');
    expect(equity).toBeGreaterThan(100);
    const [drawdown] = await vertices(page, 'svg[data-chart="drawdown"] path.series-line');
    expect(drawdown).toBeGreaterThan(100);
    const positions = await vertices(page, '[data-chart-group="position"] svg path.series-line');
    expect(positions).toHaveLength(2); // BTC-USD and ETH-USD
    for (const n of positions) expect(n).toBeGreaterThan(20);
    expect(await page.locator('[data-chart-group="position"] .pos-title').allTextContents()).toEqual([
      "BTC-USD net quantity",
      "ETH-USD net quantity",
    ]);

    // Hover tooltips without script: SVG <title> per vertical band.
    const titles = await page.locator('svg[data-chart="equity"] g.hover title').allTextContents();
    expect(titles.length).toBe(160);
    expect(titles[0]).toMatch(/^2026-11-24 09:0\d:\d\d UTC \u2014 Equity: \$2\d\d,\d{3}\.\d\d$/);

    // Charts are laid out at a readable size.
    const box = await page.locator('svg[data-chart="equity"]').boundingBox();
    expect(box?.width ?? 0).toBeGreaterThan(800);
    expect(box?.height ?? 0).toBeGreaterThan(200);

    // Tables: metrics with the Sharpe convention; trades capped at 500 with the total stated.
    expect(await page.locator(".convention").textContent()).toContain("Sharpe convention:");
    expect(await page.locator("table.trades tbody tr").count()).toBe(500);
    expect(await page.locator(".table-note").textContent()).toContain(
      `of ${tradeCount.toLocaleString("en-US")} trades`,
    );
    expect(await page.locator("h1").textContent()).toBe("market-making + arbitrage");

    mkdirSync(OUT_DIR, { recursive: true });
    await page.screenshot({ path: join(OUT_DIR, "report.png"), fullPage: true });

    expect(attempted).toEqual([]);
    expect(requested.length).toBeGreaterThan(0);
    expect(requested.every((u) => u.startsWith("file://"))).toBe(true);
  });
  it("the sample backtest's report.json renders offline with its charts (tse backtest → tse report)", async () => {
    const outDir = join(dir, "backtest");
    const { report, reportPath } = await runBacktestFile({
      dataFile: join(process.cwd(), "data", "sample-l1.csv"),
      strategy: "market-making",
      outDir,
      seed: 1,
      runId: "e2e-sample",
    });
    expect(report.trades.length).toBeGreaterThan(0);
    const htmlPath = await renderReportFile(reportPath);
    await page.goto(pathToFileURL(htmlPath).href, { waitUntil: "load" });

    const [equity] = await vertices(page, 'svg[data-chart="equity"] path.series-line');
    expect(equity).toBeGreaterThan(50);
    const [drawdown] = await vertices(page, 'svg[data-chart="drawdown"] path.series-line');
    expect(drawdown).toBeGreaterThan(50);
    const positions = await vertices(page, '[data-chart-group="position"] svg path.series-line');
    expect(positions.length).toBeGreaterThan(0);
    for (const n of positions) expect(n).toBeGreaterThan(2);
    expect(await page.locator("table.trades tbody tr").count()).toBe(Math.min(500, report.trades.length));
    expect(await page.locator(".meta").textContent()).toContain("e2e-sample");

    mkdirSync(OUT_DIR, { recursive: true });
    await page.screenshot({ path: join(OUT_DIR, "report-backtest.png"), fullPage: true });
    expect(attempted).toEqual([]);
    expect(requested.every((u) => u.startsWith("file://"))).toBe(true);
  });
});
