// What a two-leg order placement costs in DynamoDB requests (LocalStack, SDK request-counting middleware): the
// decision reads the signal and the shared risk state in one BatchGetItem beside one Query of the positions, and
// writes the decision, both orders (already `submitted`) and the new risk state in one TransactWriteItems; the
// legs go out, then both status writes in parallel: 5 requests in 3 rounds (issue 13's budget).
import { GrpcExchange } from "../../lib/adapters/GrpcExchange";
import "../support/quietPowertools";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterAll, describe, expect, it } from "vitest";
import { createTable, deleteTable } from "../../lib/adapters/aws/createTable";
import { DynamoDbStateStore } from "../../lib/adapters/aws/DynamoDbStateStore";
import { attachRequestCounter } from "../../lib/adapters/aws/requestCounter";
import { InProcessEventBus } from "../../lib/adapters/embedded/InProcessEventBus";
import { createFunctionHandlers, localContext } from "../../lib/app/handlers";
import { setEngineTradingState } from "../../lib/app/tradingState";
import { InstrumentRegistry } from "../../lib/domain/instruments";
import { clientOrderIdFor } from "../../lib/domain/orders";
import { buildBusEvent, toEventBridgeEvent } from "../../lib/events";
import type { ExchangePort } from "../../lib/ports/Exchange";
import type { StateStore } from "../../lib/ports/StateStore";
import { type EngineRig, startEngineRig, WIDE_BOOKS } from "../support/engineRig";

const ddb = new DynamoDBClient({
  endpoint: process.env.AWS_ENDPOINT_URL,
  region: process.env.AWS_REGION ?? "us-east-1",
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
});
const table = `tse-placement-req-${process.pid}-${Date.now().toString(36)}`;
let rig: EngineRig | undefined;
afterAll(async () => {
  await rig?.stop();
  await deleteTable(ddb, table).catch(() => {});
  ddb.destroy();
});

function signalEvent(signalId: string, t0: number) {
  const [a, b] = WIDE_BOOKS;
  return buildBusEvent(
    "tse.engine",
    "SignalGenerated",
    {
      signalId,
      strategyId: "arb-1",
      kind: "arbitrage",
      legs: [
        {
          venue: a!.venue,
          symbol: a!.symbol,
          side: "BUY",
          quantity: "0.01",
          limitPrice: a!.ask,
          type: "LIMIT",
          timeInForce: "IOC",
        },
        {
          venue: b!.venue,
          symbol: b!.symbol,
          side: "SELL",
          quantity: "0.01",
          limitPrice: b!.bid,
          type: "LIMIT",
          timeInForce: "IOC",
        },
      ],
      reason: "request count",
      inputs: {
        snapshots: [a!, b!].map((x) => ({
          venue: x.venue,
          symbol: x.symbol,
          bid: x.bid,
          ask: x.ask,
          sequence: 1,
          ts: new Date(t0).toISOString(),
        })),
        figures: {},
      },
    },
    { now: t0, eventId: signalId },
  );
}

describe("order-placement DynamoDB requests (LocalStack)", () => {
  it("a two-leg signal: 1 BatchGetItem ∥ 1 Query, 1 TransactWriteItems, then 2 status Puts in parallel", async () => {
    const t0 = Date.now();
    rig = await startEngineRig({ now: t0 });
    await createTable(ddb, table);
    const counter = attachRequestCounter(ddb);
    const store = new DynamoDbStateStore({ client: ddb, tableName: table });
    let atFirstPlace: Record<string, number> | undefined;
    const ex = new GrpcExchange(rig.peers.exchange);
    const exchange: ExchangePort = {
      placeOrder: (args) => {
        atFirstPlace ??= counter.byCommand();
        return ex.placeOrder(args);
      },
      cancelOrder: (ref) => ex.cancelOrder(ref),
      getOrder: (...a: Parameters<ExchangePort["getOrder"]>) => ex.getOrder(...a),
      listOpenOrders: (f) => ex.listOpenOrders(f),
      streamExecutions: (o) => ex.streamExecutions(o),
    };
    const handlers = createFunctionHandlers({
      store,
      bus: new InProcessEventBus({ routes: [] }),
      settings: rig.settings,
      exchange,
      riskMonitor: rig.peers.risk,
      instruments: new InstrumentRegistry(),
      clock: Date.now,
    });
    const signal = signalEvent("req-sig-1", t0);
    counter.reset();
    const out = (await handlers["order-placement"](toEventBridgeEvent(signal), localContext("order-placement"))) as {
      decision: string;
      legs: unknown[];
    };
    expect(out.decision).toBe("approved");
    expect(out.legs).toHaveLength(2);
    // Decision and commit (the orders created as submitted), nothing else before leg 0 is sent.
    expect(atFirstPlace).toEqual({ BatchGetItemCommand: 1, QueryCommand: 1, TransactWriteItemsCommand: 1 });
    // The whole invocation (placement journal included), for the record in docs/functions.md.
    const all = counter.byCommand();
    process.stdout.write(`order-placement requests: ${JSON.stringify(all)} (total ${counter.total()})\n`);
    process.stdout.write(`order-placement rounds: ${counter.rounds()}\n`);
    expect(all).toEqual({ BatchGetItemCommand: 1, QueryCommand: 1, TransactWriteItemsCommand: 1, PutItemCommand: 2 });
    expect(counter.rounds()).toBe(3);
    // Every leg's exchange id is stored (a FILLED one included), so a redelivery needs no exchange lookup.
    for (const leg of out.legs as { clientOrderId: string }[])
      expect((await store.getOrder(leg.clientOrderId))?.order.exchangeOrderId).toBeTruthy();
    counter.detach();
  }, 60_000);

  it("the kill switch set between the reads and the transaction fails the transaction: no order goes out", async () => {
    const t0 = Date.now();
    rig ??= await startEngineRig({ now: t0 });
    const inner = new DynamoDbStateStore({ client: ddb, tableName: table });
    let commits = 0;
    let sent = 0;
    // A store whose first commit is preceded by another writer's HALTED (after this delivery's reads).
    const store: StateStore = Object.assign(Object.create(inner) as StateStore, {
      commitPlacement: async (p: Parameters<StateStore["commitPlacement"]>[0]) => {
        if (commits++ === 0)
          await setEngineTradingState(inner, { state: "HALTED", reason: "operator kill switch", at: Date.now() });
        return inner.commitPlacement(p);
      },
    });
    const ex = new GrpcExchange(rig.peers.exchange);
    const handlers = createFunctionHandlers({
      store,
      bus: new InProcessEventBus({ routes: [] }),
      settings: rig.settings,
      exchange: {
        placeOrder: (args) => {
          sent++;
          return ex.placeOrder(args);
        },
        cancelOrder: (ref) => ex.cancelOrder(ref),
        getOrder: (...a: Parameters<ExchangePort["getOrder"]>) => ex.getOrder(...a),
        listOpenOrders: (f) => ex.listOpenOrders(f),
        streamExecutions: (o) => ex.streamExecutions(o),
      },
      riskMonitor: rig.peers.risk,
      instruments: new InstrumentRegistry(),
      clock: Date.now,
    });
    const out = (await handlers["order-placement"](
      toEventBridgeEvent(signalEvent("req-sig-halt", t0)),
      localContext("order-placement"),
    )) as { decision: string; reason?: string; legs: unknown[] };
    // The first transaction failed on the risk state's version; the retry read HALTED and denied.
    expect(commits).toBe(2);
    expect(out.decision).toBe("denied");
    expect(out.reason).toMatch(/HALTED/);
    expect(out.legs).toEqual([]);
    expect(sent).toBe(0);
    for (const leg of [0, 1]) expect(await inner.getOrder(clientOrderIdFor("req-sig-halt", leg))).toBeUndefined();
  }, 60_000);
});
