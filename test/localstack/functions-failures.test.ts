// Acceptance on LocalStack through the function host: the risk monitor down (fail closed: no order reaches the
// exchange, the signal is recorded as denied with the reason) and malformed events (each refused with a typed
// error naming field and value, each in its function's DLQ after the configured attempts, nothing written).
import "../support/quietPowertools";
import type { EventBridgeEvent } from "aws-lambda";
import { afterEach, describe, expect, it } from "vitest";
import type { FunctionName } from "../../lib/app/handlers";
import { buildBusEvent, toPutEventsEntry } from "../../lib/events";
import { WIDE_BOOKS } from "../support/engineRig";
import { type FunctionsRig, settled, startFunctionsRig, until } from "./functionsHarness";

const T0 = Date.now();
const STRATEGY = "arb-1";
const TRADING: FunctionName[] = ["signal", "order-placement", "fill-handling"];
const rigs: FunctionsRig[] = [];
afterEach(async () => {
  await Promise.allSettled(rigs.splice(0).map((r) => r.stop()));
});

const snapshot = (i: number) =>
  buildBusEvent(
    "tse.market",
    "MarketSnapshot",
    { ...WIDE_BOOKS[i]!, sequence: 1, ts: new Date(T0).toISOString() },
    { now: T0 + i },
  );

describe("functions on LocalStack: failures", () => {
  it("risk monitor down: no order reaches the exchange and the signal is recorded as denied with the reason", async () => {
    const rig = await startFunctionsRig({ now: T0, functions: TRADING });
    rigs.push(rig);
    await rig.sims.risk.stop();
    await rig.putEvents([snapshot(0), snapshot(1)]);
    const signal = await until(async () => (await rig.store.listSignalsByStrategy(STRATEGY))[0], "the signal decision");
    await settled(rig, TRADING);
    expect(signal.status).toBe("denied");
    // Denial is an answer, not a failure: no invocation failed or was retried.
    expect(rig.observed["order-placement"]?.errors).toEqual([]);
    // One decision. Both snapshots' signal invocations may see both fresh books and publish the same signal id
    // (by design: downstream deduplicates), so a second delivery may arrive; it must be the same denial, read back.
    const results = (rig.observed["order-placement"]?.results ?? []) as { signalId: string; duplicate: boolean }[];
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
    for (const r of results) expect(r).toMatchObject({ signalId: signal.signalId, decision: "denied" });
    expect(signal.rule).toBe("risk-monitor-unavailable");
    expect(signal.reason).toMatch(/^risk monitor unavailable \(fail-closed\)/);
    expect(rig.sims.exchange.engine.getCounters().ordersReceived).toBe(0);
    expect(await rig.store.listOrdersByStrategy(STRATEGY)).toEqual([]);
    expect((await rig.store.dumpItems()).filter((i) => i.entity === "ORDER")).toEqual([]);
  });

  it("malformed events (missing field, NaN price, negative quantity, unknown symbol) all land in the DLQ, nothing written", async () => {
    const maxReceiveCount = 2;
    const rig = await startFunctionsRig({ now: T0, functions: TRADING, maxReceiveCount });
    rigs.push(rig);
    const entry = (
      e: ReturnType<typeof snapshot> | ReturnType<typeof execution>,
      patch: (d: Record<string, unknown>) => void,
    ) => {
      const raw = toPutEventsEntry(e);
      const detail = JSON.parse(raw.Detail) as { data: Record<string, unknown> };
      patch(detail.data);
      return { ...raw, Detail: JSON.stringify(detail) };
    };
    const execution = () =>
      buildBusEvent(
        "tse.exchange",
        "ExecutionReported",
        {
          executionId: "bad-exec",
          sequence: 1,
          clientOrderId: "tse-bad",
          exchangeOrderId: "ex-bad",
          venue: "venue-a",
          symbol: "BTC-USD",
          side: "BUY",
          quantity: "0.05",
          price: "64000",
          fee: "1.6",
          feeAsset: "USD",
          liquidity: "TAKER",
          ts: new Date(T0).toISOString(),
        },
        { now: T0 },
      );
    const cases: { name: string; fn: FunctionName; entry: ReturnType<typeof entry>; field: string; value: unknown }[] =
      [
        {
          name: "missing field",
          fn: "signal",
          entry: entry(snapshot(0), (d) => delete d.bid),
          field: "data.bid",
          value: undefined,
        },
        {
          name: "NaN price",
          fn: "fill-handling",
          entry: entry(execution(), (d) => (d.price = "NaN")),
          field: "data.price",
          value: "NaN",
        },
        {
          name: "negative quantity",
          fn: "fill-handling",
          entry: entry(execution(), (d) => {
            d.executionId = "bad-exec-2";
            d.quantity = "-0.05";
          }),
          field: "data.quantity",
          value: "-0.05",
        },
        {
          name: "unknown symbol",
          fn: "signal",
          entry: entry(snapshot(1), (d) => (d.symbol = "DOGE-USD")),
          field: "symbol",
          value: "DOGE-USD",
        },
      ];
    await rig.putRaw(cases.map((c) => c.entry));
    for (const fn of ["signal", "fill-handling"] as const) {
      const expected = cases.filter((c) => c.fn === fn);
      const dead = (await rig.dlqMessages(fn, expected.length, 30_000)) as EventBridgeEvent<
        string,
        { meta: { eventId: string } }
      >[];
      expect(dead.map((d) => d.detail.meta.eventId).sort(), fn).toEqual(
        expected.map((c) => (JSON.parse(c.entry.Detail) as { meta: { eventId: string } }).meta.eventId).sort(),
      );
      // Each was tried the configured number of times, and refused with the field and the value each time.
      const errors = rig.observed[fn]?.errors as { field: string; value: unknown; message: string }[];
      expect(errors).toHaveLength(expected.length * maxReceiveCount);
      for (const c of expected) {
        const hits = errors.filter((e) => e.field === c.field && e.value === c.value);
        expect(hits, c.name).toHaveLength(maxReceiveCount);
        expect(hits[0]?.message, c.name).toContain(c.field);
      }
    }
    expect(rig.observed.signal?.results).toEqual([]);
    expect(rig.observed["fill-handling"]?.results).toEqual([]);
    expect(await rig.store.dumpItems()).toEqual([]);
    expect(rig.sims.exchange.engine.getCounters().ordersReceived).toBe(0);
  });
});
