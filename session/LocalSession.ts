// The local trading session (`tse start`, `npm start`): every part of the engine on loopback in one process.
//   simulators (exchange with 2 venues, market data with the scenario and seed, risk monitor, configuration
//   service seeded from config/defaults.yaml, test coordinator)
//   → the quoter (market making; control API gRPC + HTTP health/metrics; bridge → bus)
//   → the four functions through the routing table: the in-process bus and state (embedded), or LocalStack's
//     EventBridge + DynamoDB through the function host (`--aws local`)
//   → the live dashboard (kill switch → the engine control API) and, on exit, report.json + report.html.
import { randomUUID } from "node:crypto";
import { createWriteStream, mkdirSync, rmSync, type WriteStream } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { Execution } from "../gen/proto/tse/exchange/exchange";
import { Severity } from "../gen/proto/tse/risk/risk";
import { createTable, deleteTable } from "../lib/adapters/aws/createTable";
import { DynamoDbStateStore } from "../lib/adapters/aws/DynamoDbStateStore";
import { EventBridgeEventBus } from "../lib/adapters/aws/EventBridgeEventBus";
import { asPrincipal } from "../lib/adapters/aws/requestRecorder";
import { InMemoryStateStore } from "../lib/adapters/embedded/InMemoryStateStore";
import { InProcessEventBus } from "../lib/adapters/embedded/InProcessEventBus";
import { executionEvent, executionReportOf } from "../lib/adapters/exchangeWire";
import { GrpcExchange } from "../lib/adapters/GrpcExchange";
import { CustodianBuyingPower } from "../lib/app/buyingPower";
import type { EngineDependencies, ExchangePort } from "../lib/app/dependencies";
import { buildFunction, type LambdaHandler } from "../lib/app/functionRuntime";
import { createFunctionHandlers, type FunctionName, registerFunctions } from "../lib/app/handlers";
import { ConfigServiceSettingsSource } from "../lib/app/settings";
import { settlementFunction } from "../lib/app/specs/settlement";
import { ExecutionForwarder } from "../lib/bridges/ExecutionForwarder";
import { strategyConfigFromSeed, strategySeedKey } from "../lib/config/engineConfig";
import { Decimal } from "../lib/domain/decimal";
import { DEFAULT_INSTRUMENTS, InstrumentRegistry } from "../lib/domain/instruments";
import { unrealizedPnl } from "../lib/domain/portfolio/position";
import type { RiskLimitsInput } from "../lib/domain/risk/limits";
import type { TradingState } from "../lib/domain/types";
import { haltGated, haltReason } from "../lib/engine/haltGate";
import { createPeerClients, Discovery, type PeerClients, QuoteMirror, StaticRegistry } from "../lib/grpc";
import { ConfigurationServiceClient } from "../lib/grpc/ConfigurationServiceClient";
import { engineChannelCredentials } from "../lib/grpc/EngineClient";
import type { SyntheticL1Options } from "../lib/grpc/MarketDataClient";
import { ensureLocalAws, FunctionHost, type LocalAws } from "../lib/local-aws";
import type { FillRecord, StateStore } from "../lib/ports/StateStore";
import type { DenialsByPath, MarketDataSummary, Report } from "../lib/report/reportSchema";
import { buildWaterfall } from "../lib/report/waterfall";
import { ROUTES } from "../lib/routing/routes";
import { OrderTimelineCollector } from "../lib/telemetry/orderTimelines";
import type { MessagingSystem } from "../lib/telemetry/spans";
import { tracing } from "../lib/telemetry/tracing";
import { BusBridge } from "../quoter/bridge/BusBridge";
import { buildQuoter } from "../quoter/build";
import { generateLocalControlCredentials, type LocalControlCredentials } from "../quoter/control/credentials";
import { DEFAULT_ENGINE_PORT, EngineControlServer } from "../quoter/control/EngineControlServer";
import { type ControlPolicy, parseHardCaps } from "../quoter/control/hardCaps";
import { DEFAULT_HTTP_PORT, QuoterHttpServer } from "../quoter/control/httpServer";
import type { Quoter, QuoterLogger, QuoterStrategySpec } from "../quoter/Quoter";
import type { TestCoordinatorSimulator } from "../sim/coordinator/TestCoordinatorSimulator";
import { DEFAULT_CUSTODY_BALANCES } from "../sim/custodian/CustodianLedger";
import type { CustodianSimulator } from "../sim/custodian/CustodianSimulator";
import { DEFAULT_ACCOUNT, DEFAULT_INITIAL_BALANCES } from "../sim/exchange/ExchangeEngine";
import type { ExchangeSimulator } from "../sim/exchange/ExchangeSimulator";
import {
  type RunningSimulators,
  DEFAULT_PORTS as SIM_PORTS,
  SIMULATOR_NAMES,
  type SimulatorName,
  startSimulators,
} from "../sim/main";
import type { RiskMonitorSimulator } from "../sim/risk/RiskMonitorSimulator";
import { CountingEventBus } from "./CountingEventBus";
import { DashboardState } from "./dashboard/DashboardState";
import { type DashboardServer, startDashboardServer } from "./dashboard/server";
import type { DashboardSnapshot } from "./dashboard/types";
import { SERVERLESS_STRATEGIES, type SessionOptions } from "./options";
import { choosePort } from "./ports";
import { type CustodyResult, SessionCustody } from "./SessionCustody";
import { buildSessionReport, type EquitySample, type PositionSample, writeSessionReport } from "./sessionReport";

export const DEFAULT_DASHBOARD_PORT = 8088;
const SYMBOLS = ["BTC-USD", "ETH-USD"];
const VENUES = ["venue-a", "venue-b"];
const QUOTER_ID = "quoter";
const STARTING_EQUITY = new Decimal(1_000_000);

/** L1 around a price-only feed's price, rounded to the instruments' ticks. */
function syntheticL1(halfSpreadBps: number): SyntheticL1Options {
  return {
    halfSpreadBps,
    size: "1",
    tickSizes: Object.fromEntries(DEFAULT_INSTRUMENTS.map((i) => [i.symbol, i.tickSize.toFixed()])),
  };
}

export interface LocalSessionConfig extends SessionOptions {
  runId?: string;
  host?: string;
  /** Every listener on an ephemeral port (tests). Default false: DESIGN ports, falling back when busy. */
  ephemeralPorts?: boolean;
  dashboardPort?: number;
  /** Status lines (start-up, fallbacks, warnings). Default: stderr. */
  log?: (line: string) => void;
  /** Equity/position sampling and dashboard refresh period, ms. Default 1000. */
  sampleMs?: number;
  /** Configuration seed for the configuration simulator. Default config/defaults.yaml. */
  configFile?: string;
  /** A circuit breaker halting one strategy halts the whole engine (kill switch). Default true. */
  haltEngineOnStrategyBreaker?: boolean;
  /** Snapshot conflation of the quoter's bridge (how often the signal function sees each book). */
  snapshotIntervalMs?: number;
  /** How often the custodian's balances are reconciled with the books, ms. Default 5000 (LocalStack: 15000). */
  reconcileIntervalMs?: number;
  /** Risk limits over the configuration's (risk.engine_limits), for the quoter and the functions alike. */
  riskLimits?: RiskLimitsInput;
  /** How often the market simulation advances, ms (the simulators' default 100; the soak runs 10x faster). */
  tickMs?: number;
}

export interface SessionEndpoints {
  simulators: Partial<Record<SimulatorName, string>>;
  engine: string;
  http: string;
  /** The dashboard URL with its token: print it once. */
  dashboard: string;
  /** The same without the token (for status lines). */
  dashboardBase: string;
  /** The engine control token (mode 0600) and the session's self-signed certificate, under .cache. */
  controlTokenFile: string;
  controlCertFile: string;
  localstack?: string;
}

export interface Reconciliation {
  symbol: string;
  state: string;
  exchange: string;
  diff: string;
}

export interface SessionCounts {
  /** Orders the exchange simulator received (all clients). */
  ordersAtExchange: number;
  /** Orders that reached the exchange without the risk-checked flag (must stay 0). */
  ordersWithoutRiskCheck: number;
  /** Position changes announced on the bus (distinct versions: a redelivered fill re-announces its own). */
  positionChanged: number;
  /** Position reports the risk monitor received (a retried report of the same version counts once). */
  riskPositionReports: number;
  /** Risk checks the monitor answered. */
  riskChecks: number;
  signals: number;
  executionsForwarded: number;
  busEvents: Record<string, number>;
  fillsInState: number;
  ourExecutionsAtExchange: number;
  /** Executions replayed from the exchange log at stop (missed by the streams), and how many predate the stop. */
  executionsReplayed: number;
  executionsReplayedBeforeStop: number;
  /** Deliveries that failed every attempt: the in-process bus's dead letters, or messages in the tap DLQs. */
  deadLetters: number;
  /** Function invocations that threw (retried; a retry may have succeeded). */
  functionFailures: number;
}

export interface SessionResult {
  report: Report;
  reportPath: string;
  htmlPath: string;
  counts: SessionCounts;
  reconciliation: Reconciliation[];
  tradesByStrategy: Record<string, number>;
  /** Invocations and duration percentiles per function. */
  functionLatency: Record<string, { invocations: number; p50Ms: number; p99Ms: number }>;
  /** Settlement at the custodian and the last reconciliation. */
  custody: CustodyResult;
  /** GetValue requests the session's configuration client sent (quoter and functions share it). */
  configGetValueCalls: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function quoterLogger(log: (l: string) => void): QuoterLogger {
  // A repeated message is logged 20 times, then every 1000th (some fire per tick).
  const seen = new Map<string, number>();
  const line = (lvl: string) => (msg: string, attrs?: Record<string, unknown>) => {
    const n = (seen.get(msg) ?? 0) + 1;
    seen.set(msg, n);
    if (n <= 20 || n % 1000 === 0)
      log(`quoter ${lvl}: ${msg}${n > 20 ? ` (x${n})` : ""}${attrs ? ` ${JSON.stringify(attrs)}` : ""}`);
  };
  return { debug: () => {}, info: () => {}, warn: line("warn"), error: line("error") };
}

export class LocalSession {
  readonly runId: string;
  readonly outDir: string;
  readonly startedAt: number;
  readonly dashboard: DashboardState;
  endpoints!: SessionEndpoints;

  private readonly cfg: LocalSessionConfig;
  private readonly log: (l: string) => void;
  private readonly cleanups: { name: string; fn: () => Promise<unknown> | unknown }[] = [];
  sims!: RunningSimulators;
  peers!: PeerClients;
  store!: StateStore;
  bus!: CountingEventBus;
  quoter!: Quoter;
  private inner!: InProcessEventBus | EventBridgeEventBus;
  private forwarder!: ExecutionForwarder;
  /** Traced orders' timelines for the report's latency waterfall (tracing on only). */
  private readonly timelines = tracing().enabled ? new OrderTimelineCollector().start() : undefined;
  /** The bus, as the messaging spans name it. */
  private messaging: { system: MessagingSystem; destination: string } = {
    system: "in_process",
    destination: "embedded",
  };
  private functionHost: FunctionHost | undefined;
  private sqs: SQSClient | undefined;
  private dashboardServer!: DashboardServer;
  private registry = new StaticRegistry();
  private control!: LocalControlCredentials;
  private sampler: NodeJS.Timeout | undefined;
  private readonly equity: EquitySample[] = [];
  private readonly positionCurve: PositionSample[] = [];
  private readonly riskEvents: { ts: number; kind: string; message: string }[] = [];
  private readonly fillsByBook = new Map<string, number>();
  private readonly ourExecutionIds = new Set<string>();
  private readonly ourNet = new Map<string, Decimal>();
  private strategyIds: string[] = [];
  private arbStrategyId = "arb-1";
  private stopping: Promise<SessionResult> | undefined;
  private sampling = false;
  private quoterStopped = false;
  private logFile: WriteStream | undefined;
  deadLetters = 0;
  /** A line in <out>/session.log. */
  readonly fileLog = (line: string): void => {
    this.logFile?.write(`${new Date().toISOString()} ${line}\n`);
  };
  private quoterStopAt: number | undefined;
  private readonly replayed: { executionId: string; ts: number }[] = [];
  private replayedBeforeStop = 0;
  private onSampleListeners = new Set<(s: DashboardSnapshot) => void>();
  private tradesByStrategy = new Map<string, number>();
  private readonly functionTimes = new Map<string, number[]>();
  custody!: SessionCustody;

  private constructor(cfg: LocalSessionConfig) {
    this.cfg = cfg;
    this.log = cfg.log ?? ((l) => process.stderr.write(`${l}\n`));
    this.startedAt = Date.now();
    this.runId =
      cfg.runId ?? `run-${new Date(this.startedAt).toISOString().replace(/[:.]/g, "-")}-${randomUUID().slice(0, 6)}`;
    this.outDir = cfg.outDir ?? join("reports", this.runId);
    this.dashboard = new DashboardState({
      runId: this.runId,
      mode: cfg.mode,
      scenario: cfg.scenario,
      strategies: cfg.strategies,
      onSetTradingState: (state, reason) => this.setTradingState(state, reason),
    });
  }

  /** Start everything; on any failure, what already started is stopped and the error rethrown. */
  static async start(cfg: LocalSessionConfig): Promise<LocalSession> {
    const s = new LocalSession(cfg);
    try {
      await s.boot();
    } catch (e) {
      await s.teardown();
      throw e;
    }
    return s;
  }

  private async port(name: string, preferred: number): Promise<number> {
    if (this.cfg.ephemeralPorts) return 0;
    return choosePort(name, preferred, this.host, this.log);
  }

  private get host(): string {
    return this.cfg.host ?? "127.0.0.1";
  }

  private async boot(): Promise<void> {
    const { cfg, log, host } = this;
    // Chatty component logs (quoter warnings, bridge, function host, dead letters) go to <out>/session.log.
    mkdirSync(this.outDir, { recursive: true });
    this.logFile = createWriteStream(join(this.outDir, "session.log"), { flags: "a" });
    this.cleanups.push({ name: "session log", fn: () => new Promise<void>((r) => this.logFile?.end(() => r())) });
    // The functions log JSON and EMF to stdout in Lambda; here the terminal view owns stdout.
    process.env.POWERTOOLS_METRICS_DISABLED ??= "true";
    process.env.POWERTOOLS_LOG_LEVEL ??= "WARN";
    process.env.POWERTOOLS_TRACE_ENABLED ??= "false";
    // 1. Simulators.
    const ports: Partial<Record<SimulatorName, number>> = {};
    for (const n of SIMULATOR_NAMES) ports[n] = await this.port(`${n} simulator`, SIM_PORTS[n]);
    // With --market-data, our market-data simulator stays off; the exchange's liquidity mirrors the engine's feed.
    const external = cfg.marketData ? new QuoteMirror() : undefined;
    this.sims = await startSimulators({
      host,
      ports,
      seed: cfg.seed,
      scenario: cfg.scenario,
      quiet: true,
      ...(cfg.tickMs ? { tickMs: cfg.tickMs } : {}),
      ...(cfg.configFile ? { configFile: cfg.configFile } : {}),
      ...(external ? { only: SIMULATOR_NAMES.filter((n) => n !== "market-data"), externalMarket: external } : {}),
    });
    this.cleanups.push({ name: "simulators", fn: () => this.sims.stop() });
    const a = this.sims.addresses;

    // 2. Clients to the peers (the engine registers itself once its control API listens).
    // guard: the engine's control API is TLS + bearer token, with a pair and token generated for this session.
    this.control = await generateLocalControlCredentials(join(process.cwd(), ".cache", "sessions", this.runId));
    this.cleanups.push({
      name: "control credentials",
      fn: () => rmSync(this.control.dir, { recursive: true, force: true }),
    });
    this.peers = createPeerClients({
      serviceCredentials: {
        engine: engineChannelCredentials({ caPem: this.control.auth.tls.certPem, token: this.control.auth.tokens[0]! }),
      },
      discovery: new Discovery({
        env: {},
        explicit: {
          exchange: a.exchange!,
          "market-data": cfg.marketData?.endpoint ?? a["market-data"]!,
          "risk-monitor": a.risk!,
          configuration: a.config!,
          "test-coordinator": a.coordinator!,
          custodian: a.custodian!,
        },
        registry: this.registry,
      }),
      // The watch stream (started below) keeps cached keys current; the TTL only bounds a missed change.
      config: { environment: "default", ttlMs: 30_000 },
      ...(cfg.marketData ? { marketData: { priceOnlyFallback: syntheticL1(cfg.marketData.halfSpreadBps) } } : {}),
    });
    this.cleanups.push({ name: "gRPC clients", fn: () => this.peers.close() });
    this.peers.config.watch();
    if (external) this.cleanups.push({ name: "market-data mirror", fn: external.follow(this.peers.marketData) });

    // 3. State and bus.
    let localstackEndpoint: string | undefined;
    if (cfg.mode === "embedded") {
      this.store = new InMemoryStateStore();
      this.inner = new InProcessEventBus({
        onDeadLetter: (dl) => {
          this.deadLetters++;
          this.fileLog(`bus: dead letter for ${dl.functionName}: ${String(dl.error).slice(0, 500)}`);
        },
      });
    } else {
      log("localstack: provisioning (first run: 1-3 min; then ~10 s)...");
      const aws: LocalAws = await ensureLocalAws({ log: (m) => log(`localstack: ${m}`) });
      this.cleanups.push({ name: "localstack", fn: () => aws.stop() });
      localstackEndpoint = aws.endpoint;
      process.env.AWS_ENDPOINT_URL ??= aws.endpoint;
      process.env.AWS_REGION ??= "us-east-1";
      process.env.AWS_ACCESS_KEY_ID ??= "test";
      process.env.AWS_SECRET_ACCESS_KEY ??= "test";
      const clientCfg = { endpoint: aws.endpoint, region: process.env.AWS_REGION };
      const short = this.runId.slice(-6);
      const tableName = `tse-session-${short}`;
      const eventBusName = `tse-session-${short}`;
      const ddb = new DynamoDBClient(clientCfg);
      await createTable(ddb, tableName);
      this.cleanups.push({ name: "table", fn: () => deleteTable(ddb, tableName).catch(() => {}) });
      this.store = new DynamoDbStateStore({ tableName, client: ddb });
      const eventBridge = new EventBridgeClient(clientCfg);
      const sqs = new SQSClient(clientCfg);
      this.inner = new EventBridgeEventBus({ eventBusName, client: eventBridge });
      this.messaging = { system: "aws_eventbridge", destination: eventBusName };
      this.bus = new CountingEventBus(this.inner);
      this.functionHost = new FunctionHost({
        routes: ROUTES,
        handlers: this.timed(createFunctionHandlers(this.deps())),
        eventBridge,
        sqs,
        eventBusName,
        resourcePrefix: `tse-${short}`,
        deleteResourcesOnStop: true,
        waitTimeSeconds: 1,
        log: (m) => this.fileLog(`function host: ${m}`),
      });
      await this.functionHost.start();
      this.sqs = sqs;
      this.cleanups.push({
        name: "function host",
        fn: async () => {
          await this.functionHost?.stop();
          await this.functionHost?.deleteBus(); // a private bus per session: leave nothing behind
        },
      });
    }
    if (cfg.mode === "embedded") {
      this.bus = new CountingEventBus(this.inner);
      const inner = this.inner as InProcessEventBus;
      const off = registerFunctions(inner, this.timed(createFunctionHandlers(this.deps())));
      this.cleanups.push({
        name: "bus",
        fn: async () => {
          // Deliver what is queued (snapshots the bridge flushed last), then unregister.
          await inner.whenIdle({ timeoutMs: 5_000 }).catch(() => {});
          off();
          await inner.close({ timeoutMs: 2_000 });
        },
      });
    }

    // 4. The quoter (market making and any chaos strategy named), its control API and HTTP.
    const strategySpecs = await this.quoterStrategies();
    // The quoter's in-process risk limits: risk.engine_limits (domain limit keys) over the session's defaults.
    // 50 orders/s per strategy leaves market making ample room and trips a runaway strategy's rate breaker at once.
    const engineLimits = await this.peers.config
      .getJson<Record<string, unknown>>("risk.engine_limits", undefined, {})
      .catch(() => ({}) as Record<string, unknown>);
    // The quoter's AWS requests are its own (IAM evaluation), though it shares this process's clients.
    const quoterStore = asPrincipal("quoter", this.store);
    const quoterBus = asPrincipal("quoter", this.bus);
    const messaging = this.messaging;
    const bridge = new BusBridge({
      bus: quoterBus,
      messaging,
      // LocalStack on the host is far slower per event than the in-process bus: fewer, coarser snapshots there.
      snapshots:
        cfg.mode === "embedded"
          ? { minIntervalMs: cfg.snapshotIntervalMs ?? 500 }
          : { minIntervalMs: cfg.snapshotIntervalMs ?? 2_000, priceMoveBps: 10_000, spreadMoveBps: 10_000 },
      logger: {
        warn: (m, at) => this.fileLog(`bridge warn: ${m} ${JSON.stringify(at ?? {})}`),
        error: (m, at) => log(`bridge error: ${m} ${JSON.stringify(at ?? {})}`),
      },
    });
    // The shared risk state: trading-state changes reach order placement, and a HALTED set there reaches the quoter.
    const built = buildQuoter({
      manager: this.peers.manager,
      exchange: this.peers.exchange,
      marketData: this.peers.marketData,
      store: quoterStore,
      bridge,
      onError: (m, e) =>
        this.fileLog(`quoter: ${m}${e === undefined ? "" : `: ${e instanceof Error ? e.message : String(e)}`}`),
      options: {
        symbols: SYMBOLS,
        venues: VENUES,
        quoterId: QUOTER_ID,
        strategies: strategySpecs,
        marketDataIntervalMs: 100,
        reconcileIntervalMs: 10_000,
        allowChaosStrategies: true,
        // The strategies the user named (plug-ins included); the quoter still refuses what is not registered.
        pluginStrategyTypes: cfg.strategies.filter((s) => !SERVERLESS_STRATEGIES.has(s)),
        riskLimits: { maxOrdersPerSecond: 50, ...engineLimits, ...cfg.riskLimits } as RiskLimitsInput,
        logger: quoterLogger(this.fileLog),
      },
    });
    this.quoter = built.quoter;
    // One risk state for every path: the quoter's engine and the functions share the stored one (HALTED either way).
    if (built.riskSync) {
      const riskSync = built.riskSync;
      await riskSync.start();
      this.cleanups.push({ name: "risk state sync", fn: () => riskSync.stop() });
    }
    this.quoter.onStateChange((c) => {
      this.riskEvents.push({
        ts: c.at,
        kind: `trading-state:${c.scope}`,
        message: `${c.from} -> ${c.to} (${c.rule}): ${c.reason}`,
      });
      // Session risk policy: a breaker that halts one strategy halts the engine (every order cancelled), the way
      // an operator would hit the kill switch. In-process, right after the tick that tripped it (a round trip
      // through the control API waits behind a busy event loop); the dashboard's kill switch uses the API.
      if (c.to === "HALTED" && c.scope !== "portfolio" && (cfg.haltEngineOnStrategyBreaker ?? true)) {
        const reason = `breaker ${c.rule} on ${c.scope}: ${c.reason}`;
        queueMicrotask(() => {
          try {
            this.quoter.setTradingState("HALTED", reason);
            this.riskEvents.push({ ts: Date.now(), kind: "escalation", message: `engine HALTED: ${reason}` });
          } catch (e) {
            log(`kill switch escalation failed: ${e instanceof Error ? e.message : String(e)}`);
          }
        });
      }
    });
    await this.quoter.start();
    this.cleanups.push({ name: "quoter", fn: () => (this.quoterStopped ? undefined : this.quoter.stop()) });
    const authLog = { warn: (m: string, a?: Record<string, unknown>) => log(`${m} ${JSON.stringify(a ?? {})}`) };
    const control = new EngineControlServer(this.quoter, {
      auth: this.control.auth,
      policy: await this.controlPolicy(),
      log: authLog,
    }); // guard
    const enginePort = await control.start(await this.port("engine control API", DEFAULT_ENGINE_PORT), host);
    this.cleanups.push({ name: "engine control API", fn: () => control.stop() });
    const http = new QuoterHttpServer(this.quoter, { auth: this.control.auth, log: authLog }); // guard
    const httpPort = await http.start(await this.port("engine HTTP", DEFAULT_HTTP_PORT), host);
    this.cleanups.push({ name: "engine HTTP", fn: () => http.stop() });
    this.registry.register("engine", `${host}:${enginePort}`);

    // 5. Executions of the functions' orders (arbitrage legs, hedges) → ExecutionReported. The quoter's own
    //    executions go through its bridge.
    this.forwarder = new ExecutionForwarder({
      exchange: new GrpcExchange(this.peers.exchange),
      bus: quoterBus,
      accept: (e) => e.clientOrderId !== "" && !e.clientOrderId.startsWith(`${QUOTER_ID}-`),
      messaging,
      onError: (err) => log(`execution forwarder: ${err instanceof Error ? err.message : String(err)}`),
    });
    this.forwarder.start();
    this.cleanups.push({ name: "execution forwarder", fn: () => this.forwarder.stop() });

    // 6. What the session watches: our executions at the exchange, risk alerts.
    const exchangeSim = this.sims.servers.exchange as ExchangeSimulator;
    const offExec = exchangeSim.engine.onExecution((e) => this.onExchangeExecution(e));
    this.cleanups.push({ name: "exchange watch", fn: offExec });
    if (this.timelines) this.cleanups.push({ name: "order timelines", fn: () => this.timelines?.stop() });
    const riskSim = this.sims.servers.risk as RiskMonitorSimulator;
    const offAlert = riskSim.onAlert((al) => {
      const ts = Number(al.timestampMs) || Date.now();
      const message = `risk monitor: ${al.message || `${al.limit} at ${al.utilisation}`} (${al.strategyId} ${al.symbol})`;
      this.dashboard.addAlert({
        ts,
        level: al.severity >= Severity.HIGH ? "CRITICAL" : al.severity === Severity.MEDIUM ? "WARN" : "INFO",
        message,
        ...(al.limit ? { rule: al.limit } : {}),
      });
      // The report keeps the first 500 alerts (a long session may raise many).
      if (this.riskEvents.length < 500)
        this.riskEvents.push({ ts, kind: `risk-monitor:${Severity[al.severity] ?? al.severity}`, message });
    });
    this.cleanups.push({ name: "risk watch", fn: offAlert });

    // --- custodian: settlement (the settlement function on the bus) and reconciliation on a schedule ---
    this.custody = new SessionCustody({
      custodian: this.sims.servers.custodian as CustodianSimulator,
      bus: this.bus,
      settlement: buildFunction(settlementFunction, this.deps()),
      intervalMs: cfg.reconcileIntervalMs ?? (cfg.mode === "localstack" ? 15_000 : 5_000),
      onAlert: (al) => {
        this.dashboard.addAlert({ ts: Date.now(), level: "CRITICAL", message: al.message, rule: al.rule });
        if (this.riskEvents.length < 500)
          this.riskEvents.push({ ts: Date.now(), kind: "reconciliation-break", message: al.message });
      },
      log: (l) => this.fileLog(l),
    });
    this.custody.start();
    this.cleanups.push({ name: "custody", fn: () => this.custody.stop() });
    // --- end custodian ---

    // 7. The live dashboard.
    this.dashboardServer = await startDashboardServer({
      source: this.dashboard,
      host,
      port: await this.port("dashboard", cfg.dashboardPort ?? DEFAULT_DASHBOARD_PORT),
      title: `tse session ${this.runId}`,
    });
    this.cleanups.push({ name: "dashboard", fn: () => this.dashboardServer.close() });

    this.endpoints = {
      simulators: a,
      engine: `${host}:${enginePort}`,
      http: `https://${host}:${httpPort}`,
      dashboard: this.dashboardServer.url,
      dashboardBase: this.dashboardServer.baseUrl,
      controlTokenFile: this.control.tokenFile,
      controlCertFile: this.control.certFile,
      ...(localstackEndpoint ? { localstack: localstackEndpoint } : {}),
    };
    const period = cfg.sampleMs ?? 1_000;
    this.sampler = setInterval(() => void this.sample(), period);
    await this.sample();
  }

  /** Wraps each handler to record its invocation time (session counts, session.log). */
  private timed(handlers: Record<FunctionName, LambdaHandler>): Record<FunctionName, LambdaHandler> {
    const out = {} as Record<FunctionName, LambdaHandler>;
    for (const [name, h] of Object.entries(handlers) as [FunctionName, LambdaHandler][]) {
      const samples: number[] = [];
      this.functionTimes.set(name, samples);
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
  functionLatency(): Record<string, { invocations: number; p50Ms: number; p99Ms: number }> {
    const q = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
    const out: Record<string, { invocations: number; p50Ms: number; p99Ms: number }> = {};
    for (const [name, xs] of this.functionTimes) {
      const sorted = [...xs].sort((a, b) => a - b);
      out[name] = {
        invocations: xs.length,
        p50Ms: Math.round(q(sorted, 0.5) * 10) / 10,
        p99Ms: Math.round(q(sorted, 0.99) * 10) / 10,
      };
    }
    return out;
  }

  /** The functions' dependencies: this session's store, bus, peers and the configuration service's settings. */
  private deps(): EngineDependencies {
    const arbitrage = this.cfg.strategies.includes("arbitrage");
    const configured = new ConfigServiceSettingsSource(this.peers.config, {
      strategyId: this.arbStrategyId,
      signalStrategies: arbitrage ? ["arbitrage"] : [],
      // Through LocalStack a signal takes seconds to reach order placement: give it (and snapshots) longer.
      ...(this.cfg.mode === "localstack" ? { snapshotMaxAgeMs: 10_000, arbitrage: { signalTtlMs: 20_000 } } : {}),
      settlement: {
        balanceSource: "custodian",
        openingBalances: DEFAULT_CUSTODY_BALANCES,
        // Fills still on their way to the custodian are left for the next run (LocalStack's bus is slower).
        reconcileGraceMs: this.cfg.mode === "localstack" ? 20_000 : 5_000,
      },
    });
    const overrides = this.cfg.riskLimits;
    return {
      store: this.store,
      bus: this.bus,
      settings: overrides
        ? {
            get: async () => {
              const s = await configured.get();
              return { ...s, riskLimits: { ...s.riskLimits, ...overrides } };
            },
          }
        : configured,
      exchange: this.haltGatedExchange(),
      riskMonitor: this.peers.risk,
      instruments: new InstrumentRegistry(),
      // Custodian: fills settle there; buys are sized by its available balance (fail-closed).
      custodian: this.peers.custodian,
      buyingPower: new CustodianBuyingPower(this.peers.custodian),
      clock: Date.now,
    };
  }

  /** Why an order of `strategyId` may not go out now (the engine's kill switch), or undefined. */
  /** The functions' exchange port: the engine's kill switch stops the serverless order path too. */
  private haltGatedExchange(): ExchangePort {
    return haltGated(new GrpcExchange(this.peers.exchange), (strategyId) => {
      const why = haltReason(this.quoter?.risk, strategyId);
      return why && `${why} (engine kill switch)`;
    });
  }

  private async quoterStrategies(): Promise<QuoterStrategySpec[]> {
    const specs: QuoterStrategySpec[] = [];
    let n = 0;
    for (const name of this.cfg.strategies) {
      if (SERVERLESS_STRATEGIES.has(name)) {
        this.strategyIds.push(this.arbStrategyId);
        continue;
      }
      n++;
      const id = name === "market-making" ? "mm-1" : `${name}-${n}`;
      let params: Record<string, unknown> = {};
      let symbols = SYMBOLS;
      let venues = VENUES;
      // Per-strategy configuration from the configuration service: strategies.<name> (config/defaults.yaml, then
      // the --config file); avellaneda-stoikov quotes where market making does.
      const key = strategySeedKey(name === "avellaneda-stoikov" ? "market-making" : name);
      const raw = await this.peers.config
        .getJson<Record<string, unknown>>(`strategies.${key}`, undefined, {})
        .catch(() => ({}) as Record<string, unknown>);
      if (Array.isArray(raw.symbols)) symbols = raw.symbols as string[];
      if (Array.isArray(raw.venues)) venues = raw.venues as string[];
      if (name !== "avellaneda-stoikov") params = strategyConfigFromSeed(name, raw);
      specs.push({ id, type: name, symbols, venues, params: { ...params, symbols, venues } });
      this.strategyIds.push(id);
    }
    return specs;
  }

  private onExchangeExecution(e: Execution): void {
    if (e.accountId !== DEFAULT_ACCOUNT || e.clientOrderId === "") return;
    if (this.ourExecutionIds.has(e.executionId)) return;
    this.ourExecutionIds.add(e.executionId);
    const key = `${e.venue}|${e.symbol}`;
    this.fillsByBook.set(key, (this.fillsByBook.get(key) ?? 0) + 1);
    const sign = e.side === 1 ? 1 : -1;
    this.ourNet.set(e.symbol, (this.ourNet.get(e.symbol) ?? new Decimal(0)).plus(new Decimal(e.quantity).times(sign)));
    this.dashboard.addFill({
      ts: Number(e.timestampMs),
      venue: e.venue,
      symbol: e.symbol,
      side: e.side === 1 ? "BUY" : "SELL",
      qty: new Decimal(e.quantity).toFixed(),
      price: new Decimal(e.price).toFixed(),
      fee: new Decimal(e.fee || "0").toFixed(),
      ...(e.strategyId ? { strategyId: e.strategyId } : {}),
      liquidity: e.liquidity === 2 ? "TAKER" : "MAKER",
    });
  }

  private mid(venue: string, symbol: string): number | undefined {
    const q = this.sims.quotes?.quote(venue, symbol);
    if (!q) return undefined;
    return (Number(q.bid) + Number(q.ask)) / 2;
  }

  /** Mark per symbol: the average of the venues' mids. */
  private marks(): Map<string, Decimal> {
    const out = new Map<string, Decimal>();
    for (const s of SYMBOLS) {
      const mids = VENUES.map((v) => this.mid(v, s)).filter((m): m is number => m !== undefined);
      if (mids.length) out.set(s, new Decimal(mids.reduce((x, y) => x + y, 0) / mids.length).toDecimalPlaces(8));
    }
    return out;
  }

  /** Equity and positions from the state store (the engine's books), the dashboard, the terminal. */
  private async sample(): Promise<void> {
    if (this.sampling) return;
    this.sampling = true;
    try {
      const now = Date.now();
      const positions = await this.store.listPositions();
      const marks = this.marks();
      let realized = new Decimal(0);
      let unrealized = new Decimal(0);
      let fees = new Decimal(0);
      const net = new Map<string, Decimal>();
      const dashPositions = [];
      for (const p of positions) {
        realized = realized.plus(p.realizedPnl);
        fees = fees.plus(p.fees);
        const mark = marks.get(p.symbol) ?? p.averageEntryPrice;
        const u = unrealizedPnl(p, mark);
        unrealized = unrealized.plus(u);
        net.set(p.symbol, (net.get(p.symbol) ?? new Decimal(0)).plus(p.quantity));
        dashPositions.push({
          symbol: p.symbol,
          venue: p.venue,
          strategyId: p.strategyId,
          quantity: p.quantity.toFixed(),
          avgPrice: p.averageEntryPrice.toDecimalPlaces(8).toFixed(),
          markPrice: mark.toFixed(),
          unrealizedPnl: u.toDecimalPlaces(8).toFixed(),
          realizedPnl: p.realizedPnl.toDecimalPlaces(8).toFixed(),
        });
      }
      const equity = STARTING_EQUITY.plus(realized).plus(unrealized).minus(fees).toDecimalPlaces(8);
      this.equity.push({ ts: now, equity, realized, unrealized, fees });
      for (const s of SYMBOLS) this.positionCurve.push({ ts: now, symbol: s, quantity: net.get(s) ?? new Decimal(0) });

      const d = this.dashboard;
      d.recordEquity(now, equity);
      const r8 = (x: Decimal) => x.toDecimalPlaces(8).toFixed();
      d.setPnl({
        total: r8(equity.minus(STARTING_EQUITY)),
        realized: r8(realized),
        unrealized: r8(unrealized),
        fees: r8(fees),
      });
      d.setPositions(dashPositions);
      const open = this.quoter.openOrders();
      d.setOpenOrders(
        open.map((o) => ({
          orderId: o.exchangeOrderId ?? o.clientOrderId,
          clientOrderId: o.clientOrderId,
          strategyId: o.strategyId,
          venue: o.venue,
          symbol: o.symbol,
          side: o.side,
          type: "LIMIT" as const,
          ...(o.limitPrice ? { price: o.limitPrice.toFixed() } : {}),
          qty: o.quantity.toFixed(),
          filledQty: o.quantity.minus(o.remainingQuantity).toFixed(),
          status: o.pendingCancel ? "PENDING_CANCEL" : o.acked ? "NEW" : "PENDING_NEW",
          ts: o.createdAt,
        })),
      );
      for (const s of SYMBOLS) {
        for (const v of VENUES) {
          const q = this.sims.quotes?.quote(v, s);
          if (!q) continue;
          const ours = open.filter((o) => o.venue === v && o.symbol === s && o.limitPrice);
          const bestBid = ours
            .filter((o) => o.side === "BUY")
            .reduce<Decimal | undefined>((b, o) => (!b || o.limitPrice!.gt(b) ? o.limitPrice! : b), undefined);
          const bestAsk = ours
            .filter((o) => o.side === "SELL")
            .reduce<Decimal | undefined>((b, o) => (!b || o.limitPrice!.lt(b) ? o.limitPrice! : b), undefined);
          d.setQuote({
            venue: v,
            symbol: s,
            bid: new Decimal(q.bid).toFixed(),
            ask: new Decimal(q.ask).toFixed(),
            ...(q.bidSize ? { bidSize: new Decimal(q.bidSize).toFixed() } : {}),
            ...(q.askSize ? { askSize: new Decimal(q.askSize).toFixed() } : {}),
            ...(bestBid ? { ourBid: bestBid.toFixed() } : {}),
            ...(bestAsk ? { ourAsk: bestAsk.toFixed() } : {}),
            ts: q.timestamp || now,
          });
        }
      }
      const st = this.quoter.status();
      d.setRiskState(st.tradingState, st.tradingState === "ACTIVE" ? undefined : this.lastRiskReason());
      for (const sid of this.strategyIds) {
        // Counted from the state store's fills, refreshed once per sample.
        const fills = await this.store.listFillsByStrategy(sid);
        this.tradesByStrategy.set(sid, fills.length);
      }
      if (this.custody) d.setCustody(this.custody.snapshot());
      const snap = d.snapshot();
      for (const l of this.onSampleListeners) l(snap);
    } catch (e) {
      this.log(`sample failed: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      this.sampling = false;
    }
  }

  private lastRiskReason(): string | undefined {
    return this.riskEvents.at(-1)?.message;
  }

  /** The engine control token (also in endpoints.controlTokenFile). */
  get controlToken(): string {
    return this.control.auth.tokens[0]!;
  }

  /** guard: hard caps (risk.hard_caps) and the chaos switch (engine.chaos_strategies.enabled) of the local deployment. */
  private async controlPolicy(): Promise<ControlPolicy> {
    const local = new ConfigurationServiceClient(this.peers.manager, { environment: "local", ttlMs: 5_000 });
    try {
      return {
        hardCaps: parseHardCaps(await local.getJson<Record<string, unknown>>("risk.hard_caps", undefined, {})),
        chaosStrategies: await local.getBoolean("engine.chaos_strategies.enabled", false),
      };
    } finally {
      await local.close();
    }
  }

  /** Called with every dashboard snapshot (about once a second): the terminal view hangs here. */
  onSample(listener: (s: DashboardSnapshot) => void): () => void {
    this.onSampleListeners.add(listener);
    return () => this.onSampleListeners.delete(listener);
  }

  /** The kill switch: through the engine's control API, like any other client. */
  async setTradingState(state: TradingState, reason: string): Promise<void> {
    await this.peers.engine.setTradingState(state, reason, { deadlineMs: 2_000 } as never);
    this.riskEvents.push({ ts: Date.now(), kind: "control-api", message: `SetTradingState ${state}: ${reason}` });
  }

  fillsPerBook(): ReadonlyMap<string, number> {
    return this.fillsByBook;
  }

  trades(): ReadonlyMap<string, number> {
    return this.tradesByStrategy;
  }

  counts(): SessionCounts {
    const ex = (this.sims.servers.exchange as ExchangeSimulator).engine.getCounters();
    const risk = (this.sims.servers.risk as RiskMonitorSimulator).status();
    return {
      ordersAtExchange: Number(ex.ordersReceived),
      ordersWithoutRiskCheck: Number(ex.ordersWithoutRiskCheck),
      positionChanged: this.bus.count("PositionChanged"),
      riskPositionReports: Number(risk.positionReportsTotal),
      riskChecks: Number(risk.checksTotal),
      signals: this.bus.count("SignalGenerated"),
      executionsForwarded: this.forwarder.forwarded,
      busEvents: this.bus.countsByType(),
      fillsInState: [...this.tradesByStrategy.values()].reduce((a, b) => a + b, 0),
      ourExecutionsAtExchange: this.ourExecutionIds.size,
      executionsReplayed: this.replayed.length,
      executionsReplayedBeforeStop: this.replayedBeforeStop,
      deadLetters: this.deadLetters,
      functionFailures: this.functionHost
        ? Object.values(this.functionHost.getStats()).reduce((n, f) => n + f.failures, 0)
        : this.inner instanceof InProcessEventBus
          ? this.inner.getStats().failedAttempts
          : 0,
    };
  }

  get coordinator(): TestCoordinatorSimulator {
    return this.sims.servers.coordinator as TestCoordinatorSimulator;
  }

  /** All fills in the state store, every strategy of this session. */
  async fillsInState(): Promise<FillRecord[]> {
    const positions = await this.store.listPositions();
    const ids = new Set([...this.strategyIds, ...positions.map((p) => p.strategyId)]);
    const out: FillRecord[] = [];
    for (const id of ids) out.push(...(await this.store.listFillsByStrategy(id)));
    return out;
  }

  /**
   * Positions in state (net over strategies) vs the exchange account: base-asset balance change summed over
   * the venues. A zero diff means every execution was booked exactly once.
   */
  async reconcile(): Promise<Reconciliation[]> {
    const positions = await this.store.listPositions();
    const ex = (this.sims.servers.exchange as ExchangeSimulator).engine;
    const balances = ex.getBalances(DEFAULT_ACCOUNT);
    return SYMBOLS.map((symbol) => {
      const base = symbol.split("-")[0]!;
      const state = positions.filter((p) => p.symbol === symbol).reduce((s, p) => s.plus(p.quantity), new Decimal(0));
      const initial = new Decimal(DEFAULT_INITIAL_BALANCES[base] ?? "0");
      const exchange = balances
        .filter((b) => b.asset === base)
        .reduce((s, b) => s.plus(new Decimal(b.total).minus(initial)), new Decimal(0));
      return { symbol, state: state.toFixed(), exchange: exchange.toFixed(), diff: state.minus(exchange).toFixed() };
    });
  }

  /**
   * Wait until every execution of ours at the exchange is a fill in the state store (bounded). Executions that
   * raced the quoter's shutdown (fills of quotes being cancelled after its stream closed) have no forwarder left:
   * after a grace period they are replayed from the exchange's execution log as the same ExecutionReported events
   * (fill handling is idempotent per execution id). How many, and whether any predates the stop, is counted.
   */
  async settle(timeoutMs = 15_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    const graceUntil = Date.now() + Math.min(3_000, timeoutMs / 3);
    let replayedOnce = false;
    for (;;) {
      await this.forwarder.flush().catch(() => {});
      if (this.inner instanceof InProcessEventBus) await this.inner.whenIdle({ timeoutMs: 2_000 }).catch(() => {});
      const fills = await this.fillsInState();
      if (fills.length >= this.ourExecutionIds.size) return true;
      if (!replayedOnce && Date.now() > graceUntil) {
        replayedOnce = true;
        const booked = new Set(fills.map((f) => f.executionId));
        const engine = (this.sims.servers.exchange as ExchangeSimulator).engine;
        const missing = engine
          .executionsFrom(1)
          .filter((e) => this.ourExecutionIds.has(e.executionId) && !booked.has(e.executionId));
        for (const e of missing) {
          this.replayed.push({ executionId: e.executionId, ts: Number(e.timestampMs) });
          if (this.quoterStopAt === undefined || Number(e.timestampMs) < this.quoterStopAt) this.replayedBeforeStop++;
        }
        if (missing.length > 0) {
          this.log(
            `settle: replaying ${missing.length} execution(s) from the exchange log (${this.replayedBeforeStop} before the quoter stopped)`,
          );
          await this.bus.publish(missing.map((e) => executionEvent(executionReportOf(e))));
        }
        continue;
      }
      if (Date.now() > deadline) {
        this.log(
          `settle: ${fills.length} fills in state for ${this.ourExecutionIds.size} executions after ${timeoutMs} ms`,
        );
        return false;
      }
      await sleep(200);
    }
  }

  /** Where the engine's quotes came from and what its feed counted (report meta.marketData). */
  private marketDataSummary(): MarketDataSummary {
    const s = this.peers.marketData.quoteStreams()[0];
    const st = s?.stats;
    return {
      source: this.cfg.marketData ? "external" : "simulator",
      endpoint: this.cfg.marketData?.endpoint ?? this.sims.addresses["market-data"] ?? "",
      method: s ? `${s.synthetic ? "marketdata.MarketDataService" : "tse.marketdata.QuoteService"}/${s.method}` : "",
      syntheticQuotes: s?.synthetic ?? false,
      ...(s?.synthetic && this.cfg.marketData ? { halfSpreadBps: this.cfg.marketData.halfSpreadBps } : {}),
      received: st?.received ?? 0,
      malformed: st?.malformed ?? 0,
      dropped: st?.dropped ?? 0,
      reconnects: st?.reconnects ?? 0,
    };
  }

  /** Graceful stop: stop quoting and cancel, flush, settle state, write the report, stop everything. Idempotent. */
  stop(reason = "stopped"): Promise<SessionResult> {
    this.stopping ??= this.doStop(reason);
    return this.stopping;
  }

  private async doStop(reason: string): Promise<SessionResult> {
    const { log } = this;
    if (this.sampler) clearInterval(this.sampler);
    log(`session: stopping (${reason}): cancel quotes, flush the bridge, settle state...`);
    let result: SessionResult | undefined;
    try {
      this.quoterStopAt = Date.now();
      const q = await this.quoter.stop();
      this.quoterStopped = true;
      if (q.remaining > 0) log(`quoter: ${q.remaining} order(s) still open after stop`);
      // Anything else of ours still resting (functions' orders are IOC; belt and braces).
      const open = await this.peers.exchange.listOpenOrders({ accountId: DEFAULT_ACCOUNT }).catch(() => []);
      for (const o of open) {
        await this.peers.exchange
          .cancelOrder({ clientOrderId: o.clientOrderId, accountId: DEFAULT_ACCOUNT })
          .catch(() => {});
      }
      await this.settle();
      const custody = await this.custody.finish(await this.fillsInState(), 20_000);
      await this.sample();
      const endedAt = Date.now();
      const fills = await this.fillsInState();
      const st = this.quoter.status();
      const denials = await this.denialsByPath();
      const report = buildSessionReport({
        runId: this.runId,
        mode: this.cfg.mode,
        seed: this.cfg.seed,
        scenario: this.cfg.marketData ? "external" : this.cfg.scenario,
        strategies: this.cfg.strategies,
        startedAt: this.startedAt,
        endedAt,
        startingEquity: STARTING_EQUITY,
        sampleMs: this.cfg.sampleMs ?? 1_000,
        fills,
        equity: this.equity,
        positions: this.positionCurve,
        risk: { finalState: st.tradingState, denials, events: this.riskEvents },
        ticks: st.counters.ticks,
        marketData: this.marketDataSummary(),
        settlement: custody.settlement,
        reconciliation: {
          runs: custody.reconciliation.runs,
          breaks: custody.reconciliation.breaks,
          breaksSeen: custody.breaksSeen,
        },
        ...(this.timelines ? { latencyWaterfall: buildWaterfall(this.timelines.timelines()) } : {}),
        config: {
          strategies: this.cfg.strategies,
          strategyIds: this.strategyIds,
          symbols: SYMBOLS,
          venues: VENUES,
          endpoints: this.endpoints as unknown as Record<string, unknown>,
        },
      });
      if (this.functionHost && this.sqs) this.deadLetters = await this.countTapDeadLetters(this.functionHost, this.sqs);
      this.fileLog(`function invocation times (ms): ${JSON.stringify(this.functionLatency())}`);
      const paths = await writeSessionReport(report, this.outDir);
      const tradesByStrategy: Record<string, number> = {};
      for (const f of fills) tradesByStrategy[f.strategyId] = (tradesByStrategy[f.strategyId] ?? 0) + 1;
      result = {
        report,
        reportPath: paths.json,
        htmlPath: paths.html,
        counts: { ...this.counts(), fillsInState: fills.length },
        reconciliation: await this.reconcile(),
        tradesByStrategy,
        functionLatency: this.functionLatency(),
        custody,
        configGetValueCalls: this.peers.config.stats().getValueCalls,
      };
    } finally {
      await this.teardown();
    }
    return result;
  }

  /** Risk denials per rule: the quoter's engine, and order-placement's recorded decisions (the functions). */
  private async denialsByPath(): Promise<DenialsByPath> {
    const functions: Record<string, number> = {};
    for (const s of await this.store.listSignalsByStrategy(this.arbStrategyId))
      if (s.status === "denied") functions[s.rule ?? "denied"] = (functions[s.rule ?? "denied"] ?? 0) + 1;
    return { quoter: Object.fromEntries(this.quoter.denialsByRule), functions };
  }

  /** Messages in the function host's dead-letter queues (LocalStack mode). */
  private async countTapDeadLetters(host: FunctionHost, sqs: SQSClient): Promise<number> {
    let n = 0;
    for (const r of ROUTES) {
      try {
        const url = host.resources(r.functionName).dlqUrl;
        const a = await sqs.send(
          new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["ApproximateNumberOfMessages"] }),
        );
        n += Number(a.Attributes?.ApproximateNumberOfMessages ?? 0);
      } catch (e) {
        this.fileLog(`dead-letter count for ${r.functionName}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    if (n > 0) this.log(`session: ${n} event(s) in the function host's dead-letter queues`);
    return n;
  }

  /** Stop whatever started, newest first; errors are logged, not thrown. */
  private async teardown(): Promise<void> {
    if (this.sampler) clearInterval(this.sampler);
    while (this.cleanups.length > 0) {
      const c = this.cleanups.pop()!;
      try {
        await Promise.race([c.fn(), sleep(10_000).then(() => Promise.reject(new Error("timed out after 10 s")))]);
      } catch (e) {
        this.log(`stop ${c.name}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }
}
