// One crash-point sweep cell (tests only): the functions on the embedded bus over DynamoDB on LocalStack (its own
// table), every function with its own SDK client and port wrappers counting into one FaultPlan (scope = the
// function), the exchange, risk-monitor, configuration and custodian simulators on loopback. `run()` trades one
// arbitrage, lets every failed delivery be redelivered, and `invariants()` checks the end state.
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { createTable, deleteTable } from "../../../lib/adapters/aws/createTable";
import { DynamoDbStateStore } from "../../../lib/adapters/aws/DynamoDbStateStore";
import { EventBridgeEventBus } from "../../../lib/adapters/aws/EventBridgeEventBus";
import { InProcessEventBus } from "../../../lib/adapters/embedded/InProcessEventBus";
import { GrpcExchange } from "../../../lib/adapters/GrpcExchange";
import { CustodianBuyingPower } from "../../../lib/app/buyingPower";
import type { EngineDependencies } from "../../../lib/app/dependencies";
import { buildFunction, type FunctionSpec, type LambdaHandler } from "../../../lib/app/functionRuntime";
import { type FunctionName, localContext, registerFunctions } from "../../../lib/app/handlers";
import { fillHandlingFunction } from "../../../lib/app/specs/fillHandling";
import { orderPlacementFunction } from "../../../lib/app/specs/orderPlacement";
import { reportingFunction } from "../../../lib/app/specs/reporting";
import { settlementFunction } from "../../../lib/app/specs/settlement";
import { signalFunction } from "../../../lib/app/specs/signal";
import { ExecutionForwarder } from "../../../lib/bridges/ExecutionForwarder";
import { Decimal } from "../../../lib/domain/decimal";
import { InstrumentRegistry } from "../../../lib/domain/instruments";
import { clientOrderIdFor } from "../../../lib/domain/orders";
import { buildBusEvent } from "../../../lib/events";
import { ClientManager, CustodianClient, Discovery } from "../../../lib/grpc";
import { FunctionHost } from "../../../lib/local-aws";
import type { EventBus } from "../../../lib/ports/EventBus";
import { ROUTES } from "../../../lib/routing/routes";
import { CustodianSimulator } from "../../../sim/custodian/CustodianSimulator";
import { localstackClientConfig } from "../aws";
import { type EngineRig, startEngineRig, WIDE_BOOKS } from "../engineRig";
import { attachAwsFaults } from "./awsFaults";
import type { FaultPlan } from "./faultPlan";
import { withPortFaults } from "./portFaults";

export const STRATEGY = "arb-1";
const OPENING = { "venue-a": { USD: "1000000", BTC: "10" }, "venue-b": { USD: "1000000", BTC: "10" } };
// biome-ignore lint/suspicious/noExplicitAny: the specs differ in input/outcome types
const SPECS: Record<FunctionName, FunctionSpec<any, any>> = {
  signal: signalFunction,
  "order-placement": orderPlacementFunction,
  "fill-handling": fillHandlingFunction,
  reporting: reportingFunction,
  settlement: settlementFunction,
};

interface SimOrder {
  orderId: string;
  clientOrderId: string;
  strategyId: string;
}

export interface SweepWorld {
  run(): Promise<void>;
  invariants(): Promise<Record<string, string | true>>;
  stop(): Promise<void>;
}

let seq = 0;

/**
 * `embedded`: the in-process bus (redelivery = its retries). `function-host`: a private EventBridge bus on
 * LocalStack, rules → SQS → the handlers (redelivery = the queue's visibility timeout, short here), and every
 * PutEvents is an SDK step of the function that sends it.
 */
export type Delivery = "embedded" | "function-host";

export async function startSweepWorld(
  plan: FaultPlan,
  t0: number,
  delivery: Delivery = "embedded",
): Promise<SweepWorld> {
  const run = `crash-${process.pid}-${Date.now().toString(36)}-${seq++}`;
  const tableName = `${run}-state`;
  const admin = new DynamoDBClient(localstackClientConfig());
  await createTable(admin, tableName);
  const custodian = new CustodianSimulator({ quiet: true, balances: OPENING, dayMs: 50, processingMs: 5, tickMs: 5 });
  await custodian.start(0);
  const rig: EngineRig = await startEngineRig({
    now: t0,
    settings: {
      arbitrage: { signalTtlMs: 600_000 },
      settlement: { balanceSource: "custodian", openingBalances: OPENING, reconcileGraceMs: 0, cycleDays: 1 },
    },
  });
  const manager = new ClientManager({
    discovery: new Discovery({ env: {}, explicit: { custodian: custodian.address } }),
    retry: { maxAttempts: 2, initialDelayMs: 10, maxDelayMs: 20 },
    breaker: { consecutiveFailures: 1_000 },
  });
  const custodianClient = new CustodianClient(manager);
  // Enough redeliveries for one injected fault plus the retries it provokes (a throttle is one failed delivery).
  const bus = new InProcessEventBus({ retryDelayMs: () => 5, maxAttempts: 6 });
  const busName = `${run}-bus`;
  const eventBridge = new EventBridgeClient(localstackClientConfig());
  const clients: { destroy(): void }[] = [eventBridge];
  const busFor = (name: string): EventBus => {
    if (delivery === "embedded") return withPortFaults(bus, plan, "bus", name);
    const client = new EventBridgeClient(localstackClientConfig());
    clients.push(client);
    attachAwsFaults(client, plan, name);
    return new EventBridgeEventBus({ eventBusName: busName, client });
  };
  const handlers = {} as Record<FunctionName, LambdaHandler>;
  let readStore: DynamoDbStateStore | undefined;
  for (const name of Object.keys(SPECS) as FunctionName[]) {
    const client = new DynamoDBClient({ ...localstackClientConfig(), maxAttempts: 3 });
    clients.push(client);
    attachAwsFaults(client, plan, name);
    const store = new DynamoDbStateStore({ client, tableName });
    const wrappedCustodian = withPortFaults(custodianClient, plan, "custodian", name);
    const deps: EngineDependencies = {
      store,
      bus: busFor(name),
      settings: rig.settings,
      exchange: withPortFaults(new GrpcExchange(rig.peers.exchange), plan, "exchange", name),
      riskMonitor: withPortFaults(rig.peers.risk, plan, "risk", name),
      instruments: new InstrumentRegistry(),
      custodian: wrappedCustodian,
      buyingPower: new CustodianBuyingPower(wrappedCustodian),
      clock: Date.now,
    };
    handlers[name] = buildFunction(SPECS[name], deps);
  }
  readStore = new DynamoDbStateStore({ client: admin, tableName });
  let host: FunctionHost | undefined;
  let entry: EventBus = bus;
  const sqs = new SQSClient(localstackClientConfig());
  clients.push(sqs);
  const depth = async (url: string) => {
    const a = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
      }),
    );
    return (
      Number(a.Attributes?.ApproximateNumberOfMessages ?? 0) +
      Number(a.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
    );
  };
  const hosted = () => (Object.keys(SPECS) as FunctionName[]).filter((n) => ROUTES.some((r) => r.functionName === n));
  const queueDepth = async (which: "queueUrl" | "dlqUrl") => {
    let n = 0;
    for (const f of hosted()) n += await depth(host!.resources(f)[which]);
    return n;
  };
  let deadLettered = 0;
  if (delivery === "embedded") registerFunctions(bus, handlers);
  else {
    host = new FunctionHost({
      routes: ROUTES,
      handlers,
      eventBridge,
      sqs,
      eventBusName: busName,
      resourcePrefix: run,
      missingHandler: "skip",
      maxReceiveCount: 6,
      // Short: a delivery whose handler failed is retried at once (retryDelaySeconds 0); this bounds a lost one.
      visibilityTimeoutSeconds: 5,
      retryDelaySeconds: 0,
      waitTimeSeconds: 1,
      deleteResourcesOnStop: true,
    });
    await host.start();
    entry = new EventBridgeEventBus({ eventBusName: busName, client: eventBridge });
  }
  const forwarder = new ExecutionForwarder({ exchange: new GrpcExchange(rig.peers.exchange), bus: entry });
  forwarder.start();
  const hostIdle = async () => {
    // Every queue drained and no handler in flight (twice in a row: a handler's publish lands in another queue).
    if (!host) return;
    let calm = 0;
    let seen = -1;
    const deadline = Date.now() + 20_000;
    while (calm < 2 && Date.now() < deadline) {
      const calls = Object.values(host.getStats()).reduce((a, f) => a + f.invocations, 0);
      const d = await queueDepth("queueUrl");
      calm = d === 0 && calls === seen ? calm + 1 : 0;
      seen = calls;
      await new Promise((r) => setTimeout(r, 300));
    }
    deadLettered = await queueDepth("dlqUrl");
  };

  const engine = rig.exchange.engine;
  const simOrders = (): SimOrder[] =>
    [...(engine as unknown as { orders: Map<string, { order: SimOrder; background: boolean }> }).orders.values()]
      .filter((r) => !r.background && r.order.strategyId === STRATEGY)
      .map((r) => r.order);
  const simExecutions = () => engine.executionsFrom(1).filter((e) => e.strategyId === STRATEGY);
  const quiet = async () => {
    // Idle bus, every execution forwarded and booked (or the deadline: the invariants then say what is missing).
    const deadline = Date.now() + (host ? 20_000 : 8_000);
    for (;;) {
      await bus.whenIdle({ timeoutMs: 8_000 });
      await hostIdle();
      const fills = await readStore!.listFillsByStrategy(STRATEGY);
      if (fills.length >= simExecutions().length || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    await bus.whenIdle({ timeoutMs: 8_000 });
    await hostIdle();
  };

  return {
    async run() {
      const snaps = WIDE_BOOKS.map((b, i) =>
        buildBusEvent(
          "tse.market",
          "MarketSnapshot",
          { ...b, sequence: 1, ts: new Date(t0).toISOString() },
          { now: t0 + i, eventId: `snap-${b.venue}-1` },
        ),
      );
      await entry.publish(snaps);
      await quiet();
      // One reconciliation (settlement vs the custodian), through the same faulted function and its retries.
      for (let attempt = 0; attempt < 6; attempt++) {
        try {
          await handlers.settlement({ action: "reconcile", graceMs: 0 }, localContext("settlement"));
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 5));
        }
      }
      await quiet();
    },
    async invariants() {
      const out: Record<string, string | true> = {};
      const check = (name: string, ok: boolean, why: () => string) => {
        out[name] = ok ? true : why().slice(0, 300);
      };
      const orders = simOrders();
      const execs = simExecutions();
      const stored = await readStore!.listOrdersByStrategy(STRATEGY);
      const fills = await readStore!.listFillsByStrategy(STRATEGY);
      const signals = await readStore!.listSignalsByStrategy(STRATEGY);
      const pos = await readStore!.getPosition(STRATEGY, "BTC-USD");
      const coids = orders.map((o) => o.clientOrderId);
      check(
        "single-placement",
        new Set(coids).size === coids.length && orders.length <= 3,
        () => `exchange orders ${coids.join(",")}`,
      );
      const booked = fills.map((f) => f.executionId).sort();
      const executed = execs.map((e) => e.executionId).sort();
      check(
        "booked-once",
        JSON.stringify(booked) === JSON.stringify(executed),
        () => `fills [${booked}] vs executions [${executed}]`,
      );
      let qty = new Decimal(0);
      let fees = new Decimal(0);
      for (const e of execs) {
        qty = e.side === 1 ? qty.plus(e.quantity) : qty.minus(e.quantity);
        fees = fees.plus(e.fee);
      }
      const posQty = pos?.quantity ?? new Decimal(0);
      check(
        "position=ledger",
        posQty.eq(qty) && (pos?.fillCount ?? 0) === execs.length && (pos?.fees ?? new Decimal(0)).eq(fees),
        () =>
          `position ${posQty} (${pos?.fillCount ?? 0} fills, fees ${pos?.fees}) vs ledger ${qty} (${execs.length}, fees ${fees})`,
      );
      const denied = signals.filter((s) => s.status === "denied");
      const deniedButPlaced = denied.filter((s) =>
        [0, 1, 2].some((i) => coids.includes(clientOrderIdFor(s.signalId, i))),
      );
      check(
        "denied-xor-placed",
        deniedButPlaced.length === 0,
        () => `denied but placed: ${deniedButPlaced.map((s) => s.signalId)}`,
      );
      const byCoid = new Map(stored.map((o) => [o.order.clientOrderId, o.order]));
      const orphans = orders.filter((o) => {
        const s = byCoid.get(o.clientOrderId);
        return (
          !s ||
          s.status === "pending-new" ||
          s.status === "rejected" ||
          (s.exchangeOrderId && s.exchangeOrderId !== o.orderId)
        );
      });
      check("no-orphan", orphans.length === 0, () =>
        orphans.map((o) => `${o.clientOrderId}→${byCoid.get(o.clientOrderId)?.status ?? "unknown"}`).join(","),
      );
      const settled = custodian.ledger.getCounters().instructed;
      const stuck = stored.filter((o) => o.order.status === "pending-new" || o.order.status === "submitted");
      const filledWithoutFills = stored.filter(
        (o) => o.order.status === "filled" && !fills.some((f) => f.clientOrderId === o.order.clientOrderId),
      );
      check(
        "whole-writes",
        bus.deadLetters.length === 0 &&
          deadLettered === 0 &&
          stuck.length === 0 &&
          filledWithoutFills.length === 0 &&
          settled === fills.length &&
          (signals.length === 0 || signals.every((s) => s.status !== "approved" || stored.length > 0)),
        () =>
          `dead letters ${deadLettered} hosted, ${bus.deadLetters.map((d) => `${d.functionName}:${d.errorName}:${d.errorMessage}`).join(";")}; stuck ${stuck.map((o) => `${o.order.clientOrderId}:${o.order.status}`)}; ` +
          `settlements ${settled} for ${fills.length} fills; signals ${signals.map((s) => s.status)}; orders ${stored.length}`,
      );
      return out;
    },
    async stop() {
      await bus.whenIdle({ timeoutMs: 2_000 }).catch(() => undefined);
      await forwarder.stop();
      await bus.close({ timeoutMs: 2_000 });
      await host?.stop();
      await host?.deleteBus().catch(() => undefined);
      await manager.close();
      await custodian.stop();
      await rig.stop();
      await deleteTable(admin, tableName).catch(() => undefined);
      for (const c of [...clients, admin]) c.destroy();
    },
  };
}
