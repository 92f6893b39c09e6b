// The quoter's bus bridge on LocalStack EventBridge with real executions from the exchange simulator and real
// ticks from the market-data simulator: batching under load (counted per PutEvents call), a failed entry retried
// alone, back-pressure on a slow bus, snapshot conflation.
import { randomUUID } from "node:crypto";
import { CreateEventBusCommand, DeleteEventBusCommand, EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventBridgeEventBus } from "../../lib/adapters/aws/EventBridgeEventBus";
import { instrumentAwsClient } from "../../lib/adapters/aws/requestRecorder";
import { executionReportOf } from "../../lib/adapters/exchangeWire";
import { ClientManager } from "../../lib/grpc/ClientManager";
import { Discovery } from "../../lib/grpc/discovery";
import { ExchangeClient } from "../../lib/grpc/ExchangeClient";
import { MarketDataClient } from "../../lib/grpc/MarketDataClient";
import type { ExecutionReport } from "../../lib/ports/Exchange";
import { BusBridge } from "../../quoter/bridge/BusBridge";
import { ExchangeSimulator } from "../../sim/exchange/ExchangeSimulator";
import { MarketDataSimulator } from "../../sim/market-data/MarketDataSimulator";
import { localstackClientConfig } from "../support/aws";

const quiet = { info() {}, warn() {}, debug() {}, error() {} };
const cfg = { ...localstackClientConfig(), requestHandler: { requestTimeout: 10_000 } };

let exchangeSim: ExchangeSimulator;
let mdSim: MarketDataSimulator;
let manager: ClientManager;
let exchange: ExchangeClient;
const buses: string[] = [];
const admin = new EventBridgeClient(cfg);

beforeAll(async () => {
  exchangeSim = new ExchangeSimulator({ quiet: true, liquidity: false, shutdownTimeoutMs: 300 });
  mdSim = new MarketDataSimulator({ quiet: true, shutdownTimeoutMs: 300, tickMs: 5 });
  const ep = await exchangeSim.start(0);
  const mp = await mdSim.start(0);
  manager = new ClientManager({
    discovery: new Discovery({
      env: { TSE_EXCHANGE_ENDPOINT: `127.0.0.1:${ep}`, TSE_MARKET_DATA_ENDPOINT: `127.0.0.1:${mp}` },
    }),
    logger: quiet,
  });
  exchange = new ExchangeClient(manager);
});

afterAll(async () => {
  await manager.close();
  await mdSim.stop();
  await exchangeSim.stop();
  for (const b of buses) await admin.send(new DeleteEventBusCommand({ Name: b })).catch(() => undefined);
  admin.destroy();
});

async function newBus(): Promise<string> {
  const name = `tse-quoter-bridge-${randomUUID().slice(0, 8)}`;
  await admin.send(new CreateEventBusCommand({ Name: name }));
  buses.push(name);
  return name;
}

/** `n` real executions: resting sells from a maker account, crossed by market buys from a taker account. */
async function realExecutions(n: number): Promise<ExecutionReport[]> {
  const tag = randomUUID().slice(0, 6);
  const from = exchangeSim.engine.lastSequence + 1;
  for (let i = 0; i < n / 2; i++) {
    await exchange.placeOrder({
      clientOrderId: `mk-${tag}-${i}`,
      accountId: `maker-${tag}`,
      venue: "venue-a",
      symbol: "BTC-USD",
      side: "SELL",
      type: "LIMIT",
      price: "65000.00",
      quantity: "0.001",
    });
    await exchange.placeOrder({
      clientOrderId: `tk-${tag}-${i}`,
      accountId: `taker-${tag}`,
      venue: "venue-a",
      symbol: "BTC-USD",
      side: "BUY",
      type: "MARKET",
      quantity: "0.001",
    });
  }
  // Read them back through the real execution stream.
  const out: ExecutionReport[] = [];
  const stream = exchange.streamExecutions({ fromSequence: from });
  for await (const ex of stream) {
    out.push(executionReportOf(ex));
    if (out.length >= n) break;
  }
  stream.close();
  return out;
}

/** A client whose PutEvents calls are recorded (entry event ids per call); the quoter's own (IAM evaluation). */
function countingClient(calls: string[][]): EventBridgeClient {
  const eb = instrumentAwsClient(new EventBridgeClient(cfg), { principal: "quoter" });
  eb.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === "PutEventsCommand") {
        const entries = (args.input as { Entries: { Detail: string }[] }).Entries;
        calls.push(entries.map((e) => JSON.parse(e.Detail).meta.eventId as string));
      }
      return next(args);
    },
    { step: "initialize", name: "countPutEvents" },
  );
  return eb;
}

describe("quoter bus bridge on LocalStack EventBridge", () => {
  it("averages ≥ 8 entries per PutEvents under load (executions + conflated snapshots), counted per call", async () => {
    const busName = await newBus();
    const calls: string[][] = [];
    const client = countingClient(calls);
    const bus = new EventBridgeEventBus({ eventBusName: busName, client });
    const bridge = new BusBridge({
      bus,
      putEventsStats: () => bus.getStats(),
      snapshots: { minIntervalMs: 50, priceMoveBps: 1, spreadMoveBps: 1 },
      logger: quiet,
    });
    const executions = await realExecutions(400);
    // Ticks from the market-data simulator at 1 ms, conflated by the bridge, interleaved with the executions.
    const md = new MarketDataClient(manager).streamQuotes({
      symbols: ["BTC-USD", "ETH-USD"],
      venues: ["venue-a", "venue-b"],
      updateIntervalMs: 1,
    });
    let ticks = 0;
    const mdLoop = (async () => {
      for await (const q of md) {
        bridge.offerSnapshot(q);
        ticks++;
      }
    })();
    for (const ex of executions) await bridge.publishExecution(ex);
    await new Promise((r) => setTimeout(r, 1_000));
    md.close();
    await mdLoop;
    expect(await bridge.close(10_000)).toBe(true);
    const s = bridge.stats();
    expect(ticks).toBeGreaterThan(200);
    expect(s.snapshotsQueued).toBeGreaterThan(4);
    expect(s.snapshotsConflated).toBeGreaterThan(s.snapshotsQueued); // most ticks never became events
    expect(s.eventsFailed).toBe(0);
    expect(s.eventsPublished).toBe(400 + s.snapshotsQueued);
    expect(calls.every((c) => c.length <= 10)).toBe(true);
    const entries = calls.reduce((a, c) => a + c.length, 0);
    expect(entries).toBe(s.eventsPublished);
    expect(s.putEventsCalls).toBe(calls.length);
    const avg = entries / calls.length;
    expect(avg).toBeGreaterThanOrEqual(8);
    expect(s.avgPutEventsBatch).toBeCloseTo(avg, 6);
    client.destroy();
  }, 60_000);

  it("retries a failed entry alone", async () => {
    const busName = await newBus();
    const calls: string[][] = [];
    const client = countingClient(calls);
    let call = 0;
    // The third entry of the first call is withheld from LocalStack and reported as InternalFailure — what a
    // partial PutEvents failure looks like (FailedEntryCount 1). The rest reach LocalStack for real.
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== "PutEventsCommand" || call++ > 0) return next(args);
        const input = args.input as { Entries: object[] };
        const res = await next({ ...args, input: { ...input, Entries: input.Entries.filter((_, i) => i !== 2) } });
        const out = res.output as { Entries: object[]; FailedEntryCount: number };
        const real = [...out.Entries];
        out.Entries = input.Entries.map((_, i) =>
          i === 2 ? { ErrorCode: "InternalFailure", ErrorMessage: "injected" } : (real.shift() as object),
        );
        out.FailedEntryCount = 1;
        return res;
      },
      { step: "initialize", name: "partialFailure" },
    );
    const bus = new EventBridgeEventBus({ eventBusName: busName, client, initialDelayMs: 5 });
    const bridge = new BusBridge({ bus, putEventsStats: () => bus.getStats(), logger: quiet });
    const executions = await realExecutions(10);
    for (const ex of executions) await bridge.publishExecution(ex);
    expect(await bridge.close(10_000)).toBe(true);
    expect(calls).toHaveLength(2);
    expect(calls[0]).toHaveLength(10);
    expect(calls[1]).toEqual([calls[0]![2]]);
    expect(bridge.stats()).toMatchObject({ eventsPublished: 10, eventsFailed: 0, putEventsRetriedEntries: 1 });
    client.destroy();
  }, 60_000);

  it("applies back-pressure on a slow bus: the queue stays bounded and no execution is lost", async () => {
    const busName = await newBus();
    const calls: string[][] = [];
    const client = countingClient(calls);
    client.middlewareStack.add(
      (next) => async (args) => {
        await new Promise((r) => setTimeout(r, 100)); // a slow bus
        return next(args);
      },
      { step: "initialize", name: "slow" },
    );
    const bus = new EventBridgeEventBus({ eventBusName: busName, client, concurrency: 1 });
    const bridge = new BusBridge({
      bus,
      maxQueue: 20,
      maxPublishEvents: 20,
      putEventsStats: () => bus.getStats(),
      logger: quiet,
    });
    const executions = await realExecutions(100);
    let maxDepth = 0;
    for (const ex of executions) {
      await bridge.publishExecution(ex);
      maxDepth = Math.max(maxDepth, bridge.stats().queueDepth);
    }
    expect(await bridge.close(20_000)).toBe(true);
    const s = bridge.stats();
    expect(maxDepth).toBeLessThanOrEqual(20);
    expect(s.backpressureWaits).toBeGreaterThan(0);
    expect(s.eventsPublished).toBe(100);
    const ids = calls.flat();
    expect(new Set(ids).size).toBe(100);
    client.destroy();
  }, 60_000);
});
