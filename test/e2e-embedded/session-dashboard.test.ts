// The live dashboard of a REAL local session (embedded mode) in headless Chromium: the page loads, the equity
// chart is drawn with data points from the running engine, and the kill switch goes through the engine's control
// API (SetTradingState) to HALTED. Then the session's report.html opens offline and shows its charts.
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalSession, type SessionResult } from "../../session/LocalSession";
import { type LaunchedBrowser, launchChromium } from "./browser";

const OUT_DIR = join(process.cwd(), "test-output");

async function vertices(page: Page, selector: string): Promise<number[]> {
  return page.$$eval(selector, (paths) => paths.map((p) => (p.getAttribute("d")?.match(/[ML]/g) ?? []).length));
}

describe("local session: live dashboard and report in headless Chromium", () => {
  let session: LocalSession;
  let browser: LaunchedBrowser;
  let page: Page;
  let result: SessionResult | undefined;
  const foreign: string[] = [];

  beforeAll(async () => {
    session = await LocalSession.start({
      mode: "embedded",
      scenario: "DIVERGENCE",
      seed: 3,
      strategies: ["market-making", "arbitrage"],
      ephemeralPorts: true,
      outDir: join(OUT_DIR, "session-dashboard"),
      log: () => {},
    });
    browser = await launchChromium({ width: 1440, height: 1000 });
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    page.setDefaultTimeout(15_000);
  }, 600_000); // first run on a fresh machine installs chromium

  afterAll(async () => {
    await browser?.close();
    await session?.stop("afterAll").catch(() => undefined);
  }, 60_000);

  it("shows the running engine's equity curve and halts it with the kill switch", async () => {
    const url = session.endpoints.dashboard;
    await browser.context.route("**/*", (route) => {
      const u = route.request().url();
      if (u.startsWith(session.endpoints.dashboardBase)) return route.continue();
      foreign.push(u);
      return route.abort();
    });
    await page.goto(url, { waitUntil: "domcontentloaded" });
    await page.waitForSelector('#equity-chart svg[data-chart="equity"] path.series-line', { timeout: 20_000 });
    await expect.poll(() => page.locator("#conn").getAttribute("data-state"), { timeout: 10_000 }).toBe("live");
    // About one equity sample per second: the chart grows while we watch.
    const first = (await vertices(page, '#equity-chart svg[data-chart="equity"] path.series-line'))[0] ?? 0;
    await expect
      .poll(async () => (await vertices(page, '#equity-chart svg[data-chart="equity"] path.series-line'))[0] ?? 0, {
        timeout: 15_000,
      })
      .toBeGreaterThan(first + 3);
    // The engine traded: fills and quotes on the page.
    await expect
      .poll(async () => Number(await page.locator("#fills").getAttribute("data-rows")), { timeout: 20_000 })
      .toBeGreaterThan(0);
    expect(await page.locator("#risk-state").textContent()).toBe("ACTIVE");
    // Settlement at the custodian and the reconciliation schedule, live (every 5 s).
    await expect
      .poll(async () => Number(await page.locator("#stl-instructed").textContent()), { timeout: 20_000 })
      .toBeGreaterThan(0);
    await expect
      .poll(async () => Number(await page.locator("#rec-runs").textContent()), { timeout: 15_000 })
      .toBeGreaterThan(0);
    expect(await page.locator("#rec-breaks").textContent()).toBe("0");
    expect(await page.locator("#stl-failed").textContent()).toBe("0");

    await page.click("#kill-switch");
    await page.waitForSelector("#kill-confirm:not([hidden])");
    await page.fill("#kill-reason", "e2e: operator halt from the dashboard");
    await page.click("#kill-confirm-btn");
    await expect.poll(() => page.locator("#risk-state").textContent(), { timeout: 5_000 }).toBe("HALTED");
    // It went through the control API: the engine itself is HALTED and nothing of ours rests on the book.
    expect((await session.peers.engine.getRiskStatus("")).tradingState).toBe(3);
    await expect
      .poll(() => session.peers.exchange.listOpenOrders({ accountId: "default" }).then((o) => o.length), {
        timeout: 3_000,
      })
      .toBe(0);
    await expect.poll(() => page.locator("#open-orders").getAttribute("data-rows"), { timeout: 5_000 }).toBe("0");

    mkdirSync(OUT_DIR, { recursive: true });
    await page.screenshot({ path: join(OUT_DIR, "session-dashboard.png"), fullPage: true });
    expect(existsSync(join(OUT_DIR, "session-dashboard.png"))).toBe(true);
    expect(foreign).toEqual([]);
  }, 90_000);

  it("writes report.html that opens offline and shows its charts", async () => {
    result = await session.stop("test end");
    expect(result.report.trades.length).toBeGreaterThan(0);
    expect(result.report.risk?.finalState).toBe("HALTED");
    expect(result.report.settlement?.instructed).toBe(result.counts.fillsInState);
    const offline = await launchChromium({ width: 1280, height: 900 }, { bypassCSP: true });
    try {
      const attempted: string[] = [];
      await offline.context.setOffline(true);
      await offline.context.route("**/*", (route) => {
        const u = route.request().url();
        if (u.startsWith("file://")) return route.continue();
        attempted.push(u);
        return route.abort("internetdisconnected");
      });
      const p = offline.context.pages()[0] ?? (await offline.context.newPage());
      await p.goto(pathToFileURL(result.htmlPath).href, { waitUntil: "load" });
      const [equity] = await vertices(p, 'svg[data-chart="equity"] path.series-line');
      expect(equity).toBeGreaterThan(3);
      const [drawdown] = await vertices(p, 'svg[data-chart="drawdown"] path.series-line');
      expect(drawdown).toBeGreaterThan(3);
      const positions = await vertices(p, '[data-chart-group="position"] svg path.series-line');
      expect(positions.length).toBeGreaterThan(0);
      expect(await p.locator("h2", { hasText: "Settlement and reconciliation" }).count()).toBe(1);
      await p.screenshot({ path: join(OUT_DIR, "session-report.png"), fullPage: false });
      expect(attempted).toEqual([]);
    } finally {
      await offline.close();
    }
  }, 60_000);
});
