// The cost model's counting layers (bench/cost/meter.ts): DynamoDB item sizes and request units by the published
// rules, the request each item-backend call maps to, and PutEvents calls / billed entries.
import { describe, expect, it } from "vitest";
import { CountingItemBackend, itemSize, Meter, MeteredEventBus, readUnits, writeUnits } from "../../bench/cost/meter";
import { billedMs, priceReplay } from "../../bench/cost/model";
import { InMemoryItemBackend } from "../../lib/adapters/embedded/InMemoryItemBackend";
import { InProcessEventBus } from "../../lib/adapters/embedded/InProcessEventBus";
import { TransactionCancelledError } from "../../lib/adapters/state/itemBackend";
import { buildBusEvent } from "../../lib/events";

describe("item size (docs.aws.amazon.com … CapacityUnitCalculations)", () => {
  it("counts attribute names and values: strings in UTF-8, numbers by significant digits, maps and lists 3 + 1 per element", () => {
    expect(itemSize({ pk: "abc" })).toBe(2 + 3);
    expect(itemSize({ n: "é" })).toBe(1 + 2); // 2 UTF-8 bytes
    expect(itemSize({ v: 12345 })).toBe(1 + 3 + 1); // 5 digits → 3 bytes + 1
    expect(itemSize({ v: 1000 })).toBe(1 + 1 + 1); // trailing zeros trimmed: 1 digit
    expect(itemSize({ v: 0.0012 })).toBe(1 + 1 + 1); // leading zeros trimmed: 2 digits
    expect(itemSize({ b: true, z: null })).toBe(2 + 2);
    expect(itemSize({ m: { a: "x" } })).toBe(1 + 3 + (1 + 1 + 1));
    expect(itemSize({ l: ["ab", 1] })).toBe(1 + 3 + (1 + 2) + (1 + 2));
    expect(itemSize({ gone: undefined, k: "v" })).toBe(2);
  });

  it("request units: 1 WRU per KB, 1 RRU per 4 KB strongly consistent and half eventually, never less than one unit", () => {
    expect(writeUnits(0)).toBe(1);
    expect(writeUnits(1024)).toBe(1);
    expect(writeUnits(1025)).toBe(2);
    expect(readUnits(4096, true)).toBe(1);
    expect(readUnits(4097, true)).toBe(2);
    expect(readUnits(8192, false)).toBe(1);
    expect(readUnits(0, false)).toBe(0.5);
  });
});

describe("CountingItemBackend", () => {
  const big = (pk: string, extra: Record<string, unknown> = {}) => ({ pk, sk: "S", blob: "x".repeat(1500), ...extra });

  it("prices each call as the DynamoDB request it becomes, per scope", async () => {
    const meter = new Meter();
    const b = new CountingItemBackend(new InMemoryItemBackend(), meter);
    await meter.run("fn", async () => {
      await b.put({ item: big("A") }); // 1.5 KB → 2 WRU
      await b.put({ item: big("B", { gsi1pk: "G", gsi1sk: "1" }) }); // + 2 WRU into gsi1
      await b.put({ item: big("B", { gsi1pk: "G", gsi1sk: "2" }) }); // 2, and the index key moved: 2 out + 2 in
      await b.getMany([
        { pk: "A", sk: "S" },
        { pk: "nope", sk: "S" },
      ]); // 1 + 1 RRU
      await b.query({ index: "gsi1", partitionValue: "G" }); // 1.5 KB eventually consistent → 0.5
      await b.transactWrite([{ item: big("C") }, { item: { pk: "D", sk: "S" } }]); // 2 × (2 + 1)
      await expect(b.put({ item: { pk: "A", sk: "S" }, condition: { kind: "notExists" } })).rejects.toThrow();
      await expect(
        b.transactWrite([{ item: { pk: "A", sk: "S" }, condition: { kind: "notExists" } }]),
      ).rejects.toBeInstanceOf(TransactionCancelledError);
    });
    const u = meter.usage.get("fn")!;
    expect(u.requestsByOperation).toEqual({ PutItem: 4, BatchGetItem: 1, Query: 1, TransactWriteItems: 2 });
    // puts 2 + 4 + 6, the failed put 2 (the stored item's size), transactions 6 and the cancelled one 2 × 2 (the
    // larger of old and new).
    expect(u.wru).toBe(2 + 4 + 6 + 2 + 6 + 4);
    expect(u.gsiWru).toBe(2 + 4);
    expect(u.failedWru).toBe(2 + 4);
    expect(u.rru).toBe(2.5);
    expect(u.minimumRru).toBe(1); // the key not found
    expect(u.unitsByOperation.TransactWriteItems).toMatchObject({ wru: 10, failedWru: 4 });
  });

  it("counts sequential rounds: parallel requests of one invocation are one round", async () => {
    const meter = new Meter();
    const b = new CountingItemBackend(new InMemoryItemBackend(), meter);
    const rounds = await meter.run("fn", async (scope) => {
      await Promise.all([b.get({ pk: "a", sk: "s" }), b.getMany([{ pk: "b", sk: "s" }])]);
      await b.put({ item: { pk: "a", sk: "s" } });
      return scope.ddbRounds;
    });
    expect(rounds).toBe(2);
  });
});

describe("MeteredEventBus", () => {
  it("counts PutEvents calls as the EventBridge adapter batches (≤ 10 entries) and bills each 64 KB chunk", async () => {
    const meter = new Meter();
    const inner = new InProcessEventBus({ routes: [] });
    const bus = new MeteredEventBus(inner, meter, "quoter-bridge");
    const ev = (i: number) =>
      buildBusEvent(
        "tse.engine",
        "OrderDenied",
        { signalId: `s${i}`, strategyId: "x", symbol: "BTC-USD", rule: "r", reason: "r" },
        { now: 0 },
      );
    await bus.publish(Array.from({ length: 25 }, (_, i) => ev(i)));
    // ~100 KB (past buildBusEvent's reason cap, as a producer could still send): 2 chunks of 64 KB.
    const e = ev(99);
    await bus.publish([{ ...e, detail: { ...e.detail, data: { ...e.detail.data, reason: "y".repeat(100 * 1024) } } }]);
    const u = meter.usage.get("quoter-bridge")!;
    expect(u.putEventsCalls).toBe(3 + 1);
    expect(u.entries).toBe(26);
    expect(u.billedEvents).toBe(25 + 2);
    await inner.close();
  });
});

describe("the price model", () => {
  it("bills a 512 MB invocation its wall time × 1769/512 plus 5 ms per DynamoDB round and 10 ms per PutEvents round", () => {
    expect(billedMs(1, 2, 1, 512)).toBe(Math.ceil(1 * (1769 / 512) + 10 + 10));
    expect(billedMs(0.1, 0, 0, 2048)).toBe(1);
  });

  it("scales counts to 1M ticks and prices them from the one table", () => {
    const none = { count: 0, failed: 0, wallMs: [], ddbRounds: [], putEventsRounds: [] };
    const m = priceReplay(
      {
        ticks: 1000,
        marketMs: 25_000,
        usage: {
          signal: {
            ddbRequests: 10,
            rru: 8,
            wru: 16,
            gsiWru: 0,
            failedWru: 0,
            minimumRru: 0,
            requestsByOperation: {},
            unitsByOperation: {},
            putEventsCalls: 1,
            entries: 2,
            billedEvents: 2,
          },
        },
        invocations: {
          signal: { count: 2, failed: 0, wallMs: [1, 1], ddbRounds: [1, 1], putEventsRounds: [0, 0] },
          "order-placement": none,
          "fill-handling": none,
          reporting: none,
          settlement: none,
        },
        eventsByType: { MarketSnapshot: 2 },
        deadLetters: 1,
        deadLetterSamples: [],
        bridge: { snapshotsQueued: 2, snapshotsConflated: 998, snapshotsShed: 0 },
        executionsForwarded: 0,
      },
      Object.fromEntries(
        ["signal", "order-placement", "fill-handling", "reporting", "settlement"].map((f) => [
          f,
          { memoryMb: 1024, architecture: "arm64" as const },
        ]),
      ),
    );
    expect(m.breakdown.eventbridge).toBeCloseTo(2 * 1000 * 1e-6, 12);
    expect(m.breakdown.lambda_requests).toBeCloseTo(2 * 1000 * 0.2e-6, 12);
    expect(m.breakdown.lambda_duration).toBeCloseTo(
      2 * 1000 * ((Math.ceil((1 * 1769) / 1024 + 5) / 1000) * 0.0000133334),
      12,
    );
    expect(m.breakdown.dynamodb_write).toBeCloseTo(16 * 1000 * 0.625e-6, 12);
    expect(m.breakdown.dynamodb_read).toBeCloseTo(8 * 1000 * 0.125e-6, 12);
    expect(m.breakdown.sqs_dlq).toBeCloseTo(1000 * 0.4e-6, 12);
    expect(m.counts["lambda_invocations.signal"]).toBe(2000);
    expect(m.usdPer1mTicks).toBeCloseTo(
      Object.values(m.breakdown).reduce((a, b) => a + b, 0),
      12,
    );
  });
});
