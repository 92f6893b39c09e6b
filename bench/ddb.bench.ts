// DynamoDB state-layer figures, measured against LocalStack DynamoDB with an SDK request-counting middleware:
//   ddb.requests_per_fill            DynamoDB HTTP requests per applied fill (goal ≤ 2)
//   ddb.requests_per_duplicate_fill  requests for a repeated execution (a no-op)
//   ddb.apply_fill_p50_ms / _p99_ms  latency of applyFill on LocalStack
//   ddb.inmemory.apply_fill_p50_ms   baseline: the same workload on the in-memory store, same run
//   ddb.inmemory.operations_per_fill baseline: item-backend operations per fill in memory
// Each figure is the median over RUNS runs of N sequential fills (fresh table per run).
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { createTable, deleteTable } from "../lib/adapters/aws/createTable";
import { DynamoDbStateStore } from "../lib/adapters/aws/DynamoDbStateStore";
import { attachRequestCounter } from "../lib/adapters/aws/requestCounter";
import { InMemoryStateStore } from "../lib/adapters/embedded/InMemoryStateStore";
import type { ItemStateStore } from "../lib/adapters/state/ItemStateStore";
import { dec } from "../lib/domain/decimal";
import { createOrder } from "../lib/domain/orders";
import { ensureLocalAws } from "../lib/local-aws/ensureLocalAws";
import type { FillInput } from "../lib/ports/StateStore";

const RUNS = 3;
const ORDERS = 20;
const FILLS_PER_ORDER = 10;
const DUPLICATES = 40;
const T0 = Date.UTC(2026, 0, 1);

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};
const round = (x: number, dp = 3): number => Number(x.toFixed(dp));

async function seedOrders(store: ItemStateStore, run: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < ORDERS; i++) {
    const clientOrderId = `bench-${run}-${i}`;
    const order = createOrder(
      {
        strategyId: `bench${run}`,
        venue: "venue-a",
        symbol: "BTC-USD",
        side: "BUY",
        type: "LIMIT",
        timeInForce: "GTC",
        postOnly: false,
        quantity: dec(FILLS_PER_ORDER).times("0.01"),
        limitPrice: dec("30000"),
      },
      { clientOrderId },
      T0,
    );
    await store.createPendingOrder(order);
    const sub = await store.updateOrderStatus(clientOrderId, 1, { status: "submitted", at: T0 + 1 });
    await store.updateOrderStatus(clientOrderId, sub.version, { status: "accepted", at: T0 + 2 });
    ids.push(clientOrderId);
  }
  return ids;
}

function fillsFor(run: number, orderIds: string[]): FillInput[] {
  const fills: FillInput[] = [];
  for (let k = 0; k < FILLS_PER_ORDER; k++)
    orderIds.forEach((clientOrderId, i) => {
      fills.push({
        executionId: `bench-${run}-e-${i}-${k}`,
        clientOrderId,
        strategyId: `bench${run}`,
        venue: "venue-a",
        symbol: "BTC-USD",
        side: "BUY",
        quantity: "0.01",
        price: `${30000 + ((i * 7 + k) % 13)}.25`,
        fee: "0.003",
        feeAsset: "USD",
        ts: T0 + 1000 + fills.length,
      });
    });
  return fills;
}

async function timeFills(store: ItemStateStore, fills: FillInput[]): Promise<number[]> {
  const ms: number[] = [];
  for (const f of fills) {
    const t = performance.now();
    const r = await store.applyFill(f);
    ms.push(performance.now() - t);
    if (!r.applied) throw new Error(`bench fill ${f.executionId} was not applied`);
  }
  return ms;
}

export async function run(progress: (m: string) => void): Promise<Record<string, number>> {
  // Reuses a healthy AWS_ENDPOINT_URL / shared LocalStack, or starts one (host mode) and leaves it on stop().
  const local = await ensureLocalAws({ log: progress });
  const client = new DynamoDBClient({
    endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB ?? local.endpoint,
    region: process.env.AWS_REGION ?? "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
  const counter = attachRequestCounter(client);
  const perRun = {
    requestsPerFill: [] as number[],
    requestsPerDuplicate: [] as number[],
    p50: [] as number[],
    p99: [] as number[],
    memP50: [] as number[],
    memOps: [] as number[],
  };
  const tables: string[] = [];
  try {
    for (let r = 0; r < RUNS; r++) {
      const tableName = `tse-bench-${process.pid}-${Date.now().toString(36)}-${r}`;
      tables.push(tableName);
      await createTable(client, tableName);
      const store = new DynamoDbStateStore({ client, tableName });
      const orderIds = await seedOrders(store, r);
      const fills = fillsFor(r, orderIds);
      counter.reset();
      const ms = await timeFills(store, fills);
      perRun.requestsPerFill.push(counter.total() / fills.length);
      perRun.p50.push(percentile(ms, 50));
      perRun.p99.push(percentile(ms, 99));
      counter.reset();
      for (const f of fills.slice(0, DUPLICATES)) {
        const d = await store.applyFill(f);
        if (d.applied) throw new Error(`duplicate ${f.executionId} was applied twice`);
      }
      perRun.requestsPerDuplicate.push(counter.total() / DUPLICATES);
      progress(
        `run ${r + 1}/${RUNS}: ${fills.length} fills, ${perRun.requestsPerFill.at(-1)} req/fill, p50 ${perRun.p50.at(-1)?.toFixed(2)} ms`,
      );

      // Baseline: identical workload, in memory, same run.
      const mem = new InMemoryStateStore();
      const memIds = await seedOrders(mem, r);
      const memFills = fillsFor(r, memIds);
      const before = mem.backend.operations;
      const memMs = await timeFills(mem, memFills);
      perRun.memOps.push((mem.backend.operations - before) / memFills.length);
      perRun.memP50.push(percentile(memMs, 50));
    }
  } finally {
    counter.detach();
    await Promise.allSettled(tables.map((t) => deleteTable(client, t)));
    client.destroy();
    await local.stop();
  }
  return {
    "ddb.requests_per_fill": round(median(perRun.requestsPerFill)),
    "ddb.requests_per_duplicate_fill": round(median(perRun.requestsPerDuplicate)),
    "ddb.apply_fill_p50_ms": round(median(perRun.p50)),
    "ddb.apply_fill_p99_ms": round(median(perRun.p99)),
    "ddb.inmemory.apply_fill_p50_ms": round(median(perRun.memP50), 4),
    "ddb.inmemory.operations_per_fill": round(median(perRun.memOps)),
  };
}
