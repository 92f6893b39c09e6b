// What a two-leg order placement costs in DynamoDB requests (LocalStack, SDK request-counting middleware): the
// decision reads the signal and the shared risk state in one BatchGetItem beside one Query of the positions, and
// writes the decision, both pending orders and the new risk state in one TransactWriteItems; then each leg's
// placement writes (the order journal). Pinned here so the budget of issue 13 stays in sight.
import { GrpcExchange } from "../../lib/adapters/GrpcExchange";
import "../support/quietPowertools";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterAll, describe, expect, it } from "vitest";
import { createTable, deleteTable } from "../../lib/adapters/aws/createTable";
import { DynamoDbStateStore } from "../../lib/adapters/aws/DynamoDbStateStore";
import { attachRequestCounter } from "../../lib/adapters/aws/requestCounter";
import { InProcessEventBus } from "../../lib/adapters/embedded/InProcessEventBus";
import { createFunctionHandlers, localContext } from "../../lib/app/handlers";
import { InstrumentRegistry } from "../../lib/domain/instruments";
import { buildBusEvent, toEventBridgeEvent } from "../../lib/events";
import type { ExchangePort } from "../../lib/ports/Exchange";
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

describe("order-placement DynamoDB requests (LocalStack)", () => {
  it("a two-leg signal: decision = 1 BatchGetItem ∥ 1 Query, then 1 TransactWriteItems", async () => {
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
    const [a, b] = WIDE_BOOKS;
    const signal = buildBusEvent(
      "tse.engine",
      "SignalGenerated",
      {
        signalId: "req-sig-1",
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
      { now: t0, eventId: "req-sig-1" },
    );
    counter.reset();
    const out = (await handlers["order-placement"](toEventBridgeEvent(signal), localContext("order-placement"))) as {
      decision: string;
      legs: unknown[];
    };
    expect(out.decision).toBe("approved");
    expect(out.legs).toHaveLength(2);
    // Decision and commit, then leg 0's pending-new → submitted write (version-checked, no read) before it is sent.
    expect(atFirstPlace).toEqual({
      BatchGetItemCommand: 1,
      QueryCommand: 1,
      TransactWriteItemsCommand: 1,
      PutItemCommand: 1,
    });
    // The whole invocation (placement journal included), for the record in docs/functions.md.
    const all = counter.byCommand();
    process.stdout.write(`order-placement requests: ${JSON.stringify(all)} (total ${counter.total()})\n`);
    expect(all.BatchGetItemCommand).toBe(1);
    expect(all.TransactWriteItemsCommand).toBe(1);
    counter.detach();
  }, 60_000);
});
