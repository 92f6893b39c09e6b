// The live dashboard in real headless Chromium (Debian `chromium` via playwright-core): a session-like
// feed mutates a DashboardState over time; the page must draw the equity curve with data points,
// keep updating it, and the kill switch must reach the source and show HALTED.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TradingState } from "../../lib/domain/types";
import { DashboardState } from "../../session/dashboard/DashboardState";
import { type DashboardServer, startDashboardServer } from "../../session/dashboard/server";
import { SyntheticFeed } from "../fixtures/syntheticFeed";
import { generateSyntheticRun } from "../fixtures/syntheticTrading";
import { type LaunchedBrowser, launchChromium } from "./browser";

const OUT_DIR = join(process.cwd(), "test-output");

/** Vertices in the drawn path of a chart ("M" + every "L"), read from the live DOM. */
async function chartVertices(page: Page, chart: string): Promise<number> {
  const path = page.locator(`svg[data-chart="${chart}"] path.series-line`);
  if ((await path.count()) === 0) return 0;
  const d = (await path.first().getAttribute("d")) ?? "";
  return (d.match(/[ML]/g) ?? []).length;
}

describe("live dashboard in headless Chromium", () => {
  let browser: LaunchedBrowser;
  let server: DashboardServer;
  let state: DashboardState;
  let ticker: NodeJS.Timeout | undefined;
  let startSession: () => void = () => undefined;
  let page: Page;
  const stateCalls: { state: TradingState; reason: string }[] = [];
  const foreignRequests: string[] = [];

  beforeAll(async () => {
    const run = generateSyntheticRun({ seed: 11, minutes: 60 });
    let simNow = Date.parse(run.report.startedAt);
    state = new DashboardState({
      clock: () => simNow,
      runId: run.report.meta?.runId ?? "test-run",
      mode: "embedded",
      scenario: "DIVERGENCE",
      strategies: ["market-making", "arbitrage"],
      // Stands where the session's control-API call goes: records what the engine was asked.
      onSetTradingState: async (s, reason) => {
        stateCalls.push({ state: s, reason });
      },
    });
    const feed = new SyntheticFeed(state, run);
    simNow += 60_000;
    feed.advanceTo(simNow);
    server = await startDashboardServer({ source: state, pushIntervalMs: 200 });
    // The "session" keeps trading once the page is up: 10 s of market time every 100 ms of wall time.
    // Past the end of the data it still republishes (that is how a halt clears the open orders).
    startSession = () => {
      ticker ??= setInterval(() => {
        simNow += 10_000;
        feed.advanceTo(simNow);
      }, 100);
    };
    browser = await launchChromium({ width: 1440, height: 1000 });
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    page.setDefaultTimeout(15_000);
    await browser.context.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith(server.baseUrl)) return route.continue();
      foreignRequests.push(url);
      return route.abort();
    });
  }, 600_000); // first run on a fresh machine installs chromium (apt-get, ~125 MB)

  afterAll(async () => {
    if (ticker) clearInterval(ticker);
    await browser?.close();
    await server?.close();
  }, 30_000);

  it("draws the equity and drawdown charts with data points and keeps updating them", async () => {
    await page.goto(server.url, { waitUntil: "domcontentloaded" });
    // The token left the address bar for a cookie (as Jupyter does).
    expect(page.url()).toBe(server.baseUrl);
    await page.waitForSelector('#equity-chart svg[data-chart="equity"] path.series-line');
    await expect.poll(() => page.locator("#conn").getAttribute("data-state"), { timeout: 10_000 }).toBe("live");

    const first = await chartVertices(page, "equity");
    startSession();
    expect(first).toBeGreaterThan(10);
    // Live: the session adds points and the chart grows without a reload.
    await expect.poll(() => chartVertices(page, "equity"), { timeout: 10_000 }).toBeGreaterThan(first + 10);
    expect(await chartVertices(page, "drawdown")).toBeGreaterThan(10);

    // The chart is actually laid out on screen, not just present in the DOM.
    // The SVG is swapped on every push, so poll: a detached node has no box for a moment.
    const svgBox = async () => {
      const b = await page.locator('#equity-chart svg[data-chart="equity"]').boundingBox();
      return { width: b?.width ?? 0, height: b?.height ?? 0 };
    };
    await expect.poll(async () => (await svgBox()).width > 400 && (await svgBox()).height > 100).toBe(true);

    await expect.poll(() => page.locator("#positions tr").count()).toBeGreaterThan(0);
    expect(Number(await page.locator("#fills").getAttribute("data-rows"))).toBeGreaterThan(0);
    expect(Number(await page.locator("#open-orders").getAttribute("data-rows"))).toBeGreaterThan(0);
    expect(await page.locator("#risk-state").textContent()).toBe("ACTIVE");
    // The nonce CSP lets our own stylesheet apply: the kill switch is the red button.
    const killColour = await page
      .locator("#kill-switch")
      .evaluate(
        (el) =>
          (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(el)
            .backgroundColor,
      );
    expect(killColour).toBe("rgb(220, 38, 38)");
    expect(await page.locator("#kpi-equity").textContent()).toMatch(/^\$\d{3},\d{3}\.\d{2}$/);
  });

  it("kill switch: click, confirm, and the page and the source show HALTED", async () => {
    // Also runs on its own (vitest -t): open the page and start the session if the first test didn't.
    if (!page.url().startsWith(server.baseUrl)) await page.goto(server.url, { waitUntil: "domcontentloaded" });
    startSession();
    await expect.poll(() => page.locator("#risk-state").textContent()).toBe("ACTIVE");
    await page.click("#kill-switch");
    await page.waitForSelector("#kill-confirm:not([hidden])");
    await page.fill("#kill-reason", "e2e: operator halt");
    await page.click("#kill-confirm-btn");

    await expect.poll(() => page.locator("#risk-state").textContent(), { timeout: 5_000 }).toBe("HALTED");
    expect(state.tradingState).toBe("HALTED");
    expect(state.snapshot().riskState).toBe("HALTED");
    expect(stateCalls).toEqual([{ state: "HALTED", reason: "e2e: operator halt" }]);
    expect(await page.locator("#kill-switch").isDisabled()).toBe(true);
    await expect.poll(() => page.locator("#risk-state-pill").textContent()).toBe("HALTED");
    // The feed cancels resting quotes once halted; the table follows.
    await expect.poll(() => page.locator("#open-orders").getAttribute("data-rows"), { timeout: 5_000 }).toBe("0");
    await expect.poll(() => page.locator("#alerts").textContent()).toContain("ACTIVE \u2192 HALTED");

    mkdirSync(OUT_DIR, { recursive: true });
    await page.screenshot({ path: join(OUT_DIR, "dashboard.png"), fullPage: true });
    // The page loaded nothing from anywhere but its own server.
    expect(foreignRequests).toEqual([]);
  });

  it("without the token a browser gets 401 everywhere, and a rebinding name (same IP, foreign Host) gets 403", async () => {
    // A second browser with no cookie; its resolver maps evil.example to 127.0.0.1, as DNS rebinding would.
    const other = await launchChromium(
      { width: 800, height: 600 },
      {
        args: ["--host-resolver-rules=MAP evil.example 127.0.0.1"],
      },
    );
    try {
      const p = other.context.pages()[0] ?? (await other.context.newPage());
      const page401 = await p.goto(server.baseUrl, { waitUntil: "domcontentloaded" });
      expect(page401?.status()).toBe(401);
      const api = await p.evaluate(async () => {
        const r = await fetch("/api/snapshot");
        const k = await fetch("/api/kill-switch", {
          method: "POST",
          headers: { "content-type": "application/json", "x-tse-dashboard": "1" },
          body: "{}",
        });
        return [r.status, k.status];
      });
      expect(api).toEqual([401, 401]);
      const rebound = `http://evil.example:${server.port}`;
      const withToken = await p.goto(`${rebound}/?token=${server.token}`, { waitUntil: "domcontentloaded" });
      expect(withToken?.status()).toBe(403);
      const snap = await p.goto(`${rebound}/api/snapshot`, { waitUntil: "domcontentloaded" });
      expect(snap?.status()).toBe(403);
      expect(await p.content()).not.toContain("equityCurve");
    } finally {
      await other.close();
    }
  });
});
