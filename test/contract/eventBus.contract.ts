// Contract every EventBus adapter passes. The factory gives a bus plus a "tap": a target subscribed with
// TAP_PATTERN (the union of the routed triggers), through which the test sees what the bus delivered.
import type { EventBridgeEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildBusEvent, type DetailType } from "../../lib/events";
import type { BusEvent, EventBus } from "../../lib/ports/EventBus";
import type { EventPattern } from "../../lib/routing/eventPattern";
import { SAMPLE_DATA, SAMPLE_SOURCE, T0 } from "../fixtures/samples";

export type Delivered = EventBridgeEvent<string, { meta: { eventId: string }; data: Record<string, unknown> }>;

export interface EventBusHarness {
  bus: EventBus;
  /** Resolves with the first `count` tap deliveries, or rejects after `timeoutMs`. */
  collect(count: number, timeoutMs: number): Promise<Delivered[]>;
  /** Everything the tap received so far, after waiting `quietMs` for stragglers. */
  settle(quietMs: number): Promise<Delivered[]>;
  close(): Promise<void>;
}

/** The tap subscribes to the four routed triggers, exactly as the routing table does. */
export const TAP_PATTERN: EventPattern = {
  source: ["tse.market", "tse.engine", "tse.exchange"],
  "detail-type": ["MarketSnapshot", "SignalGenerated", "ExecutionReported", "PositionChanged"],
};

const ROUTED: DetailType[] = ["MarketSnapshot", "SignalGenerated", "ExecutionReported", "PositionChanged"];

export function sampleBusEvent(dt: DetailType, overrides: { eventId?: string; now?: number } = {}): BusEvent {
  return buildBusEvent(SAMPLE_SOURCE[dt], dt, SAMPLE_DATA[dt] as never, {
    now: overrides.now ?? T0,
    eventId: overrides.eventId,
  });
}

export function eventBusContract(name: string, factory: () => Promise<EventBusHarness>, timeoutMs = 10_000): void {
  describe(`EventBus contract: ${name}`, () => {
    let h: EventBusHarness;
    beforeAll(async () => {
      h = await factory();
    });
    afterAll(async () => {
      await h?.close();
    });

    it("publishing nothing is a no-op", async () => {
      expect(await h.bus.publish([])).toEqual({ published: 0, failed: [] });
    });

    it("delivers each routed detail-type as the exact EventBridge event", async () => {
      const events = ROUTED.map((dt) => sampleBusEvent(dt, { eventId: `c1-${dt}` }));
      const before = Date.now();
      expect(await h.bus.publish(events)).toEqual({ published: 4, failed: [] });
      const got = await h.collect(4, timeoutMs);
      expect(got).toHaveLength(4);
      for (const sent of events) {
        const d = got.find((g) => g.detail.meta.eventId === sent.detail.meta.eventId);
        expect(d, `delivery of ${sent.detailType}`).toBeDefined();
        if (!d) continue;
        expect(Object.keys(d).sort()).toEqual([
          "account",
          "detail",
          "detail-type",
          "id",
          "region",
          "resources",
          "source",
          "time",
          "version",
        ]);
        expect(d.version).toBe("0");
        expect(d["detail-type"]).toBe(sent.detailType);
        expect(d.source).toBe(sent.source);
        expect(d.resources).toEqual([]);
        expect(d.id).toMatch(/\S{8,}/);
        expect(d.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
        // EventBridge stamps receipt time (second precision), not the event's occurredAt.
        expect(Date.parse(d.time)).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 - 5_000);
        expect(d.detail).toEqual(JSON.parse(JSON.stringify(sent.detail)));
      }
      expect(new Set(got.map((g) => g.id)).size).toBe(4);
    });

    it("publishes 25 events in one call and delivers each exactly once", async () => {
      const events = Array.from({ length: 25 }, (_, i) =>
        sampleBusEvent(ROUTED[i % 4] as DetailType, { eventId: `c2-${String(i).padStart(2, "0")}` }),
      );
      expect(await h.bus.publish(events)).toEqual({ published: 25, failed: [] });
      const got = await h.collect(25, timeoutMs);
      const settled = (await h.settle(500)).filter((d) => d.detail.meta.eventId.startsWith("c2-"));
      expect(got.map((g) => g.detail.meta.eventId).sort()).toEqual(events.map((e) => e.detail.meta.eventId).sort());
      expect(settled).toHaveLength(25);
    });

    it("accepts events no rule matches without delivering them", async () => {
      const unrouted = [
        sampleBusEvent("RiskAlert", { eventId: "c3-risk" }),
        sampleBusEvent("OrderPlaced", { eventId: "c3-order" }),
      ];
      const marker = sampleBusEvent("MarketSnapshot", { eventId: "c3-marker" });
      expect(await h.bus.publish([...unrouted, marker])).toEqual({ published: 3, failed: [] });
      const got = await h.collect(1, timeoutMs);
      expect(got.map((g) => g.detail.meta.eventId)).toEqual(["c3-marker"]);
      const all = await h.settle(500);
      expect(all.filter((d) => d.detail.meta.eventId.startsWith("c3-")).map((d) => d.detail.meta.eventId)).toEqual([
        "c3-marker",
      ]);
    });

    it("reports an oversize entry (> 256 KB) as failed and still publishes the others", async () => {
      const big = sampleBusEvent("SignalGenerated", { eventId: "c4-big" });
      (big.detail.data as { reason: string }).reason = "x".repeat(270_000);
      const ok = [
        sampleBusEvent("MarketSnapshot", { eventId: "c4-a" }),
        sampleBusEvent("PositionChanged", { eventId: "c4-b" }),
      ];
      const result = await h.bus.publish([ok[0] as BusEvent, big, ok[1] as BusEvent]);
      expect(result.published).toBe(2);
      expect(result.failed).toHaveLength(1);
      expect(result.failed[0]).toMatchObject({ index: 1, errorCode: "EntryTooLarge" });
      expect(result.failed[0]?.event).toBe(big);
      const got = await h.collect(2, timeoutMs);
      expect(got.map((g) => g.detail.meta.eventId).sort()).toEqual(["c4-a", "c4-b"]);
    });

    it("publishes several large entries (batches split by size) intact", async () => {
      const events = Array.from({ length: 5 }, (_, i) => {
        const e = sampleBusEvent("SignalGenerated", { eventId: `c5-${i}` });
        (e.detail.data as { reason: string }).reason = `${i}`.repeat(100_000);
        return e;
      });
      expect(await h.bus.publish(events)).toEqual({ published: 5, failed: [] });
      const got = await h.collect(5, timeoutMs);
      for (const g of got) {
        const i = Number(g.detail.meta.eventId.slice(3));
        expect((g.detail.data as { reason: string }).reason).toBe(`${i}`.repeat(100_000));
      }
    });
  });
}
