import { describe, expect, it } from "vitest";
import { type BusDelivery, InProcessEventBus } from "../../lib/adapters/embedded/InProcessEventBus";
import { parseEventBridgeEvent } from "../../lib/events";
import {
  type Delivered,
  type EventBusHarness,
  eventBusContract,
  sampleBusEvent,
  TAP_PATTERN,
} from "../contract/eventBus.contract";

function harness(): EventBusHarness {
  const bus = new InProcessEventBus({
    routes: [{ functionName: "tap", description: "contract tap", eventPattern: TAP_PATTERN }],
  });
  let seen: Delivered[] = [];
  let consumed = 0;
  bus.register("tap", (e) => {
    seen.push(e as Delivered);
  });
  return {
    bus,
    async collect(count, timeoutMs) {
      await bus.whenIdle({ timeoutMs });
      if (seen.length - consumed < count) throw new Error(`only ${seen.length - consumed} of ${count} deliveries`);
      const out = seen.slice(consumed, consumed + count);
      consumed += count;
      return out;
    },
    async settle() {
      await bus.whenIdle({ timeoutMs: 5_000 });
      return seen;
    },
    async close() {
      await bus.close({ timeoutMs: 5_000 });
      seen = [];
    },
  };
}

eventBusContract("InProcessEventBus", async () => harness());

describe("InProcessEventBus specifics", () => {
  it("routes by the routing table: each function gets only its trigger, as a parseable EventBridge event", async () => {
    const bus = new InProcessEventBus();
    const got: Record<string, BusDelivery[]> = {
      signal: [],
      "order-placement": [],
      "fill-handling": [],
      reporting: [],
    };
    for (const name of Object.keys(got)) bus.register(name, (e) => void got[name]?.push(e));
    await bus.publish(
      ["MarketSnapshot", "SignalGenerated", "ExecutionReported", "PositionChanged", "RiskAlert"].map((dt) =>
        sampleBusEvent(dt as never),
      ),
    );
    await bus.whenIdle({ timeoutMs: 2_000 });
    expect(got.signal?.map((e) => e["detail-type"])).toEqual(["MarketSnapshot"]);
    expect(got["order-placement"]?.map((e) => e["detail-type"])).toEqual(["SignalGenerated"]);
    expect(got["fill-handling"]?.map((e) => e["detail-type"])).toEqual(["ExecutionReported"]);
    expect(got.reporting?.map((e) => e["detail-type"])).toEqual(["PositionChanged"]);
    expect(parseEventBridgeEvent(got.signal?.[0], "MarketSnapshot").detail.data.symbol).toBe("BTC-USD");
    expect(bus.getStats()).toMatchObject({ published: 5, delivered: 4, unrouted: 1, deadLettered: 0 });
  });

  it("shadow signals are not routed to order-placement", async () => {
    const bus = new InProcessEventBus();
    const got: BusDelivery[] = [];
    bus.register("order-placement", (e) => void got.push(e));
    const shadow = sampleBusEvent("SignalGenerated");
    (shadow.detail.data as { kind: string }).kind = "shadow-arbitrage";
    await bus.publish([shadow, sampleBusEvent("SignalGenerated")]);
    await bus.whenIdle({ timeoutMs: 2_000 });
    expect(got.map((e) => (e.detail as { data: { kind: string } }).data.kind)).toEqual(["arbitrage"]);
  });

  it("retries a failing handler, then dead-letters the event with the error", async () => {
    const attempts: number[] = [];
    const dead: string[] = [];
    const bus = new InProcessEventBus({
      maxAttempts: 3,
      retryDelayMs: () => 1,
      onDeadLetter: (d) => dead.push(d.functionName),
    });
    bus.register("signal", (e) => {
      attempts.push(Date.now());
      if ((e.detail as { data: { venue: string } }).data.venue === "venue-a") throw new TypeError("bad venue venue-a");
    });
    await bus.publish([sampleBusEvent("MarketSnapshot", { eventId: "dl-1" })]);
    const drained = await bus.drain({ timeoutMs: 2_000 });
    expect(attempts).toHaveLength(3);
    expect(drained.deadLetters).toHaveLength(1);
    expect(drained.deadLetters[0]).toMatchObject({
      functionName: "signal",
      attempts: 3,
      errorName: "TypeError",
      errorMessage: "bad venue venue-a",
    });
    expect(drained.deadLetters[0]?.event.detail).toMatchObject({ meta: { eventId: "dl-1" } });
    expect(drained).toMatchObject({ failedAttempts: 3, deadLettered: 1, delivered: 0 });
    expect(dead).toEqual(["signal"]);
  });

  it("keeps at most maxDeadLetters in memory but counts all of them", async () => {
    const bus = new InProcessEventBus({ maxAttempts: 1, maxDeadLetters: 2 });
    bus.register("signal", () => {
      throw new Error("always");
    });
    await bus.publish(["a", "b", "c"].map((id) => sampleBusEvent("MarketSnapshot", { eventId: id })));
    const drained = await bus.drain({ timeoutMs: 2_000 });
    expect(drained.deadLettered).toBe(3);
    expect(drained.deadLetters.map((d) => (d.event.detail as { meta: { eventId: string } }).meta.eventId)).toEqual([
      "b",
      "c",
    ]);
  });

  it("a handler that fails once succeeds on retry and is not dead-lettered", async () => {
    let n = 0;
    const bus = new InProcessEventBus({ retryDelayMs: () => 1 });
    bus.register("signal", () => {
      if (n++ === 0) throw new Error("transient");
    });
    await bus.publish([sampleBusEvent("MarketSnapshot")]);
    expect(await bus.drain({ timeoutMs: 2_000 })).toMatchObject({ delivered: 1, failedAttempts: 1, deadLettered: 0 });
  });

  it("handlers that publish never recurse: a 5000-event chain completes and whenIdle waits for all of it", async () => {
    const bus = new InProcessEventBus();
    let depth = 0;
    bus.register("signal", async (e) => {
      depth++;
      const seq = (e.detail as { data: { sequence: number } }).data.sequence;
      if (seq < 5000) {
        const next = sampleBusEvent("MarketSnapshot");
        (next.detail.data as { sequence: number }).sequence = seq + 1;
        await bus.publish([next]);
      }
    });
    const first = sampleBusEvent("MarketSnapshot");
    (first.detail.data as { sequence: number }).sequence = 1;
    await bus.publish([first]);
    await bus.whenIdle({ timeoutMs: 20_000 });
    expect(depth).toBe(5000);
    expect(bus.pendingDeliveries).toBe(0);
  });

  it("publish returns before any handler runs (async dispatch)", async () => {
    const bus = new InProcessEventBus();
    let ran = false;
    bus.register("signal", () => {
      ran = true;
    });
    await bus.publish([sampleBusEvent("MarketSnapshot")]);
    expect(ran).toBe(false);
    await bus.whenIdle();
    expect(ran).toBe(true);
  });

  it("concurrency 1 keeps publish order per function; handlers get private copies", async () => {
    const bus = new InProcessEventBus();
    const order: number[] = [];
    const tapped: BusDelivery[] = [];
    bus.tap((e) => tapped.push(e));
    bus.register("signal", async (e) => {
      const d = e.detail as { data: { sequence: number; bid: string } };
      await new Promise((r) => setTimeout(r, 10 - (d.data.sequence % 10)));
      order.push(d.data.sequence);
      d.data.bid = "mutated";
    });
    const events = Array.from({ length: 20 }, (_, i) => {
      const e = sampleBusEvent("MarketSnapshot");
      (e.detail.data as { sequence: number }).sequence = i;
      return e;
    });
    await bus.publish(events);
    await bus.whenIdle({ timeoutMs: 5_000 });
    expect(order).toEqual(events.map((_, i) => i));
    expect(events.every((e) => (e.detail.data as { bid: string }).bid === "30000.10")).toBe(true);
    expect(tapped.every((e) => (e.detail as { data: { bid: string } }).data.bid === "30000.10")).toBe(true);
  });

  it("whenIdle rejects on timeout; register rejects unknown or duplicate functions; closed bus refuses publish", async () => {
    const bus = new InProcessEventBus();
    bus.register("signal", () => new Promise((r) => setTimeout(r, 300)));
    expect(() => bus.register("signal", () => undefined)).toThrow(/already has a handler/);
    expect(() => bus.register("nope", () => undefined)).toThrow(/unknown function 'nope'/);
    await bus.publish([sampleBusEvent("MarketSnapshot")]);
    await expect(bus.whenIdle({ timeoutMs: 20 })).rejects.toThrow(/1 pending deliveries after 20 ms/);
    await bus.close({ timeoutMs: 2_000 });
    await expect(bus.publish([sampleBusEvent("MarketSnapshot")])).rejects.toThrow(/closed/);
  });

  it("refuses malformed entries the way PutEvents does", async () => {
    const bus = new InProcessEventBus();
    const noSource = { ...sampleBusEvent("MarketSnapshot"), source: "" };
    const result = await bus.publish([noSource, sampleBusEvent("MarketSnapshot")]);
    expect(result.published).toBe(1);
    expect(result.failed).toMatchObject([{ index: 0, errorCode: "InvalidArgument" }]);
    expect(() => new InProcessEventBus({ maxAttempts: 0 })).toThrow(/maxAttempts must be a positive integer, got 0/);
  });
});
