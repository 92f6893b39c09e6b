// With tracing off (no OTEL_* variable), report.html still shows the latency waterfall: built from the hop
// instants the quoter and the session's bus record without spans (lib/telemetry/orderHops.ts).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tracing } from "../../lib/telemetry/tracing";
import { LocalSession } from "../../session/LocalSession";
import { eventually } from "../support/tradingFlow";

describe("latency waterfall with tracing off", () => {
  let session: LocalSession | undefined;

  beforeAll(async () => {
    session = await LocalSession.start({
      mode: "embedded",
      scenario: "DIVERGENCE",
      seed: 3,
      strategies: ["market-making"],
      ephemeralPorts: true,
      outDir: join(process.cwd(), "test-output", "waterfall-untraced"),
      log: () => undefined,
    });
    // Some quoter orders filled and booked (PositionChanged published by fill-handling).
    await eventually(
      "quoter fills booked",
      () => (session!.bus.count("PositionChanged") >= 3 ? true : undefined),
      60_000,
      500,
    );
  }, 90_000);

  afterAll(async () => {
    await session?.stop("test done").catch(() => undefined);
  }, 60_000);

  it("report.html shows the median and p99 order hop by hop, from timestamps, in order", async () => {
    expect(tracing().enabled).toBe(false);
    const r = await session!.stop("waterfall");
    session = undefined;
    const w = r.report.latencyWaterfall;
    expect(w, "a waterfall without spans").toBeDefined();
    expect(w!.source).toBe("timestamps");
    expect(w!.orders).toBeGreaterThan(0);
    for (const o of [w!.median, w!.p99]) {
      expect(o.hops.map((h) => h.hop)).toEqual(["decision", "place", "ack", "fill", "booked"]);
      // Each hop starts where the previous ended; the network and bus hops take time (a clamped, out-of-order
      // instant would show as 0 ms).
      let from = 0;
      for (const h of o.hops) {
        expect(h.fromMs).toBeCloseTo(from, 6);
        from += h.ms;
      }
      for (const h of o.hops.filter((x) => x.hop !== "decision")) expect(h.ms, h.hop).toBeGreaterThan(0);
      expect(o.totalMs).toBeCloseTo(from, 6);
    }
    expect(w!.p99.totalMs).toBeGreaterThanOrEqual(w!.median.totalMs);
    const html = readFileSync(r.htmlPath, "utf8");
    expect(html).toContain('id="latency"');
    expect(html).toContain(`${w!.orders} orders, from the quoter's and the bus's timestamps`);
    expect(html).toContain('class="waterfall"');
  }, 60_000);
});
