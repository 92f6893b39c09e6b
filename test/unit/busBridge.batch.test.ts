// The quoter bridge's batch mode: one MarketSnapshotBatch per interval with the latest of every book; conflation
// never loses a book's latest state (the final batch at close carries what changed after the last one).
import { describe, expect, it } from "vitest";
import { parseEventBridgeEvent, toEventBridgeEvent } from "../../lib/events";
import type { BusEvent, EventBus, PublishResult } from "../../lib/ports/EventBus";
import type { MarketQuote } from "../../lib/ports/MarketData";
import { BusBridge } from "../../quoter/bridge/BusBridge";

class CapturingBus implements EventBus {
  readonly events: BusEvent[] = [];
  async publish(events: readonly BusEvent[]): Promise<PublishResult> {
    this.events.push(...events);
    return { published: events.length, failed: [] };
  }
}

const BOOKS = [
  ["venue-a", "BTC-USD"],
  ["venue-b", "BTC-USD"],
  ["venue-a", "ETH-USD"],
  ["venue-b", "ETH-USD"],
] as const;

describe("BusBridge batch mode", () => {
  it("sends one batch per interval with every book's newest state, then a final one at close; checkpoints per window", async () => {
    let now = Date.UTC(2026, 0, 5, 12);
    const t0 = now;
    const bus = new CapturingBus();
    const bridge = new BusBridge({
      bus,
      now: () => now,
      snapshots: { batch: true, minIntervalMs: 1000, checkpointMs: 2000 },
    });
    const latest = new Map<string, MarketQuote>();
    const expectedBatches: Map<string, number>[] = [];
    let seq = 0;
    // 4 books requoted every 100 ms for 3.05 s; after each step the bridge is flushed (as its linger timer would).
    for (let step = 0; step <= 30; step++) {
      for (const [venue, symbol] of BOOKS) {
        seq++;
        const mid = (symbol === "BTC-USD" ? 65_000 : 3_200) + step;
        const q: MarketQuote = {
          venue,
          symbol,
          bid: String(mid - 1),
          ask: String(mid + 1),
          bidSize: "1",
          askSize: "1",
          sequence: seq,
          timestamp: now,
        };
        latest.set(`${venue}|${symbol}`, q);
        bridge.offerSnapshot(q);
      }
      const before = bus.events.length;
      await bridge.flush();
      if (bus.events.length > before) expectedBatches.push(new Map([...latest].map(([k, q]) => [k, q.sequence])));
      now += 100;
    }
    // Steps 0, 10, 20, 30 are due (1 s apart).
    expect(bus.events.map((e) => e.detailType)).toEqual(Array(4).fill("MarketSnapshotBatch"));
    // One more tick of one book after the last batch: close() must still send it.
    seq++;
    const last: MarketQuote = {
      ...latest.get("venue-a|BTC-USD")!,
      bid: "70000",
      ask: "70002",
      sequence: seq,
      timestamp: now,
    };
    latest.set("venue-a|BTC-USD", last);
    bridge.offerSnapshot(last);
    await bridge.close();
    expectedBatches.push(new Map([...latest].map(([k, q]) => [k, q.sequence])));
    expect(bus.events).toHaveLength(5);

    const parsed = bus.events.map(
      (e) => parseEventBridgeEvent(toEventBridgeEvent(e), "MarketSnapshotBatch").detail.data,
    );
    parsed.forEach((batch, i) => {
      // Every book, each at its newest sequence when the batch was built.
      expect(new Map(batch.snapshots.map((s) => [`${s.venue}|${s.symbol}`, s.sequence]))).toEqual(expectedBatches[i]);
    });
    expect(parsed.at(-1)!.snapshots.find((s) => s.venue === "venue-a" && s.symbol === "BTC-USD")).toMatchObject({
      bid: "70000",
      ask: "70002",
    });
    // 2 s checkpoint windows: batches at 0 s, 1 s, 2 s, 3 s, 3.1 s → windows 0, 0, 1, 1, 1.
    expect(parsed.map((b) => b.checkpoint)).toEqual([true, false, true, false, false]);
    expect(new Set(bus.events.map((e) => e.detail.meta.eventId)).size).toBe(5);
    const st = bridge.stats();
    expect(st.snapshotsQueued).toBe(5);
    // 125 ticks offered: 4 opened a batch, the rest were conflated into one; the 5th batch is the one close() sent.
    expect(st.snapshotsConflated).toBe(31 * 4 + 1 - 4);
    expect(now - t0).toBe(3100);
  });

  it("per-book mode (the default) is unchanged: MarketSnapshot entries", async () => {
    const bus = new CapturingBus();
    const bridge = new BusBridge({ bus, now: () => 0 });
    bridge.offerSnapshot({
      venue: "venue-a",
      symbol: "BTC-USD",
      bid: "1",
      ask: "2",
      bidSize: "1",
      askSize: "1",
      sequence: 1,
      timestamp: 0,
    });
    await bridge.close();
    expect(bus.events.map((e) => e.detailType)).toEqual(["MarketSnapshot"]);
  });
});
