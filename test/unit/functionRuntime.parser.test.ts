// The functions' shell: our own parser (parseEventBridgeEvent) is the one parse path; a bad event raises the
// typed error naming the field and the value before the body runs.
import "../support/quietPowertools";
import type { Context } from "aws-lambda";
import { describe, expect, it, vi } from "vitest";
import type { EngineDependencies } from "../../lib/app/dependencies";
import { buildFunction, createTools, eventBridgeParser } from "../../lib/app/functionRuntime";
import { buildBusEvent, EventValidationError, toEventBridgeEvent } from "../../lib/events";
import type { ParsedEvent } from "../../lib/events/parse";

const T0 = Date.UTC(2026, 0, 1);
const good = toEventBridgeEvent(
  buildBusEvent(
    "tse.market",
    "MarketSnapshot",
    {
      venue: "venue-a",
      symbol: "BTC-USD",
      bid: "63990",
      ask: "64000",
      bidSize: "1",
      askSize: "1",
      sequence: 1,
      ts: new Date(T0).toISOString(),
    },
    { now: T0, eventId: "snap-1" },
  ),
);

function harness() {
  const calls = { parsed: 0, handled: [] as ParsedEvent<"MarketSnapshot">[] };
  const ours = eventBridgeParser("MarketSnapshot");
  const handler = buildFunction<ParsedEvent<"MarketSnapshot">, string>(
    {
      functionName: "parser-test",
      parse: (e) => {
        calls.parsed++;
        return ours(e);
      },
      correlationIdOf: (e) => e.detail.meta.correlationId,
      async handle(event) {
        calls.handled.push(event);
        return event.detail.data.bid;
      },
    },
    {} as EngineDependencies,
  );
  const ctx = { functionName: "parser-test", awsRequestId: "r-1" } as Context;
  return { calls, invoke: (e: unknown) => handler(e, ctx) };
}

describe("function runtime: one parser (ours) before the body", () => {
  it("a valid event is parsed once and reaches the body typed", async () => {
    const { calls, invoke } = harness();
    expect(await invoke(structuredClone(good))).toBe("63990");
    expect(calls.parsed).toBe(1);
    expect(calls.handled[0]?.detail.data.symbol).toBe("BTC-USD");
  });

  it("an invalid event is refused naming the field and the value; the body never runs", async () => {
    const { calls, invoke } = harness();
    const bad = structuredClone(good) as unknown as { detail: { data: Record<string, unknown> } };
    bad.detail.data.bid = "NaN";
    const err = await invoke(bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EventValidationError);
    expect((err as EventValidationError).field).toBe("data.bid");
    expect((err as EventValidationError).value).toBe("NaN");
    expect(calls.parsed).toBe(1);
    expect(calls.handled).toEqual([]);
  });

  it("the parser also pins the detail-type and the sources allowed to publish it", async () => {
    const { calls, invoke } = harness();
    const wrongSource = await invoke({ ...structuredClone(good), source: "tse.engine" }).catch((e: unknown) => e);
    expect((wrongSource as EventValidationError).field).toBe("source");
    const wrongType = await invoke({ ...structuredClone(good), "detail-type": "SignalGenerated" }).catch(
      (e: unknown) => e,
    );
    expect((wrongType as EventValidationError).field).toBe("detail-type");
    expect(calls.handled).toEqual([]);
  });

  it("onError logs and counts every error type, an internal EventValidationError (a builder failure) included", async () => {
    const tools = createTools("on-error-test");
    const logged = vi.spyOn(tools.logger, "error").mockImplementation(() => undefined);
    const counted = vi.spyOn(tools.metrics, "addMetric");
    const ours = eventBridgeParser("MarketSnapshot");
    const failures = [
      new EventValidationError("data.reason", "x", "OrderDenied", [], "must be at most 256 characters"),
      new RangeError("Maximum call stack size exceeded"),
      new Error("boom"),
    ];
    let next = 0;
    const handler = buildFunction<ParsedEvent<"MarketSnapshot">, string>(
      {
        functionName: "on-error-test",
        parse: ours,
        correlationIdOf: (e) => e.detail.meta.correlationId,
        async handle() {
          throw failures[next++]!;
        },
      },
      {} as EngineDependencies,
      tools,
    );
    const ctx = { functionName: "on-error-test", awsRequestId: "r-2" } as Context;
    for (const f of failures) await expect(handler(structuredClone(good), ctx)).rejects.toBe(f);
    const handlerFailed = logged.mock.calls.filter((c) => c[0] === "handler failed");
    expect(handlerFailed.map((c) => (c[1] as { errorType: string }).errorType)).toEqual([
      "EventValidationError",
      "RangeError",
      "Error",
    ]);
    expect(counted.mock.calls.filter((c) => c[0] === "HandlerFailed")).toHaveLength(3);
    // A parse-time rejection is logged and counted once, as a rejection, with a bounded preview of the value.
    const bad = structuredClone(good) as unknown as { detail: { data: Record<string, unknown> } };
    bad.detail.data.venue = "v".repeat(100_000);
    await expect(handler(bad, ctx)).rejects.toBeInstanceOf(EventValidationError);
    const rejected = logged.mock.calls.filter((c) => c[0] === "rejected invalid event");
    expect(rejected).toHaveLength(1);
    expect(JSON.stringify(rejected[0]![1]).length).toBeLessThan(1_000);
    expect(counted.mock.calls.filter((c) => c[0] === "EventRejected")).toHaveLength(1);
  });
});
