// The report's equity and position curves stay bounded however long the session runs: past MAX_CURVE_SAMPLES every
// other sample goes and the period doubles; the last sample (taken at stop) is kept, so the report's PnL is current.
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { LocalSession } from "../../session/LocalSession";
import { eventually } from "../support/tradingFlow";

const MAX_CURVE_SAMPLES = 40; // a small bound, so a short test thins several times
let session: LocalSession | undefined;
afterAll(async () => {
  await session?.stop("afterAll").catch(() => undefined);
}, 60_000);

it("a session sampled every 2 ms keeps at most maxCurveSamples points, evenly thinned, ending at the stop", async () => {
  session = await LocalSession.start({
    mode: "embedded",
    scenario: "DIVERGENCE",
    seed: 3,
    strategies: ["market-making"],
    ephemeralPorts: true,
    outDir: join(process.cwd(), "test-output", "session-curves"),
    log: () => {},
    sampleMs: 2,
    maxCurveSamples: MAX_CURVE_SAMPLES,
  });
  const s = session;
  // Well past one thinning: the sampler skips ticks while a sample is running, so count what it took.
  await eventually(
    "samples past twice the bound",
    async () => (s as unknown as { watch: { samplesTaken: number } }).watch.samplesTaken > 4.5 * MAX_CURVE_SAMPLES,
    20_000,
    50,
  );
  const stoppedAt = Date.now();
  const r = await s.stop("test done");
  session = undefined;
  const curve = r.report.equityCurve;
  expect(curve.length).toBeLessThanOrEqual(MAX_CURVE_SAMPLES);
  expect(curve.length).toBeGreaterThan(MAX_CURVE_SAMPLES / 4);
  const ts = curve.map((p) => Date.parse(p.ts));
  expect([...ts].sort((a, b) => a - b)).toEqual(ts);
  expect(ts.at(-1)!).toBeGreaterThanOrEqual(stoppedAt); // the stop's own sample
  expect(r.report.positionCurve?.length).toBe(curve.length * 2); // two symbols per sample
});
