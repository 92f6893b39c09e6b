// The local trading session (`tse start`, `npm start`): every part of the engine on loopback in one process.
//   simulators (exchange with 2 venues, market data with the scenario and seed, risk monitor, configuration
//   service seeded from config/defaults.yaml, test coordinator)
//   → the quoter (market making; control API gRPC + HTTP health/metrics; bridge → bus)
//   → the four functions through the routing table: the in-process bus and state (embedded), or LocalStack's
//     EventBridge + DynamoDB through the function host (`--aws local`)
//   → the live dashboard (kill switch → the engine control API) and, on exit, report.json + report.html.
// This file orchestrates: the parts are started by peers.ts (simulators, clients), wiring.ts (state, bus,
// functions), quoterSetup.ts (the quoter and its servers), watched by watch.ts, reported by reportAssembly.ts
// and stopped by shutdown.ts.
import { randomUUID } from "node:crypto";
import { createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import { join } from "node:path";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { EventBridgeEventBus } from "../lib/adapters/aws/EventBridgeEventBus";
import { asPrincipal } from "../lib/adapters/aws/requestRecorder";
import { InProcessEventBus } from "../lib/adapters/embedded/InProcessEventBus";
import { GrpcExchange } from "../lib/adapters/GrpcExchange";
import { buildFunction } from "../lib/app/functionRuntime";
import { settlementFunction } from "../lib/app/specs/settlement";
import { ExecutionForwarder } from "../lib/bridges/ExecutionForwarder";
import type { TradingState } from "../lib/domain/types";
import { type PeerClients, StaticRegistry } from "../lib/grpc";
import type { FunctionHost } from "../lib/local-aws";
import type { FillRecord, StateStore } from "../lib/ports/StateStore";
import { OrderHopRecorder } from "../lib/telemetry/orderHops";
import { OrderTimelineCollector } from "../lib/telemetry/orderTimelines";
import { tracing } from "../lib/telemetry/tracing";
import type { LocalControlCredentials } from "../quoter/control/credentials";
import type { Quoter } from "../quoter/Quoter";
import type { TestCoordinatorSimulator } from "../sim/coordinator/TestCoordinatorSimulator";
import type { CustodianSimulator } from "../sim/custodian/CustodianSimulator";
import { DEFAULT_ACCOUNT } from "../sim/exchange/ExchangeEngine";
import type { ExchangeSimulator } from "../sim/exchange/ExchangeSimulator";
import type { RunningSimulators } from "../sim/main";
import type { RiskMonitorSimulator } from "../sim/risk/RiskMonitorSimulator";
import type { CountingEventBus } from "./CountingEventBus";
import { DashboardState } from "./dashboard/DashboardState";
import { type DashboardServer, startDashboardServer } from "./dashboard/server";
import type { DashboardSnapshot } from "./dashboard/types";
import { type LocalStackWatch, SessionAbortedError } from "./LocalStackWatch";
import { quoterStrategies, startPeers } from "./peers";
import { choosePort } from "./ports";
import { type RiskEventLog, startSessionQuoter } from "./quoterSetup";
import { assembleSessionReport } from "./reportAssembly";
import { SessionCustody } from "./SessionCustody";
import { writeSessionReport } from "./sessionReport";
import { Cleanups, countTapDeadLetters, type ReplayLog, reconcilePositions, settleExecutions, sleep } from "./shutdown";
import {
  DEFAULT_DASHBOARD_PORT,
  type LocalSessionConfig,
  QUOTER_ID,
  type Reconciliation,
  type SessionCounts,
  type SessionEndpoints,
  type SessionResult,
} from "./types";
import { MAX_CURVE_SAMPLES, SessionWatch } from "./watch";
import { FunctionTimes, functionDependencies, sessionHandlers, startStateAndBus } from "./wiring";

export {
  DEFAULT_DASHBOARD_PORT,
  type LocalSessionConfig,
  type Reconciliation,
  type SessionCounts,
  type SessionEndpoints,
  type SessionResult,
} from "./types";

export { MAX_CURVE_SAMPLES };

export class LocalSession {
  readonly runId: string;
  readonly outDir: string;
  readonly startedAt: number;
  readonly dashboard: DashboardState;
  endpoints!: SessionEndpoints;

  private readonly cfg: LocalSessionConfig;
  private readonly log: (l: string) => void;
  private readonly cleanups = new Cleanups();
  sims!: RunningSimulators;
  peers!: PeerClients;
  store!: StateStore;
  bus!: CountingEventBus;
  quoter!: Quoter;
  private inner!: InProcessEventBus | EventBridgeEventBus;
  private forwarder!: ExecutionForwarder;
  /** Traced orders' timelines for the report's latency waterfall (tracing on only). */
  private readonly timelines = tracing().enabled ? new OrderTimelineCollector().start() : undefined;
  /** Tracing off: the same hops, recorded by the quoter and from the bus without spans. */
  private readonly hops = this.timelines ? undefined : new OrderHopRecorder();
  private functionHost: FunctionHost | undefined;
  private sqs: SQSClient | undefined;
  private dashboardServer!: DashboardServer;
  private registry = new StaticRegistry();
  private control!: LocalControlCredentials;
  private sampler: NodeJS.Timeout | undefined;
  private readonly riskEvents: RiskEventLog = [];
  private readonly watch: SessionWatch;
  private strategyIds: string[] = [];
  private arbStrategyId = "arb-1";
  private stopping: Promise<SessionResult> | undefined;
  private quoterStopped = false;
  private logFile: WriteStream | undefined;
  deadLetters = 0;
  /** A line in <out>/session.log. */
  readonly fileLog = (line: string): void => {
    this.logFile?.write(`${new Date().toISOString()} ${line}\n`);
  };
  private quoterStopAt: number | undefined;
  private readonly replays: ReplayLog = { replayed: [], beforeStop: 0 };
  private readonly functionTimes = new FunctionTimes();
  custody!: SessionCustody;
  /** Resolves when the session cannot go on (`--aws local`: LocalStack lost its state or stays unreachable). */
  readonly failure: Promise<Error>;
  private fatal: Error | undefined;
  private awsWatch: LocalStackWatch | undefined;
  private resolveFailure!: (e: Error) => void;

  private constructor(cfg: LocalSessionConfig) {
    this.cfg = cfg;
    this.failure = new Promise((resolve) => {
      this.resolveFailure = resolve;
    });
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
    this.watch = new SessionWatch({
      dashboard: this.dashboard,
      riskEvents: this.riskEvents,
      log: this.log,
      store: () => this.store,
      sims: () => this.sims,
      quoter: () => this.quoter,
      strategyIds: () => this.strategyIds,
      custody: () => this.custody,
      maxCurveSamples: cfg.maxCurveSamples ?? MAX_CURVE_SAMPLES,
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
    const { cfg, log, host, cleanups } = this;
    const port = (name: string, preferred: number) => this.port(name, preferred);
    // Chatty component logs (quoter warnings, bridge, function host, dead letters) go to <out>/session.log.
    mkdirSync(this.outDir, { recursive: true });
    this.logFile = createWriteStream(join(this.outDir, "session.log"), { flags: "a" });
    cleanups.push({ name: "session log", fn: () => new Promise<void>((r) => this.logFile?.end(() => r())) });
    // The functions log JSON and EMF to stdout in Lambda; here the terminal view owns stdout.
    process.env.POWERTOOLS_METRICS_DISABLED ??= "true";
    process.env.POWERTOOLS_LOG_LEVEL ??= "WARN";
    process.env.POWERTOOLS_TRACE_ENABLED ??= "false";
    // 1. Simulators; 2. clients to the peers (the engine registers itself once its control API listens).
    const started = await startPeers({ cfg, host, runId: this.runId, registry: this.registry, cleanups, port });
    this.sims = started.sims;
    this.control = started.control;
    this.peers = started.peers;
    const a = this.sims.addresses;

    // 3. State and bus, and the functions on them.
    const sb = await startStateAndBus({
      cfg,
      runId: this.runId,
      cleanups,
      log,
      fileLog: this.fileLog,
      onDeadLetter: () => this.deadLetters++,
      onFatal: (err) => this.failWith(err),
      handlers: (store, bus) => {
        this.store = store;
        this.bus = bus;
        return sessionHandlers(this.deps(), this.functionTimes);
      },
    });
    this.store = sb.store;
    this.inner = sb.inner;
    this.bus = sb.bus;
    this.functionHost = sb.functionHost;
    this.sqs = sb.sqs;
    this.awsWatch = sb.awsWatch;

    // 4. The quoter (market making and any chaos strategy named), its control API and HTTP.
    const strategies = await quoterStrategies(cfg, this.peers, this.arbStrategyId);
    this.strategyIds = strategies.strategyIds;
    // The quoter's AWS requests are its own (IAM evaluation), though it shares this process's clients.
    const quoterBus = asPrincipal("quoter", this.bus);
    const { enginePort, httpPort } = await startSessionQuoter({
      cfg,
      host,
      log,
      fileLog: this.fileLog,
      peers: this.peers,
      store: asPrincipal("quoter", this.store),
      bus: quoterBus,
      messaging: sb.messaging,
      strategies: strategies.specs,
      control: this.control,
      registry: this.registry,
      cleanups,
      riskEvents: this.riskEvents,
      quoterStopped: () => this.quoterStopped,
      port,
      ...(this.hops ? { orderHops: this.hops } : {}),
      onBuilt: (q) => {
        this.quoter = q;
      },
    });

    // 5. Executions of the functions' orders (arbitrage legs, hedges) → ExecutionReported. The quoter's own
    //    executions go through its bridge.
    this.forwarder = new ExecutionForwarder({
      exchange: new GrpcExchange(this.peers.exchange),
      bus: quoterBus,
      accept: (e) => e.clientOrderId !== "" && !e.clientOrderId.startsWith(`${QUOTER_ID}-`),
      messaging: sb.messaging,
      onError: (err) => log(`execution forwarder: ${err instanceof Error ? err.message : String(err)}`),
    });
    this.forwarder.start();
    cleanups.push({ name: "execution forwarder", fn: () => this.forwarder.stop() });

    // 6. What the session watches: our executions at the exchange, risk alerts.
    const offExec = this.exchangeSim.engine.onExecution((e) => this.watch.onExchangeExecution(e));
    cleanups.push({ name: "exchange watch", fn: offExec });
    if (this.timelines) cleanups.push({ name: "order timelines", fn: () => this.timelines?.stop() });
    const hops = this.hops;
    if (hops) cleanups.push({ name: "order hops", fn: this.bus.onPublished((e) => hops.onPublished(e)) });
    const offAlert = (this.sims.servers.risk as RiskMonitorSimulator).onAlert((al) => this.watch.onRiskAlert(al));
    cleanups.push({ name: "risk watch", fn: offAlert });

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
    cleanups.push({ name: "custody", fn: () => this.custody.stop() });
    // --- end custodian ---

    // 7. The live dashboard.
    this.dashboardServer = await startDashboardServer({
      source: this.dashboard,
      host,
      port: await this.port("dashboard", cfg.dashboardPort ?? DEFAULT_DASHBOARD_PORT),
      title: `tse session ${this.runId}`,
    });
    cleanups.push({ name: "dashboard", fn: () => this.dashboardServer.close() });

    this.endpoints = {
      simulators: a,
      engine: `${host}:${enginePort}`,
      http: `https://${host}:${httpPort}`,
      dashboard: this.dashboardServer.url,
      dashboardBase: this.dashboardServer.baseUrl,
      controlTokenFile: this.control.tokenFile,
      controlCertFile: this.control.certFile,
      ...(sb.localstackEndpoint ? { localstack: sb.localstackEndpoint } : {}),
    };
    const period = cfg.sampleMs ?? 1_000;
    this.sampler = setInterval(() => void this.watch.sample(), period);
    await this.watch.sample();
  }

  private get exchangeSim(): ExchangeSimulator {
    return this.sims.servers.exchange as ExchangeSimulator;
  }

  /** The functions' dependencies over this session's store, bus and peers. */
  private deps() {
    return functionDependencies({
      cfg: this.cfg,
      store: this.store,
      bus: this.bus,
      peers: this.peers,
      arbStrategyId: this.arbStrategyId,
      quoterRisk: () => this.quoter?.risk,
    });
  }

  /** Invocations and duration percentiles (ms) per function. */
  functionLatency(): Record<string, { invocations: number; p50Ms: number; p99Ms: number }> {
    return this.functionTimes.latency();
  }

  /** The engine control token (also in endpoints.controlTokenFile). */
  get controlToken(): string {
    return this.control.auth.tokens[0]!;
  }

  /** Called with every dashboard snapshot (about once a second): the terminal view hangs here. */
  onSample(listener: (s: DashboardSnapshot) => void): () => void {
    return this.watch.onSample(listener);
  }

  /** The kill switch: through the engine's control API, like any other client. */
  async setTradingState(state: TradingState, reason: string): Promise<void> {
    await this.peers.engine.setTradingState(state, reason, { deadlineMs: 2_000 } as never);
    this.riskEvents.push({ ts: Date.now(), kind: "control-api", message: `SetTradingState ${state}: ${reason}` });
  }

  fillsPerBook(): ReadonlyMap<string, number> {
    return this.watch.fillsByBook;
  }

  trades(): ReadonlyMap<string, number> {
    return this.watch.tradesByStrategy;
  }

  counts(): SessionCounts {
    const ex = this.exchangeSim.engine.getCounters();
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
      fillsInState: [...this.watch.tradesByStrategy.values()].reduce((a, b) => a + b, 0),
      ourExecutionsAtExchange: this.watch.ourExecutionIds.size,
      executionsReplayed: this.replays.replayed.length,
      executionsReplayedBeforeStop: this.replays.beforeStop,
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

  /** Positions in state (net over strategies) vs the exchange account; a zero diff: every execution booked once. */
  async reconcile(): Promise<Reconciliation[]> {
    return reconcilePositions(this.store, this.exchangeSim.engine);
  }

  /** Wait until every execution of ours at the exchange is a fill in the state store (see settleExecutions). */
  async settle(timeoutMs = 15_000): Promise<boolean> {
    return settleExecutions(
      {
        forwarder: this.forwarder,
        inner: this.inner,
        bus: this.bus,
        exchange: this.exchangeSim.engine,
        ourExecutionIds: this.watch.ourExecutionIds,
        fillsInState: () => this.fillsInState(),
        quoterStopAt: this.quoterStopAt,
        replays: this.replays,
        log: this.log,
      },
      timeoutMs,
    );
  }

  /** Graceful stop: stop quoting and cancel, flush, settle state, write the report, stop everything. Idempotent. */
  stop(reason = "stopped"): Promise<SessionResult> {
    this.awsWatch?.stop(); // the teardown deletes what it watches
    this.stopping ??= this.fatal ? this.abort(this.fatal) : this.doStop(reason);
    return this.stopping;
  }

  /** The session cannot go on: stop at once (no handler runs against what replaced the lost state). */
  private failWith(err: Error): void {
    if (this.fatal || this.stopping) return;
    this.fatal = err;
    this.log(`session: ${err.name}: ${err.message}`);
    this.resolveFailure(err);
    // The caller learns the outcome from stop() (SessionAbortedError); this only starts it.
    this.stop(err.name).catch(() => {});
  }

  /**
   * Stop after a fatal error: the state store is gone, so there is nothing to settle or report from; quoting stops
   * and every order of ours at the exchange is cancelled, then stop() rejects with SessionAbortedError.
   */
  private async abort(fatal: Error): Promise<never> {
    let openOrdersLeft = -1;
    try {
      await this.functionHost?.stop();
      this.quoterStopAt = Date.now();
      await Promise.race([this.quoter.stop(), sleep(15_000)]).catch(() => {});
      this.quoterStopped = true;
      openOrdersLeft = await this.cancelOpenOrders();
    } finally {
      await this.teardown();
    }
    throw new SessionAbortedError(fatal, {
      openOrdersLeft,
      ourExecutionsAtExchange: this.watch.ourExecutionIds.size,
      fillBookedEvents: this.bus.count("FillBooked"),
    });
  }

  /** Cancels whatever of ours still rests at the exchange; returns how many are left open. */
  private async cancelOpenOrders(): Promise<number> {
    const list = () => this.peers.exchange.listOpenOrders({ accountId: DEFAULT_ACCOUNT });
    for (const o of await list().catch(() => [])) {
      await this.peers.exchange
        .cancelOrder({ clientOrderId: o.clientOrderId, accountId: DEFAULT_ACCOUNT })
        .catch(() => {});
    }
    return (await list()).length;
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
      await this.cancelOpenOrders().catch(() => {});
      await this.settle();
      const custody = await this.custody.finish(await this.fillsInState(), 20_000);
      await this.watch.sample(true);
      const endedAt = Date.now();
      const fills = await this.fillsInState();
      const report = await assembleSessionReport({
        runId: this.runId,
        cfg: this.cfg,
        startedAt: this.startedAt,
        endedAt,
        fills,
        watch: this.watch,
        quoter: this.quoter,
        store: this.store,
        peers: this.peers,
        simulatorMarketData: this.sims.addresses["market-data"],
        arbStrategyId: this.arbStrategyId,
        strategyIds: this.strategyIds,
        riskEvents: this.riskEvents,
        custody,
        timelines: this.timelines,
        hops: this.hops,
        endpoints: this.endpoints,
      });
      if (this.functionHost && this.sqs)
        this.deadLetters = await countTapDeadLetters(this.functionHost, this.sqs, this.log, this.fileLog);
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

  /** Stop whatever started, newest first; errors are logged, not thrown. */
  private async teardown(): Promise<void> {
    if (this.sampler) clearInterval(this.sampler);
    await this.cleanups.runAll(this.log);
  }
}
