// The cost model's replay (bench/cost/replay.ts) end to end, both snapshot modes over the same ticks: signals still
// fire and trade in batch mode, and every counter agrees with what the bus delivered (rule matches = invocations,
// entries = events published, executions = fills applied).
import "../support/quietPowertools";
import { describe, expect, it } from "vitest";
import { type ReplayResult, replay } from "../../bench/cost/replay";

const TICKS = 800; // 20 s of market: 4 books every 100 ms
const schedules = { reportingEveryMs: 300_000, reconciliationEveryMs: 300_000 };

function checkCounters(r: ReplayResult, snapshotType: "MarketSnapshot" | "MarketSnapshotBatch") {
  const ev = (t: string) => r.eventsByType[t] ?? 0;
  const entries = Object.values(r.usage).reduce((a, u) => a + u.entries, 0);
  expect(entries).toBe(Object.values(r.eventsByType).reduce((a, b) => a + b, 0));
  expect(r.usage["quoter-bridge"]!.entries).toBe(ev(snapshotType));
  expect(r.invocations.signal.count).toBe(ev(snapshotType));
  expect(r.invocations["order-placement"].count).toBe(ev("SignalGenerated"));
  expect(r.invocations["fill-handling"].count).toBe(ev("ExecutionReported"));
  expect(r.executionsForwarded).toBe(ev("ExecutionReported"));
  expect(r.invocations.settlement.count).toBe(ev("FillBooked"));
  expect(r.deadLetters).toBe(0);
  for (const s of Object.values(r.invocations)) expect(s.failed).toBe(0);
}

describe("cost replay", () => {
  it("batch mode: one signal invocation per batch, signals still fire and fill; per-book mode: one per snapshot", async () => {
    const batched = await replay({ ...schedules, ticks: TICKS, snapshots: { batch: true } });
    const perBook = await replay({ ...schedules, ticks: TICKS });
    expect(batched.ticks).toBe(TICKS);
    checkCounters(batched, "MarketSnapshotBatch");
    checkCounters(perBook, "MarketSnapshot");
    // One batch per second of market time (the first at the first tick), every book's latest in each.
    expect(batched.eventsByType.MarketSnapshotBatch).toBe(batched.marketMs / 1000 + 1);
    expect(batched.eventsByType.MarketSnapshot).toBeUndefined();
    // The arbitrage of the scenario is traded in both modes; batching removes snapshot traffic, not signals.
    expect(batched.eventsByType.SignalGenerated).toBeGreaterThan(0);
    expect(batched.eventsByType.ExecutionReported).toBeGreaterThan(0);
    expect(perBook.eventsByType.SignalGenerated).toBeGreaterThan(0);
    expect(batched.invocations.signal.count * 10).toBeLessThan(perBook.invocations.signal.count);
    // No read on the batch path: the signal function's only DynamoDB requests are cooldown claims and checkpoints.
    expect(Object.keys(batched.usage.signal!.requestsByOperation)).toEqual(["PutItem"]);
  }, 120_000);
});
