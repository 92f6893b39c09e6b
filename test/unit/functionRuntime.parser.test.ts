// The functions' shell: Powertools' parser (our zod schemas inside its EventBridge schema) is the main parse
// path; our own parser runs only on a failure, to raise the typed error naming the field and the value.
import "../support/quietPowertools";
import type { Context } from "aws-lambda";
import { describe, expect, it } from "vitest";
import type { EngineDependencies } from "../../lib/app/dependencies";
import { buildFunction, eventBridgeParser, eventBridgeSchema } from "../../lib/app/functionRuntime";
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
  const calls = { fallback: 0, handled: [] as ParsedEvent<"MarketSnapshot">[] };
  const ours = eventBridgeParser("MarketSnapshot");
  const handler = buildFunction<ParsedEvent<"MarketSnapshot">, string>(
    {
      functionName: "parser-test",
      schema: eventBridgeSchema("MarketSnapshot"),
      parse: (e) => {
        calls.fallback++;
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

describe("function runtime: Powertools parser with our zod schemas", () => {
  it("a valid event is parsed by Powertools alone (our parser is not called)", async () => {
    const { calls, invoke } = harness();
    expect(await invoke(structuredClone(good))).toBe("63990");
    expect(calls.fallback).toBe(0);
    expect(calls.handled[0]?.detail.data.symbol).toBe("BTC-USD");
  });

  it("an invalid event fails Powertools' parse, then ours names the field and the value; the body never runs", async () => {
    const { calls, invoke } = harness();
    const bad = structuredClone(good) as unknown as { detail: { data: Record<string, unknown> } };
    bad.detail.data.bid = "NaN";
    const err = await invoke(bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EventValidationError);
    expect((err as EventValidationError).field).toBe("data.bid");
    expect((err as EventValidationError).value).toBe("NaN");
    expect(calls.fallback).toBe(1);
    expect(calls.handled).toEqual([]);
  });

  it("the schema also pins the detail-type and the sources allowed to publish it", () => {
    const schema = eventBridgeSchema("MarketSnapshot");
    expect(schema.safeParse(good).success).toBe(true);
    expect(schema.safeParse({ ...good, source: "tse.engine" }).success).toBe(false);
    expect(schema.safeParse({ ...good, "detail-type": "SignalGenerated" }).success).toBe(false);
  });
});
