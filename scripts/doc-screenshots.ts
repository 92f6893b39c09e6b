// Regenerates the README screenshots docs/img/dashboard.png and docs/img/report.png from a REAL local
// session (embedded mode, DIVERGENCE, market making + arbitrage), in the headless Debian chromium the
// browser tests use. Usage: npx tsx scripts/doc-screenshots.ts [durationS=75] [outDir=docs/img]
import { mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { LocalSession } from "../session/LocalSession";
import { launchChromium } from "../test/e2e-embedded/browser";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const durationS = Number(process.argv[2] ?? 75);
  const outDir = resolve(process.argv[3] ?? "docs/img");
  mkdirSync(outDir, { recursive: true });
  const tmp = mkdtempSync(join(tmpdir(), "tse-shots-"));
  const session = await LocalSession.start({
    mode: "embedded",
    scenario: "DIVERGENCE",
    seed: 7,
    strategies: ["market-making", "arbitrage"],
    outDir: tmp,
    ephemeralPorts: true,
    log: (l) => console.error(l),
  });
  const browser = await launchChromium({ width: 1360, height: 900 });
  try {
    const page = browser.context.pages()[0] ?? (await browser.context.newPage());
    await page.goto(session.endpoints.dashboard);
    // Let the session trade for most of its run, then take the live dashboard.
    for (let s = 0; s < durationS - 5; s += 5) {
      await sleep(5_000);
      console.error(`[shots] session running ${s + 5}/${durationS} s`);
    }
    await page.waitForSelector('#equity-chart svg[data-chart="equity"] path.series-line');
    await page.screenshot({ path: join(outDir, "dashboard.png"), clip: { x: 0, y: 0, width: 1360, height: 900 } });
    const result = await session.stop("screenshots taken");
    await page.setViewportSize({ width: 1240, height: 1000 });
    await page.goto(pathToFileURL(result.htmlPath).href);
    await page.screenshot({ path: join(outDir, "report.png"), clip: { x: 0, y: 0, width: 1240, height: 1000 } });
  } finally {
    await browser.close();
    rmSync(tmp, { recursive: true, force: true });
  }
  for (const f of ["dashboard.png", "report.png"]) {
    console.log(`${join(outDir, f)} ${(statSync(join(outDir, f)).size / 1024).toFixed(0)} KB`);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
