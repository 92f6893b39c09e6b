// The client layer's latency recorders: the default recent-samples window agrees with HdrHistogram (the quoter's)
// on the same calls while they fit the window, then reports the recent ones; and ClientManager uses the injected one.
import { describe, expect, it } from "vitest";
import { ClientManager } from "../../lib/grpc/ClientManager";
import { hdrLatencyHistogram } from "../../lib/grpc/hdrLatency";
import { RecentLatencyWindow } from "../../lib/grpc/latency";

describe("latency recorders", () => {
  it("the window's percentiles, max and mean match HdrHistogram's within its 3 significant digits", () => {
    const w = new RecentLatencyWindow(4096);
    const h = hdrLatencyHistogram();
    let x = 7;
    for (let i = 0; i < 4000; i++) {
      x = (x * 48271) % 2147483647; // deterministic spread over 1 µs .. ~2 s
      const us = 1 + (x % 2_000_000);
      w.recordValue(us);
      h.recordValue(us);
    }
    for (const p of [50, 90, 99, 100]) {
      const a = w.getValueAtPercentile(p);
      const b = h.getValueAtPercentile(p);
      expect(Math.abs(a - b) / b, `p${p}: ${a} vs ${b}`).toBeLessThan(0.002);
    }
    expect(Math.abs(w.maxValue - h.maxValue) / h.maxValue).toBeLessThan(0.002);
    expect(Math.abs(w.mean - h.mean) / h.mean).toBeLessThan(0.002);
    h.destroy();
  });

  it("the window keeps the last `size` samples for percentiles; max and mean cover all of them", () => {
    const w = new RecentLatencyWindow(4);
    expect(w.getValueAtPercentile(50)).toBe(0);
    for (const us of [1000, 1000, 1000, 1000, 10, 20, 30, 40]) w.recordValue(us);
    expect(w.getValueAtPercentile(50)).toBe(20);
    expect(w.getValueAtPercentile(99)).toBe(40);
    expect(w.maxValue).toBe(1000);
    expect(w.mean).toBe(4100 / 8);
  });

  it("ClientManager records every call into the recorder it is given", () => {
    const made: RecentLatencyWindow[] = [];
    const m = new ClientManager({
      latencyHistogram: () => {
        const w = new RecentLatencyWindow(8);
        made.push(w);
        return w;
      },
    });
    // No peer is needed to record: the private recorder is what a finished call reaches.
    const table = (m as unknown as { statTable: { record(e: { key: string }, t: number, err: boolean): void } })
      .statTable;
    const record = table.record.bind(table);
    record({ key: "svc.M" }, performance.now() - 5, false);
    record({ key: "svc.M" }, performance.now() - 5, true);
    expect(made).toHaveLength(1);
    expect(m.stats()["svc.M"]).toMatchObject({ count: 2, errors: 1 });
    expect(m.stats()["svc.M"]!.p50Us).toBeGreaterThanOrEqual(4000);
  });
});
