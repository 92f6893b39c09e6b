// Headless Chromium for the browser tests: Debian's `chromium` driven by playwright-core
// (no playwright browser download). A fresh user-data-dir per launch keeps runs independent.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";
import { ensureChromiumAsync } from "../../scripts/ensure-chromium.mjs";

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface LaunchedBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Launch chromium with a fresh profile directory. playwright refuses `--user-data-dir` in args,
 * so the fresh directory goes through launchPersistentContext, which passes it to chromium as that flag.
 */
export async function launchChromium(
  viewport = { width: 1440, height: 900 },
  opts: { bypassCSP?: boolean; args?: string[] } = {},
): Promise<LaunchedBrowser> {
  const executablePath = await ensureChromiumAsync();
  const userDataDir = mkdtempSync(join(tmpdir(), "tse-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    args: [...CHROMIUM_ARGS, ...(opts.args ?? [])],
    headless: true,
    viewport,
    deviceScaleFactor: 1,
    bypassCSP: opts.bypassCSP ?? false,
    timeout: 30_000,
  });
  return {
    context,
    async close() {
      await context.close().catch(() => undefined);
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
