// The cost model's replay: market ticks in virtual time through the real pipeline, every request counted.
//   market simulation (the session's DIVERGENCE scenario, 2 venues × 2 symbols, a new L1 per book every 100 ms,
//   as the quoter's stream sees it) → the quoter's BusBridge (its conflation) → the embedded bus (the routing table)
//   → the five functions' real handlers over the in-memory state store, the exchange simulator (its books follow the
//   ticks), the risk monitor, configuration service and custodian on loopback → executions of the functions' orders
//   back onto the bus through the ExecutionForwarder. Schedules (report, reconciliation) fire at the prod rates.
// What is counted: see bench/cost/meter.ts. The quoter's own market making is not replayed (see docs/functions.md).
import { performance } from "node:perf_hooks";
import { InMemoryItemBackend } from "../../lib/adapters/embedded/InMemoryItemBackend";
import { InProcessEventBus } from "../../lib/adapters/embedded/InProcessEventBus";
import { GrpcExchange } from "../../lib/adapters/GrpcExchange";
import { ItemStateStore } from "../../lib/adapters/state/ItemStateStore";
import { CustodianBuyingPower } from "../../lib/app/buyingPower";
import type { LambdaHandler } from "../../lib/app/functionRuntime";
import {
  createFunctionHandlers,
  FUNCTION_NAMES,
  type FunctionName,
  localContext,
  registerFunctions,
} from "../../lib/app/handlers";
import { ExecutionForwarder } from "../../lib/bridges/ExecutionForwarder";
import { InstrumentRegistry } from "../../lib/domain/instruments";
import { createPeerClients, Discovery } from "../../lib/grpc";
import { BusBridge, type SnapshotConflation } from "../../quoter/bridge/BusBridge";
import { DEFAULT_CUSTODY_BALANCES } from "../../sim/custodian/CustodianLedger";
import { CustodianSimulator } from "../../sim/custodian/CustodianSimulator";
import { MarketSimulation, parseScenario } from "../../sim/market-data/MarketSimulation";
import { startEngineRig } from "../../test/support/engineRig";
import { CountingItemBackend, Meter, MeteredEventBus, type ScopeUsage } from "./meter";

export interface ReplayOptions {
  /** Market ticks to replay (one tick = one new L1 quote of one venue+symbol). */
  ticks: number;
  seed?: number;
  scenario?: string;
  /** Simulated ms between market steps (each step requotes every book). Default 100, the session's tick. */
  stepMs?: number;
  /** The quoter bridge's snapshot conflation. Default: the bridge's (= the quoter's CLI defaults). */
  snapshots?: Partial<SnapshotConflation>;
  /** Schedule periods, ms (reporting, reconciliation). */
  reportingEveryMs: number;
  reconciliationEveryMs: number;
  progress?: (msg: string) => void;
}

export interface InvocationStats {
  count: number;
  failed: number;
  /** Wall ms of each invocation in this process, and its sequential DynamoDB / PutEvents rounds. */
  wallMs: number[];
  ddbRounds: number[];
  putEventsRounds: number[];
}

export interface ReplayResult {
  ticks: number;
  /** Simulated market time replayed, ms. */
  marketMs: number;
  usage: Record<string, ScopeUsage>;
  invocations: Record<FunctionName, InvocationStats>;
  eventsByType: Record<string, number>;
  deadLetters: number;
  /** The first few dead letters: function, error. */
  deadLetterSamples: string[];
  bridge: { snapshotsQueued: number; snapshotsConflated: number; snapshotsShed: number };
  executionsForwarded: number;
}

const T0 = Date.UTC(2026, 0, 5, 12, 0, 0);

export async function replay(opts: ReplayOptions): Promise<ReplayResult> {
  const stepMs = opts.stepMs ?? 100;
  let now = T0;
  const clock = () => now;
  const meter = new Meter();
  const rig = await startEngineRig({
    now: clock,
    books: [],
    settings: {
      signalStrategies: ["arbitrage"],
      settlement: { balanceSource: "custodian", openingBalances: DEFAULT_CUSTODY_BALANCES },
    },
  });
  const custodian = new CustodianSimulator({ quiet: true });
  await custodian.start(0);
  const custodyPeers = createPeerClients({ discovery: new Discovery({ explicit: { custodian: custodian.address } }) });
  let deadLetters = 0;
  const deadLetterSamples: string[] = [];
  const inner = new InProcessEventBus({
    now: clock,
    onDeadLetter: (dl) => {
      deadLetters++;
      if (deadLetterSamples.length < 5)
        deadLetterSamples.push(`${dl.functionName}: ${dl.errorName}: ${dl.errorMessage}`.slice(0, 300));
    },
  });
  const store = new ItemStateStore(new CountingItemBackend(new InMemoryItemBackend(), meter));
  const invocations = Object.fromEntries(
    FUNCTION_NAMES.map((n) => [n, { count: 0, failed: 0, wallMs: [], ddbRounds: [], putEventsRounds: [] }]),
  ) as unknown as Record<FunctionName, InvocationStats>;
  const handlers = createFunctionHandlers({
    store,
    bus: new MeteredEventBus(inner, meter, "functions"),
    settings: rig.settings,
    exchange: new GrpcExchange(rig.peers.exchange),
    riskMonitor: rig.peers.risk,
    instruments: new InstrumentRegistry(),
    custodian: custodyPeers.custodian,
    buyingPower: new CustodianBuyingPower(custodyPeers.custodian),
    clock,
  });
  const metered = {} as Record<FunctionName, LambdaHandler>;
  for (const name of FUNCTION_NAMES) {
    const h = handlers[name];
    const s = invocations[name];
    metered[name] = (event, context) =>
      meter.run(name, async (scope) => {
        s.count++;
        const t0 = performance.now();
        try {
          return await h(event, context);
        } catch (err) {
          s.failed++;
          throw err;
        } finally {
          s.wallMs.push(performance.now() - t0);
          s.ddbRounds.push(scope.ddbRounds);
          s.putEventsRounds.push(scope.putEventsRounds);
        }
      });
  }
  const off = registerFunctions(inner, metered);
  const bridge = new BusBridge({
    bus: new MeteredEventBus(inner, meter, "quoter-bridge"),
    now: clock,
    ...(opts.snapshots ? { snapshots: opts.snapshots } : {}),
  });
  const forwarder = new ExecutionForwarder({
    exchange: new GrpcExchange(rig.peers.exchange),
    bus: new MeteredEventBus(inner, meter, "execution-forwarder"),
  });
  forwarder.start();
  const market = new MarketSimulation({
    seed: opts.seed ?? 1,
    scenario: parseScenario(opts.scenario ?? "DIVERGENCE"),
    startTimeMs: T0,
  });
  const eventsByType: Record<string, number> = {};
  inner.tap((e) => {
    eventsByType[e["detail-type"]] = (eventsByType[e["detail-type"]] ?? 0) + 1;
  });
  let ticks = 0;
  let nextReport = T0 + opts.reportingEveryMs;
  let nextReconcile = T0 + opts.reconciliationEveryMs;
  const scheduled = async (fn: FunctionName, event: unknown) => {
    await metered[fn](event, localContext(fn)).catch(() => {}); // counted as failed; EventBridge would retry
  };
  try {
    for (let step = 1; ticks < opts.ticks; step++) {
      now += stepMs;
      for (const q of market.advanceTo(now) ?? []) {
        if (ticks >= opts.ticks) break;
        ticks++;
        rig.exchange.engine.refreshLiquidity(q.venue, q.symbol, q.bid, q.ask, q.bidSize, q.askSize);
        bridge.offerSnapshot(q);
      }
      await bridge.flush();
      await inner.whenIdle({ timeoutMs: 30_000 });
      if (now >= nextReport) {
        nextReport += opts.reportingEveryMs;
        await scheduled("reporting", { trigger: "SCHEDULE" });
      }
      if (now >= nextReconcile) {
        nextReconcile += opts.reconciliationEveryMs;
        await scheduled("settlement", { action: "reconcile", trigger: "SCHEDULE" });
      }
      if (step % 5000 === 0) opts.progress?.(`${ticks} ticks, ${invocations.signal.count} signal invocations`);
    }
    // The bridge's final batch (books changed since the last one), executions still on their way back from the
    // exchange, and what they trigger.
    await bridge.close();
    let last = -1;
    while (last !== forwarder.forwarded) {
      last = forwarder.forwarded;
      await new Promise((r) => setTimeout(r, 200));
      await forwarder.flush();
      await inner.whenIdle({ timeoutMs: 30_000 });
    }
  } finally {
    await bridge.close();
    await forwarder.stop();
    off();
    await inner.close({ timeoutMs: 5_000 }).catch(() => {});
    await custodyPeers.close();
    await custodian.stop();
    await rig.stop();
  }
  const st = bridge.stats();
  return {
    ticks,
    marketMs: now - T0,
    usage: Object.fromEntries(meter.usage),
    invocations,
    eventsByType,
    deadLetters,
    deadLetterSamples,
    bridge: {
      snapshotsQueued: st.snapshotsQueued,
      snapshotsConflated: st.snapshotsConflated,
      snapshotsShed: st.snapshotsShed,
    },
    executionsForwarded: forwarder.forwarded,
  };
}
