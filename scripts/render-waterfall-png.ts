// Screenshot of a session report's latency waterfall (the #latency section) in headless Chromium, for the docs:
//   npx tsx scripts/render-waterfall-png.ts <report.html> <out.png>
import { pathToFileURL } from "node:url";
import { launchChromium } from "../test/e2e-embedded/browser";

const [html, out] = process.argv.slice(2);
if (!html || !out) throw new Error("usage: render-waterfall-png.ts <report.html> <out.png>");
const browser = await launchChromium({ width: 900, height: 700 });
try {
  const page = browser.context.pages()[0] ?? (await browser.context.newPage());
  await page.goto(pathToFileURL(html).href);
  await page.locator("#latency").screenshot({ path: out });
} finally {
  await browser.close();
}
