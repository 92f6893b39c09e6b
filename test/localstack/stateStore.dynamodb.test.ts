// The StateStore contract against real DynamoDB (LocalStack), plus DynamoDB-only checks: the table matches
// tableDefinition, TTL is on, and a fill costs two requests. Fails (never skips) when LocalStack is missing.
import { DescribeTableCommand, DescribeTimeToLiveCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTable, deleteTable } from "../../lib/adapters/aws/createTable";
import { DynamoDbStateStore } from "../../lib/adapters/aws/DynamoDbStateStore";
import { attachRequestCounter } from "../../lib/adapters/aws/requestCounter";
import { TABLE_DEFINITION } from "../../lib/adapters/aws/tableDefinition";
import { dec } from "../../lib/domain/decimal";
import { createOrder } from "../../lib/domain/orders";
import { RiskEngine } from "../../lib/domain/risk";
import { stateStoreContract } from "../contract/stateStore.contract";

function endpoint(): string {
  const url = process.env.AWS_ENDPOINT_URL_DYNAMODB ?? process.env.AWS_ENDPOINT_URL;
  if (!url)
    throw new Error("AWS_ENDPOINT_URL is not set: the localstack global setup did not run (LocalStack is required)");
  return url;
}

const client = new DynamoDBClient({
  endpoint: endpoint(),
  region: process.env.AWS_REGION ?? "us-east-1",
  credentials: {
    accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? "test",
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? "test",
  },
  maxAttempts: 3,
});
// One prefix per test file run; every store gets its own fresh table so whole-table comparisons are exact.
const prefix = `tse-state-test-${process.pid}-${Date.now().toString(36)}`;
const tables: string[] = [];

async function freshTable(): Promise<string> {
  const name = `${prefix}-${tables.length}`;
  tables.push(name);
  await createTable(client, name);
  return name;
}

afterAll(async () => {
  await Promise.all(tables.map((t) => deleteTable(client, t)));
  client.destroy();
});

stateStoreContract("DynamoDbStateStore (LocalStack)", async (options) => {
  const tableName = await freshTable();
  return new DynamoDbStateStore({ ...options, client, tableName });
});

describe("DynamoDbStateStore specifics (LocalStack)", () => {
  let tableName: string;
  beforeAll(async () => {
    tableName = await freshTable();
  });

  it("creates the table exactly as tableDefinition declares, with TTL on expiresAt", async () => {
    const d = (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
    expect(d?.KeySchema).toEqual([
      { AttributeName: "pk", KeyType: "HASH" },
      { AttributeName: "sk", KeyType: "RANGE" },
    ]);
    expect(
      d?.GlobalSecondaryIndexes?.map((g) => [g.IndexName, g.KeySchema?.map((k) => k.AttributeName)]).sort(),
    ).toEqual(TABLE_DEFINITION.globalSecondaryIndexes.map((g) => [g.indexName, [g.partitionKey, g.sortKey]]).sort());
    expect(d?.BillingModeSummary?.BillingMode ?? "PAY_PER_REQUEST").toBe("PAY_PER_REQUEST");
    const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
    expect(ttl.TimeToLiveDescription?.AttributeName).toBe("expiresAt");
    expect(ttl.TimeToLiveDescription?.TimeToLiveStatus).toMatch(/ENABL/);
  });

  it("a fill costs two DynamoDB requests (one BatchGet, one TransactWrite); a duplicate costs one", async () => {
    const countingClient = new DynamoDBClient({
      endpoint: endpoint(),
      region: "us-east-1",
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
    });
    const counter = attachRequestCounter(countingClient);
    try {
      const store = new DynamoDbStateStore({ client: countingClient, tableName });
      const t0 = Date.UTC(2026, 0, 1);
      const order = createOrder(
        {
          strategyId: "cnt",
          venue: "venue-a",
          symbol: "BTC-USD",
          side: "BUY",
          type: "LIMIT",
          timeInForce: "GTC",
          postOnly: false,
          quantity: dec("1"),
          limitPrice: dec("30000"),
        },
        { clientOrderId: "cnt-1" },
        t0,
      );
      await store.createPendingOrder(order);
      const v = await store.updateOrderStatus("cnt-1", 1, { status: "submitted", at: t0 + 1 });
      await store.updateOrderStatus("cnt-1", v.version, { status: "accepted", at: t0 + 2 });
      const f = {
        executionId: "cnt-e1",
        clientOrderId: "cnt-1",
        strategyId: "cnt",
        venue: "venue-a",
        symbol: "BTC-USD",
        side: "BUY" as const,
        quantity: "0.5",
        price: "30000",
        fee: "0.1",
        feeAsset: "USD",
        ts: t0 + 10,
      };
      counter.reset();
      expect((await store.applyFill(f)).applied).toBe(true);
      expect(counter.byCommand()).toEqual({ BatchGetItemCommand: 1, TransactWriteItemsCommand: 1 });
      counter.reset();
      expect((await store.applyFill(f)).applied).toBe(false);
      expect(counter.total()).toBe(1);
    } finally {
      counter.detach();
      countingClient.destroy();
    }
  });
});

describe("placement's risk-state requests (LocalStack)", () => {
  it("the signal and the risk state are one BatchGetItem; signal + orders + risk state one TransactWriteItems", async () => {
    const countingClient = new DynamoDBClient({
      endpoint: endpoint(),
      region: "us-east-1",
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
    });
    const counter = attachRequestCounter(countingClient);
    try {
      const store = new DynamoDbStateStore({ client: countingClient, tableName: await freshTable() });
      const t0 = Date.UTC(2026, 0, 3);
      const order = (coid: string) =>
        createOrder(
          {
            strategyId: "cnt",
            venue: "venue-a",
            symbol: "BTC-USD",
            side: "BUY",
            type: "LIMIT",
            timeInForce: "IOC",
            postOnly: false,
            quantity: dec("1"),
            limitPrice: dec("30000"),
          },
          { clientOrderId: coid, signalId: "cnt-sig" },
          t0,
        );
      counter.reset();
      const read = await store.getSignalAndRiskState("cnt-sig");
      const r = await store.commitPlacement({
        signal: {
          signalId: "cnt-sig",
          strategyId: "cnt",
          status: "approved",
          ts: t0,
          clientOrderIds: ["cnt-a", "cnt-b"],
        },
        orders: [order("cnt-a"), order("cnt-b")],
        risk: { state: "ACTIVE", strategies: {}, reason: "", at: t0, engine: new RiskEngine().snapshot(t0) },
        expectedRiskVersion: read.risk?.version ?? 0,
      });
      expect(r.committed).toBe(true);
      expect(counter.byCommand()).toEqual({ BatchGetItemCommand: 1, TransactWriteItemsCommand: 1 });
    } finally {
      counter.detach();
      countingClient.destroy();
    }
  });
});

describe("DynamoDB and in-memory hold the same items", () => {
  it("the same operations leave byte-for-byte equal tables", async () => {
    const { InMemoryStateStore } = await import("../../lib/adapters/embedded/InMemoryStateStore");
    const ddb = new DynamoDbStateStore({ client, tableName: await freshTable() });
    const mem = new InMemoryStateStore();
    const t0 = Date.UTC(2026, 0, 2);
    for (const store of [ddb, mem]) {
      const order = createOrder(
        {
          strategyId: "same",
          venue: "venue-b",
          symbol: "ETH-USD",
          side: "SELL",
          type: "LIMIT",
          timeInForce: "IOC",
          postOnly: false,
          quantity: dec("3"),
          limitPrice: dec("2000.5"),
          tag: "arb:leg2",
        },
        { clientOrderId: "same-1", signalId: "sig-same" },
        t0,
      );
      await store.createPendingOrder(order);
      await store.updateOrderStatus("same-1", 1, { status: "submitted", at: t0 + 1, exchangeOrderId: "x-same" });
      await store.applyFill({
        executionId: "same-e1",
        clientOrderId: "same-1",
        venue: "venue-b",
        symbol: "ETH-USD",
        side: "SELL",
        quantity: "1.5",
        price: "2000.5",
        fee: "-0.01",
        feeAsset: "USD",
        liquidity: "MAKER",
        sequence: 9,
        ts: t0 + 5,
      });
      await store.putSnapshot(
        {
          ts: t0,
          venue: "venue-b",
          symbol: "ETH-USD",
          bid: dec("2000"),
          ask: dec("2001"),
          bidSize: dec("1"),
          askSize: dec("0"),
        },
        3,
      );
      await store.recordSignal({
        signalId: "sig-same",
        strategyId: "same",
        status: "approved",
        ts: t0,
        clientOrderIds: ["same-1"],
        details: { spreadBps: 25, legs: [{ venue: "venue-b" }] },
      });
      await store.saveReport({
        reportId: "rep-same",
        strategyId: "same",
        asOf: t0 + 10,
        metrics: { totalPnl: "1.5", sharpe: null },
      });
      await store.appendEquityPoints([{ strategyId: "same", ts: t0 + 10, equity: "100001.5" }]);
      await store.claimIdempotencyKey("idem-same", { status: "COMPLETED" }, 3600, t0);
      // The risk state: engine memory with fractional equity, rate windows, an old trading-state write on top,
      // a placement's transaction and a fill booked into it.
      const risk = new RiskEngine({ limits: { maxOrdersPerSecond: 3 } });
      risk.markEquity(1_000_000.125, t0);
      risk.markEquity(999_999.3, t0 + 1);
      risk.bookRealized(-0.1, t0 + 1);
      risk.check(
        {
          strategyId: "same",
          venue: "venue-b",
          symbol: "ETH-USD",
          side: "BUY",
          type: "LIMIT",
          timeInForce: "IOC",
          postOnly: false,
          quantity: dec("1"),
          limitPrice: dec("2000"),
        },
        { mid: 2000, position: 0, strategyNotional: 0, portfolioNotional: 0, availableQuote: 1e9 },
        t0 + 2,
      );
      const input = {
        state: "ACTIVE" as const,
        strategies: { same: "REDUCING" as const },
        reason: "r",
        at: t0,
        engine: risk.snapshot(t0 + 2),
      };
      await store.putRiskState(input, 0);
      await store.putTradingState(
        { state: "REDUCING", strategies: {}, reason: "operator", at: t0 + 3, source: "test" },
        1,
      );
      const placed = createOrder(
        {
          strategyId: "same",
          venue: "venue-a",
          symbol: "ETH-USD",
          side: "BUY",
          type: "LIMIT",
          timeInForce: "IOC",
          postOnly: false,
          quantity: dec("1"),
          limitPrice: dec("2000"),
        },
        { clientOrderId: "same-2", signalId: "sig-same-2" },
        t0 + 4,
      );
      await store.commitPlacement({
        signal: {
          signalId: "sig-same-2",
          strategyId: "same",
          status: "approved",
          ts: t0 + 4,
          clientOrderIds: ["same-2"],
        },
        orders: [placed],
        risk: { ...input, at: t0 + 4 },
        expectedRiskVersion: 2,
      });
      await store.applyFill(
        {
          executionId: "same-e2",
          clientOrderId: "same-2",
          venue: "venue-a",
          symbol: "ETH-USD",
          side: "BUY",
          quantity: "1",
          price: "2000",
          fee: "1",
          feeAsset: "USD",
          ts: t0 + 5,
        },
        { riskState: (cur) => ({ ...input, at: t0 + 5, reason: `after v${cur?.version}` }) },
      );
    }
    expect(JSON.stringify(await ddb.dumpItems())).toBe(JSON.stringify(await mem.dumpItems()));
  });
});

describe("Powertools idempotency shares the table", () => {
  it("stores its records under idempotency#… with the TTL attribute, and replays the first result", async () => {
    const { makeIdempotent, IdempotencyConfig } = await import("@aws-lambda-powertools/idempotency");
    const { DynamoDBPersistenceLayer } = await import("@aws-lambda-powertools/idempotency/dynamodb");
    const { powertoolsIdempotencyAttributes } = await import("../../lib/adapters/aws/tableDefinition");
    const tableName = await freshTable();
    const persistenceStore = new DynamoDBPersistenceLayer({
      tableName,
      awsSdkV3Client: client,
      staticPkValue: "idempotency#test-fn",
      ...powertoolsIdempotencyAttributes(),
    });
    let calls = 0;
    const handler = makeIdempotent(
      async (event: { id: string; n: number }) => {
        calls++;
        return { doubled: event.n * 2, call: calls };
      },
      { persistenceStore, config: new IdempotencyConfig({ eventKeyJmesPath: "id", expiresAfterSeconds: 600 }) },
    );
    const first = await handler({ id: "evt-1", n: 21 });
    const again = await handler({ id: "evt-1", n: 21 });
    expect(first).toEqual({ doubled: 42, call: 1 });
    expect(again).toEqual(first);
    expect(calls).toBe(1);
    const items = await new DynamoDbStateStore({ client, tableName }).dumpItems();
    expect(items).toHaveLength(1);
    expect(items[0]?.pk).toBe("idempotency#test-fn");
    expect(typeof items[0]?.expiresAt).toBe("number");
  });
});
