// The signal function on MarketSnapshotBatch (the quoter bridge's batch mode): the same signals as the per-book
// path, decided from the batch alone (no read), snapshots stored only on checkpoints, bad input refused first.
import { describe, expect, it } from "vitest";
import { InMemoryStateStore } from "../../lib/adapters/embedded/InMemoryStateStore";
import { buildFunction } from "../../lib/app/functionRuntime";
import { localContext } from "../../lib/app/handlers";
import { StaticSettingsSource } from "../../lib/app/settings";
import type { SignalOutcome } from "../../lib/app/signal";
import { signalFunction } from "../../lib/app/specs/signal";
import { InstrumentRegistry } from "../../lib/domain/instruments";
import { buildBusEvent, type EventDataInput, toEventBridgeEvent } from "../../lib/events";
import type { BusEvent, EventBus, PublishResult } from "../../lib/ports/EventBus";

const T0 = Date.UTC(2026, 0, 5, 12);

class CapturingBus implements EventBus {
  readonly events: BusEvent[] = [];
  async publish(events: readonly BusEvent[]): Promise<PublishResult> {
    this.events.push(...events);
    return { published: events.length, failed: [] };
  }
}

type Snap = EventDataInput<"MarketSnapshot">;
const snap = (venue: string, symbol: string, bid: string, ask: string, sequence: number, ts = T0): Snap => ({
  venue,
  symbol,
  bid,
  ask,
  bidSize: "1",
  askSize: "1",
  sequence,
  ts: new Date(ts).toISOString(),
});
// BTC: 25 bps between venue-a's ask and venue-b's bid (past 10 bps + 2 × 5 bps taker fees); ETH: no edge.
const BOOKS = [
  snap("venue-a", "BTC-USD", "63990", "64000", 11),
  snap("venue-b", "BTC-USD", "64160", "64170", 21),
  snap("venue-a", "ETH-USD", "3199.9", "3200", 12),
  snap("venue-b", "ETH-USD", "3199.9", "3200.1", 22, T0 - 50),
];

function rig() {
  const store = new InMemoryStateStore();
  const bus = new CapturingBus();
  const handler = buildFunction(signalFunction, {
    store,
    bus,
    settings: new StaticSettingsSource(),
    instruments: new InstrumentRegistry(),
    clock: () => T0,
  });
  const invoke = async (ev: BusEvent) =>
    (await handler(toEventBridgeEvent(ev), localContext("signal"))) as SignalOutcome;
  return { store, bus, invoke };
}

const batch = (snapshots: Snap[], checkpoint: boolean, eventId = "snaps-1") =>
  buildBusEvent("tse.market", "MarketSnapshotBatch", { snapshots, checkpoint }, { now: T0, eventId });
const single = (s: Snap) =>
  buildBusEvent("tse.market", "MarketSnapshot", s, { now: Date.parse(s.ts), eventId: `snap-${s.venue}-${s.sequence}` });
const signalIds = (bus: CapturingBus) =>
  bus.events.filter((e) => e.detailType === "SignalGenerated").map((e) => e.detail.meta.eventId);

describe("signal function: MarketSnapshotBatch", () => {
  it("fires the same signal as the per-book path, from the batch alone: no read, no snapshot written", async () => {
    const perBook = rig();
    for (const s of BOOKS) await perBook.invoke(single(s));
    expect(signalIds(perBook.bus)).toHaveLength(1);

    const batched = rig();
    const out = await batched.invoke(batch(BOOKS, false));
    expect(signalIds(batched.bus)).toEqual(signalIds(perBook.bus));
    expect(out).toMatchObject({ stored: false, snapshots: 4 });
    // One request: the cooldown claim. The per-book path read and wrote a snapshot per event.
    expect(batched.store.backend.operations).toBe(1);
    const items = await batched.store.backend.scanAll();
    expect(items.map((i) => i.entity)).toEqual(["IDEMPOTENCY"]);
    expect(perBook.store.backend.operations).toBeGreaterThan(4);

    // A redelivery decides the same: the same signal again (downstream deduplicates), still no read.
    await batched.invoke(batch(BOOKS, false));
    expect(signalIds(batched.bus)).toEqual([...signalIds(perBook.bus), ...signalIds(perBook.bus)]);
  });

  it("stores every snapshot of a checkpoint batch (newer wins), which reporting's marks read", async () => {
    const { store, invoke } = rig();
    const out = await invoke(batch(BOOKS, true));
    expect(out.stored).toBe(true);
    const btc = await store.listSnapshots("BTC-USD", { now: T0, maxAgeMs: 60_000 });
    expect(btc.map((v) => [v.quote.venue, v.sequence])).toEqual([
      ["venue-a", 11],
      ["venue-b", 21],
    ]);
  });

  it("judges freshness at the symbol's newest snapshot: a venue staler than snapshotMaxAgeMs gives no signal", async () => {
    const { bus, invoke } = rig();
    const stale = [BOOKS[0]!, snap("venue-b", "BTC-USD", "64160", "64170", 21, T0 - 5_001)];
    const out = await invoke(batch(stale, false));
    expect(signalIds(bus)).toEqual([]);
    expect(out.skipped).toContain("BTC-USD: fewer than two fresh venues");
  });

  it("refuses a batch with an unknown venue before any write, naming the field", async () => {
    const { store, bus, invoke } = rig();
    await expect(invoke(batch([...BOOKS, snap("venue-x", "BTC-USD", "1", "2", 1)], true))).rejects.toThrow(/venue/);
    expect(store.backend.operations).toBe(0);
    expect(bus.events).toEqual([]);
  });

  it("refuses a batch that names one book twice (the schema), naming the field", async () => {
    const store = new InMemoryStateStore();
    const handler = buildFunction(signalFunction, {
      store,
      bus: new CapturingBus(),
      settings: new StaticSettingsSource(),
      instruments: new InstrumentRegistry(),
      clock: () => T0,
    });
    // As a producer that skips our builder could send it.
    const raw = toEventBridgeEvent(batch(BOOKS.slice(0, 1), true)) as { detail: { data: { snapshots: Snap[] } } };
    raw.detail.data.snapshots.push({ ...BOOKS[0]! });
    await expect(handler(raw, localContext("signal"))).rejects.toThrow(/snapshots\.1\.venue/);
    expect(store.backend.operations).toBe(0);
  });
});
