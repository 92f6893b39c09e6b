import { describe, expect, it } from "vitest";
import { buildWaterfall, type OrderTimeline, renderWaterfallSection } from "../../lib/report/waterfall";

const order = (base: number, hops: number[]): OrderTimeline => {
  const at: number[] = [];
  for (const h of hops) at.push((at.at(-1) ?? base) + h);
  const [d, p, a, f, b] = at;
  return { tick: base, decision: d!, place: p!, ack: a!, fill: f!, booked: b! };
};

describe("latency waterfall", () => {
  it("picks the median and p99 order by tick → booked and gives each hop in ms", () => {
    const orders = Array.from({ length: 100 }, (_, i) => order(1_000 * i, [0.1, 0.2, 1, 5, i + 1]));
    const w = buildWaterfall(orders)!;
    expect(w.orders).toBe(100);
    expect(w.median.totalMs).toBeCloseTo(6.3 + 50, 6);
    expect(w.p99.totalMs).toBeCloseTo(6.3 + 99, 6);
    expect(w.p99.hops.map((h) => [h.hop, Number(h.ms.toFixed(3))])).toEqual([
      ["decision", 0.1],
      ["place", 0.2],
      ["ack", 1],
      ["fill", 5],
      ["booked", 99],
    ]);
    expect(renderWaterfallSection(w)).toContain("100 traced orders");
  });

  it("a step recorded before the previous one (clock order across spans) counts as 0 ms, never negative", () => {
    const w = buildWaterfall([{ tick: 0, decision: 1, place: 0.5, ack: 3, fill: 2, booked: 4 }])!;
    expect(w.median.hops.map((h) => h.ms)).toEqual([1, 0, 2, 0, 1]);
  });

  it("no traced order: no waterfall, and the section says how to turn tracing on", () => {
    expect(buildWaterfall([])).toBeUndefined();
    expect(renderWaterfallSection(undefined)).toContain("OTEL_TRACES_EXPORTER");
  });
});
