// Regenerates the README screenshots docs/img/dashboard.png and docs/img/report.png from the seeded
// synthetic session (test/fixtures), in the same headless Debian chromium the browser tests use.
// Usage: npx tsx scripts/doc-screenshots.ts [outDir=docs/img]
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { DashboardState } from "../lib/dashboard/DashboardState";
import { startDashboardServer } from "../lib/dashboard/server";
import { renderReportHtml } from "../lib/report/renderHtml";
import { launchChromium } from "../test/e2e-embedded/browser";
import { SyntheticFeed } from "../test/fixtures/syntheticFeed";
import { generateSyntheticRun } from "../test/fixtures/syntheticTrading";

async function main(): Promise<void> {
  const outDir = resolve(process.argv[2] ?? "docs/img");
  mkdirSync(outDir, { recursive: true });
  const run = generateSyntheticRun({ seed: 7, minutes: 60 });
  const browser = await launchChromium({ width: 1360, height: 900 });
  const tmp = mkdtempSync(join(tmpdir(), "tse-shots-"));
  try {
    const page = browser.context.pages()[0] ?? (await browser.context.newPage());

    // Dashboard, 42 minutes into the session.
    let simNow = Date.parse(run.report.startedAt) + 42 * 60_000;
    const state = new DashboardState({
      clock: () => simNow,
      runId: run.report.meta?.runId ?? "demo",
      mode: "embedded",
      scenario: "DIVERGENCE",
      strategies: ["market-making", "arbitrage"],
    });
    new SyntheticFeed(state, run).advanceTo(simNow);
    state.addAlert({
      ts: simNow - 610_000,
      level: "WARN",
      message: "price-band: alpha BTC-USD limit 98,620.00 is 0.61% from mid (limit 0.50%)",
      rule: "price-band",
    });
    state.addAlert({
      ts: simNow - 190_000,
      level: "INFO",
      message: "arbitrage: ETH-USD beta bid > alpha ask by 14.2 bps after fees; both legs filled",
    });
    simNow += 1;
    const server = await startDashboardServer({ source: state });
    try {
      await page.goto(server.url);
      await page.waitForSelector('#equity-chart svg[data-chart="equity"] path.series-line');
      await page.waitForSelector("#positions tr");
      await page.screenshot({ path: join(outDir, "dashboard.png"), clip: { x: 0, y: 0, width: 1360, height: 900 } });
    } finally {
      await server.close();
    }

    // Report: header, KPIs, equity and drawdown.
    const html = join(tmp, "report.html");
    writeFileSync(html, renderReportHtml(run.report));
    await page.setViewportSize({ width: 1240, height: 1000 });
    await page.goto(pathToFileURL(html).href);
    await page.screenshot({ path: join(outDir, "report.png"), clip: { x: 0, y: 0, width: 1240, height: 1000 } });
  } finally {
    await browser.close();
    rmSync(tmp, { recursive: true, force: true });
  }
  for (const f of ["dashboard.png", "report.png"]) {
    console.log(`${join(outDir, f)} ${(statSync(join(outDir, f)).size / 1024).toFixed(0)} KB`);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
