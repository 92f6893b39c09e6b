import { describe, expect, it } from "vitest";
import {
  buildBusEvent,
  buildEvent,
  causedBy,
  DETAIL_TYPE_NAMES,
  DETAIL_TYPES,
  type DetailType,
  EventValidationError,
  makeEnvelope,
  parseDetail,
  parseEventBridgeEvent,
  toEventBridgeEvent,
} from "../../lib/events";
import { SAMPLE_DATA, SAMPLE_SOURCE, T0 } from "../fixtures/samples";

const TRACE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

function detailOf<T extends DetailType>(dt: T): { meta: Record<string, unknown>; data: Record<string, unknown> } {
  return JSON.parse(
    buildEvent(SAMPLE_SOURCE[dt], dt, SAMPLE_DATA[dt] as never, { now: T0, traceparent: TRACE }).Detail,
  );
}

function expectInvalid(fn: () => unknown, field: string, value: unknown): EventValidationError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(EventValidationError);
  const err = caught as EventValidationError;
  expect(err.field).toBe(field);
  expect(err.value).toEqual(value);
  expect(err.message).toContain(field);
  if (value !== undefined) expect(err.message).toContain(JSON.stringify(value));
  else expect(err.message).toContain("missing");
  return err;
}

describe("event contracts: valid events", () => {
  it.each(DETAIL_TYPE_NAMES)("%s sample builds, serialises and parses back identically", (dt) => {
    const entry = buildEvent(SAMPLE_SOURCE[dt], dt, SAMPLE_DATA[dt] as never, {
      now: T0,
      correlationId: "corr-9",
      traceparent: TRACE,
      eventBusName: "tse-bus",
    });
    expect(entry).toMatchObject({ Source: SAMPLE_SOURCE[dt], DetailType: dt, EventBusName: "tse-bus" });
    const detail = JSON.parse(entry.Detail);
    expect(detail.meta).toMatchObject({
      correlationId: "corr-9",
      traceparent: TRACE,
      occurredAt: new Date(T0).toISOString(),
    });
    expect(detail.meta.eventId).toMatch(/^[0-9a-f-]{36}$/);
    expect(parseDetail(dt, entry.Detail)).toEqual(detail);
    expect(parseDetail(dt, detail)).toEqual(detail);
  });

  it("every detail-type names its sources and every source is one of the four", () => {
    for (const dt of DETAIL_TYPE_NAMES)
      for (const s of DETAIL_TYPES[dt].sources)
        expect(["tse.market", "tse.engine", "tse.exchange", "tse.risk"]).toContain(s);
  });

  it("defaults: correlationId = eventId, fresh sampled root traceparent", () => {
    const env = makeEnvelope("MarketSnapshot", SAMPLE_DATA.MarketSnapshot, { now: new Date(T0) });
    expect(env.meta.correlationId).toBe(env.meta.eventId);
    expect(env.meta.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it("signal legs get LIMIT/IOC defaults and inputs.figures defaults to {}", () => {
    const env = makeEnvelope(
      "SignalGenerated",
      { ...SAMPLE_DATA.SignalGenerated, inputs: { snapshots: [] } },
      { now: T0 },
    );
    expect(env.data.legs[0]).toMatchObject({ type: "LIMIT", timeInForce: "IOC" });
    expect(env.data.inputs.figures).toEqual({});
  });

  it("causedBy keeps the correlation id and, with no active span, the cause's own traceparent (no invented span id)", () => {
    const parent = makeEnvelope("MarketSnapshot", SAMPLE_DATA.MarketSnapshot, {
      now: T0,
      traceparent: TRACE,
      tracestate: "k=v",
    });
    const opts = causedBy(parent.meta, T0 + 5);
    const child = makeEnvelope("SignalGenerated", SAMPLE_DATA.SignalGenerated, opts);
    expect(child.meta.correlationId).toBe(parent.meta.correlationId);
    expect(child.meta.traceparent).toBe(TRACE);
    expect(child.meta.tracestate).toBe("k=v");
  });

  it("toEventBridgeEvent is the exact Lambda envelope and parseEventBridgeEvent accepts it (object and JSON string)", () => {
    const bus = buildBusEvent("tse.exchange", "ExecutionReported", SAMPLE_DATA.ExecutionReported, { now: T0 + 123 });
    const ev = toEventBridgeEvent(bus, { id: "abc", account: "123456789012", region: "eu-west-1" });
    expect(Object.keys(ev).sort()).toEqual([
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
    expect(ev).toMatchObject({
      version: "0",
      id: "abc",
      "detail-type": "ExecutionReported",
      source: "tse.exchange",
      resources: [],
    });
    expect(ev.time).toBe("2026-03-02T09:30:00Z");
    const parsed = parseEventBridgeEvent(JSON.stringify(ev), "ExecutionReported");
    expect(parsed.detail.data.executionId).toBe("venue-a:E-9001");
    expect(parseEventBridgeEvent(ev).detail).toEqual(bus.detail);
  });
});

describe("event contracts: bad input names the field and the value", () => {
  it("missing field", () => {
    const d = detailOf("MarketSnapshot");
    delete d.data.bid;
    expectInvalid(() => parseDetail("MarketSnapshot", d), "data.bid", undefined);
  });

  it.each(["NaN", "Infinity", "-Infinity", "1e5", "1.5E-3", " 1", "1,5", "0x10", "", "+1", "01.5", "1."])(
    'price "%s" is rejected',
    (bad) => {
      const d = detailOf("ExecutionReported");
      d.data.price = bad;
      expectInvalid(() => parseDetail("ExecutionReported", d), "data.price", bad);
    },
  );

  it("a JSON number (float) price is rejected", () => {
    const d = detailOf("MarketSnapshot");
    d.data.ask = 30000.2;
    const err = expectInvalid(() => parseDetail("MarketSnapshot", d), "data.ask", 30000.2);
    expect(err.message).toContain("not a number");
  });

  it("negative quantity in a signal leg", () => {
    const legs = structuredClone(SAMPLE_DATA.SignalGenerated.legs);
    (legs[0] as { quantity: string }).quantity = "-0.5";
    expectInvalid(
      () => buildBusEvent("tse.engine", "SignalGenerated", { ...SAMPLE_DATA.SignalGenerated, legs }, { now: T0 }),
      "data.legs.0.quantity",
      "-0.5",
    );
  });

  it("zero order quantity", () => {
    const d = detailOf("OrderPlaced");
    d.data.quantity = "0.000";
    expectInvalid(() => parseDetail("OrderPlaced", d), "data.quantity", "0.000");
  });

  it("negative fee is allowed (rebate), negative book size is not", () => {
    const e = detailOf("ExecutionReported");
    e.data.fee = "-0.25";
    expect(parseDetail("ExecutionReported", e).data.fee).toBe("-0.25");
    const m = detailOf("MarketSnapshot");
    m.data.askSize = "-2";
    expectInvalid(() => parseDetail("MarketSnapshot", m), "data.askSize", "-2");
  });

  it("crossed book", () => {
    const d = detailOf("MarketSnapshot");
    d.data.ask = "29999.99";
    const err = expectInvalid(() => parseDetail("MarketSnapshot", d), "data.ask", "29999.99");
    expect(err.message).toContain("crossed");
  });

  it("LIMIT order without a limit price", () => {
    const d = detailOf("OrderPlaced");
    delete d.data.limitPrice;
    expectInvalid(() => parseDetail("OrderPlaced", d), "data.limitPrice", undefined);
  });

  it("bad enum value", () => {
    const d = detailOf("ExecutionReported");
    d.data.liquidity = "maker";
    expectInvalid(() => parseDetail("ExecutionReported", d), "data.liquidity", "maker");
  });

  it("bad traceparent and bad timestamp in meta", () => {
    const d = detailOf("PositionChanged");
    d.meta.traceparent = "00-00000000000000000000000000000000-00f067aa0ba902b7-01";
    expectInvalid(() => parseDetail("PositionChanged", d), "meta.traceparent", d.meta.traceparent);
    const e = detailOf("PositionChanged");
    e.meta.occurredAt = "yesterday";
    expectInvalid(() => parseDetail("PositionChanged", e), "meta.occurredAt", "yesterday");
  });

  it("wrong source for the detail-type", () => {
    expectInvalid(
      () => buildBusEvent("tse.market", "ExecutionReported", SAMPLE_DATA.ExecutionReported, { now: T0 }),
      "source",
      "tse.market",
    );
    const ev = toEventBridgeEvent(
      buildBusEvent("tse.engine", "SignalGenerated", SAMPLE_DATA.SignalGenerated, { now: T0 }),
    );
    expectInvalid(() => parseEventBridgeEvent({ ...ev, source: "tse.exchange" }), "source", "tse.exchange");
  });

  it("unknown or unexpected detail-type", () => {
    const ev = toEventBridgeEvent(
      buildBusEvent("tse.engine", "SignalGenerated", SAMPLE_DATA.SignalGenerated, { now: T0 }),
    );
    expectInvalid(() => parseEventBridgeEvent({ ...ev, "detail-type": "Nope" }), "detail-type", "Nope");
    expectInvalid(() => parseEventBridgeEvent(ev, "MarketSnapshot"), "detail-type", "SignalGenerated");
    expectInvalid(() => parseDetail("Nope" as DetailType, {}), "detail-type", "Nope");
  });

  it("envelope problems: missing id, non-JSON detail string", () => {
    const ev = toEventBridgeEvent(
      buildBusEvent("tse.engine", "SignalGenerated", SAMPLE_DATA.SignalGenerated, { now: T0 }),
    );
    const { id: _drop, ...noId } = ev;
    expectInvalid(() => parseEventBridgeEvent(noId), "id", undefined);
    expectInvalid(() => parseDetail("SignalGenerated", "{not json"), "detail", "{not json");
  });

  it("reports every issue, first one in the message", () => {
    const d = detailOf("MarketSnapshot");
    d.data.bid = "NaN";
    d.data.sequence = -1;
    const err = expectInvalid(() => parseDetail("MarketSnapshot", d), "data.bid", "NaN");
    expect(err.issues.map((i) => i.field)).toEqual(["data.bid", "data.sequence"]);
    expect(err.message).toContain("+1 more issue");
    expect(err.detailType).toBe("MarketSnapshot");
    expect(err.name).toBe("EventValidationError");
  });
});
