// The session's state and bus, and the functions on them: the in-process store and bus (embedded), or
// LocalStack's DynamoDB and EventBridge with the function host (`--aws local`); the functions' dependencies
// and the timing of each invocation.
import { performance } from "node:perf_hooks";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { SQSClient } from "@aws-sdk/client-sqs";
import { createTable, deleteTable } from "../lib/adapters/aws/createTable";
import { DynamoDbStateStore } from "../lib/adapters/aws/DynamoDbStateStore";
import { EventBridgeEventBus } from "../lib/adapters/aws/EventBridgeEventBus";
import { InMemoryStateStore } from "../lib/adapters/embedded/InMemoryStateStore";
import { InProcessEventBus } from "../lib/adapters/embedded/InProcessEventBus";
import { GrpcExchange } from "../lib/adapters/GrpcExchange";
import { CustodianBuyingPower } from "../lib/app/buyingPower";
import type { EngineDependencies } from "../lib/app/dependencies";
import type { LambdaHandler } from "../lib/app/functionRuntime";
import { createFunctionHandlers, type FunctionName, registerFunctions } from "../lib/app/handlers";
import { ConfigServiceSettingsSource } from "../lib/app/settings";
import { InstrumentRegistry } from "../lib/domain/instruments";
import type { RiskEngine } from "../lib/domain/risk/RiskEngine";
import { haltGated, haltReason } from "../lib/engine/haltGate";
import type { PeerClients } from "../lib/grpc";
import { ensureLocalAws, FunctionHost, type LocalAws } from "../lib/local-aws";
import type { StateStore } from "../lib/ports/StateStore";
import { ROUTES } from "../lib/routing/routes";
import type { MessagingSystem } from "../lib/telemetry/spans";
import { DEFAULT_CUSTODY_BALANCES } from "../sim/custodian/CustodianLedger";
import { CountingEventBus } from "./CountingEventBus";
import { LocalStackWatch } from "./LocalStackWatch";
import type { Cleanups } from "./shutdown";
import type { LocalSessionConfig } from "./types";

export interface StateAndBus {
  store: StateStore;
  /** The bus the functions consume. */
  inner: InProcessEventBus | EventBridgeEventBus;
  /** The same, counting what is published (what every publisher of the session uses). */
  bus: CountingEventBus;
  /** The bus, as the messaging spans name it. */
  messaging: { system: MessagingSystem; destination: string };
  functionHost?: FunctionHost;
  sqs?: SQSClient;
  localstackEndpoint?: string;
  /** `--aws local`: watches the session's LocalStack resources (stopped first on every stop). */
  awsWatch?: LocalStackWatch;
}

export interface StateAndBusInput {
  cfg: LocalSessionConfig;
  runId: string;
  cleanups: Cleanups;
  log: (l: string) => void;
  fileLog: (l: string) => void;
  /** Dead letters of the in-process bus. */
  onDeadLetter: () => void;
  /** The functions' handlers once the store and bus exist. */
  handlers: (store: StateStore, bus: CountingEventBus) => Record<FunctionName, LambdaHandler>;
  /** `--aws local`: LocalStack lost the session's state or stays unreachable; the session cannot go on. */
  onFatal: (err: Error) => void;
}

/** TSE_LOCALSTACK_OUTAGE_S: how long `--aws local` rides out LocalStack not answering (default 60 s). */
function outageLimit(): { unreachableLimitMs?: number } {
  const raw = process.env.TSE_LOCALSTACK_OUTAGE_S;
  if (raw === undefined || raw === "") return {};
  const s = Number(raw);
  if (!Number.isFinite(s) || s <= 0)
    throw new Error(`TSE_LOCALSTACK_OUTAGE_S must be a positive number of seconds, got '${raw.slice(0, 64)}'`);
  return { unreachableLimitMs: s * 1000 };
}

/** Store and bus, and the functions delivered from the bus; each part's stop goes into `cleanups`. */
export async function startStateAndBus(x: StateAndBusInput): Promise<StateAndBus> {
  const { cfg, cleanups, log } = x;
  if (cfg.mode === "embedded") {
    const store = new InMemoryStateStore();
    const inner = new InProcessEventBus({
      onDeadLetter: (dl) => {
        x.onDeadLetter();
        x.fileLog(`bus: dead letter for ${dl.functionName}: ${String(dl.error).slice(0, 500)}`);
      },
    });
    const bus = new CountingEventBus(inner);
    const off = registerFunctions(inner, x.handlers(store, bus));
    cleanups.push({
      name: "bus",
      fn: async () => {
        // Deliver what is queued (snapshots the bridge flushed last), then unregister.
        await inner.whenIdle({ timeoutMs: 5_000 }).catch(() => {});
        off();
        await inner.close({ timeoutMs: 2_000 });
      },
    });
    return { store, inner, bus, messaging: { system: "in_process", destination: "embedded" } };
  }
  log("localstack: provisioning (first run: 1-3 min; then ~10 s)...");
  const aws: LocalAws = await ensureLocalAws({ log: (m) => log(`localstack: ${m}`) });
  cleanups.push({ name: "localstack", fn: () => aws.stop() });
  process.env.AWS_ENDPOINT_URL ??= aws.endpoint;
  process.env.AWS_REGION ??= "us-east-1";
  process.env.AWS_ACCESS_KEY_ID ??= "test";
  process.env.AWS_SECRET_ACCESS_KEY ??= "test";
  const clientCfg = { endpoint: aws.endpoint, region: process.env.AWS_REGION };
  const short = x.runId.slice(-6);
  const tableName = `tse-session-${short}`;
  const eventBusName = `tse-session-${short}`;
  const ddb = new DynamoDBClient(clientCfg);
  await createTable(ddb, tableName);
  cleanups.push({ name: "table", fn: () => deleteTable(ddb, tableName).catch(() => {}) });
  const store = new DynamoDbStateStore({ tableName, client: ddb });
  const eventBridge = new EventBridgeClient(clientCfg);
  const sqs = new SQSClient(clientCfg);
  const inner = new EventBridgeEventBus({ eventBusName, client: eventBridge });
  const bus = new CountingEventBus(inner);
  const functionHost = new FunctionHost({
    routes: ROUTES,
    handlers: x.handlers(store, bus),
    eventBridge,
    sqs,
    eventBusName,
    resourcePrefix: `tse-${short}`,
    deleteResourcesOnStop: true,
    waitTimeSeconds: 1,
    log: (m) => x.fileLog(`function host: ${m}`),
  });
  await functionHost.start();
  cleanups.push({
    name: "function host",
    fn: async () => {
      await functionHost.stop();
      await functionHost.deleteBus(); // a private bus per session: leave nothing behind
    },
  });
  const awsWatch = new LocalStackWatch({
    endpoint: aws.endpoint,
    ddb,
    eventBridge,
    sqs,
    resources: {
      tableName,
      eventBusName,
      queues: Object.fromEntries(
        ROUTES.flatMap((r) => [
          functionHost.resources(r.functionName).queueUrl,
          functionHost.resources(r.functionName).dlqUrl,
        ]).map((url) => [url.slice(url.lastIndexOf("/") + 1), url]),
      ),
    },
    ...outageLimit(),
    ...(cfg.localStackWatch ?? {}),
    onFatal: x.onFatal,
    log: (m) => x.fileLog(m),
  });
  awsWatch.start();
  cleanups.push({ name: "localstack watch", fn: () => awsWatch.stop() });
  return {
    awsWatch,
    store,
    inner,
    bus,
    messaging: { system: "aws_eventbridge", destination: eventBusName },
    functionHost,
    sqs,
    localstackEndpoint: aws.endpoint,
  };
}

export interface FunctionDepsInput {
  cfg: LocalSessionConfig;
  store: StateStore;
  bus: CountingEventBus;
  peers: PeerClients;
  arbStrategyId: string;
  /** The quoter's risk engine once it exists: its kill switch stops the serverless order path too. */
  quoterRisk: () => RiskEngine | undefined;
}

/** The functions' dependencies: this session's store, bus, peers and the configuration service's settings. */
export function functionDependencies(x: FunctionDepsInput): EngineDependencies {
  const { cfg, peers } = x;
  const arbitrage = cfg.strategies.includes("arbitrage");
  const configured = new ConfigServiceSettingsSource(peers.config, {
    strategyId: x.arbStrategyId,
    signalStrategies: arbitrage ? ["arbitrage"] : [],
    // Through LocalStack a signal takes seconds to reach order placement: give it (and snapshots) longer.
    ...(cfg.mode === "localstack" ? { snapshotMaxAgeMs: 10_000, arbitrage: { signalTtlMs: 20_000 } } : {}),
    settlement: {
      balanceSource: "custodian",
      openingBalances: DEFAULT_CUSTODY_BALANCES,
      // Fills still on their way to the custodian are left for the next run (LocalStack's bus is slower).
      reconcileGraceMs: cfg.mode === "localstack" ? 20_000 : 5_000,
    },
  });
  const overrides = cfg.riskLimits;
  return {
    store: x.store,
    bus: x.bus,
    settings: overrides
      ? {
          get: async () => {
            const s = await configured.get();
            return { ...s, riskLimits: { ...s.riskLimits, ...overrides } };
          },
        }
      : configured,
    // The functions' exchange port: the engine's kill switch stops the serverless order path too.
    exchange: haltGated(new GrpcExchange(peers.exchange), (strategyId) => {
      const why = haltReason(x.quoterRisk(), strategyId);
      return why && `${why} (engine kill switch)`;
    }),
    riskMonitor: peers.risk,
    instruments: new InstrumentRegistry(),
    // Custodian: fills settle there; buys are sized by its available balance (fail-closed).
    custodian: peers.custodian,
    buyingPower: new CustodianBuyingPower(peers.custodian),
    clock: Date.now,
  };
}

/** Each function invocation's duration (session counts, session.log). */
export class FunctionTimes {
  private readonly times = new Map<string, number[]>();

  /** Wraps each handler to record its invocation time. */
  timed(handlers: Record<FunctionName, LambdaHandler>): Record<FunctionName, LambdaHandler> {
    const out = {} as Record<FunctionName, LambdaHandler>;
    for (const [name, h] of Object.entries(handlers) as [FunctionName, LambdaHandler][]) {
      const samples: number[] = [];
      this.times.set(name, samples);
      out[name] = async (event, context) => {
        const t0 = performance.now();
        try {
          return await h(event, context);
        } finally {
          if (samples.length < 100_000) samples.push(performance.now() - t0);
        }
      };
    }
    return out;
  }

  /** Invocations and duration percentiles (ms) per function. */
  latency(): Record<string, { invocations: number; p50Ms: number; p99Ms: number }> {
    const q = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
    const out: Record<string, { invocations: number; p50Ms: number; p99Ms: number }> = {};
    for (const [name, xs] of this.times) {
      const sorted = [...xs].sort((a, b) => a - b);
      out[name] = {
        invocations: xs.length,
        p50Ms: Math.round(q(sorted, 0.5) * 10) / 10,
        p99Ms: Math.round(q(sorted, 0.99) * 10) / 10,
      };
    }
    return out;
  }
}

/** The functions' handlers (each timed) over the session's dependencies. */
export function sessionHandlers(deps: EngineDependencies, times: FunctionTimes): Record<FunctionName, LambdaHandler> {
  return times.timed(createFunctionHandlers(deps));
}
