// The session's quoter: built once by quoter/build.ts over the session's peers, store and bus, with the
// session's risk policy (a breaker that halts one strategy halts the engine), its control API and HTTP server.
import type { RiskLimitsInput } from "../lib/domain/risk/limits";
import type { PeerClients, StaticRegistry } from "../lib/grpc";
import type { EventBus } from "../lib/ports/EventBus";
import type { StateStore } from "../lib/ports/StateStore";
import type { OrderHopRecorder } from "../lib/telemetry/orderHops";
import type { MessagingSystem } from "../lib/telemetry/spans";
import { BusBridge } from "../quoter/bridge/BusBridge";
import { buildQuoter } from "../quoter/build";
import type { LocalControlCredentials } from "../quoter/control/credentials";
import { DEFAULT_ENGINE_PORT, EngineControlServer } from "../quoter/control/EngineControlServer";
import { DEFAULT_HTTP_PORT, QuoterHttpServer } from "../quoter/control/httpServer";
import type { Quoter, QuoterLogger, QuoterStrategySpec } from "../quoter/Quoter";
import { SERVERLESS_STRATEGIES } from "./options";
import { controlPolicy } from "./peers";
import type { Cleanups } from "./shutdown";
import { type LocalSessionConfig, QUOTER_ID, SYMBOLS, VENUES } from "./types";

export type RiskEventLog = { ts: number; kind: string; message: string }[];

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

export interface SessionQuoterInput {
  cfg: LocalSessionConfig;
  host: string;
  log: (l: string) => void;
  fileLog: (l: string) => void;
  peers: PeerClients;
  /** The quoter's own view of the store and bus (its IAM principal). */
  store: StateStore;
  bus: EventBus;
  messaging: { system: MessagingSystem; destination: string };
  strategies: QuoterStrategySpec[];
  control: LocalControlCredentials;
  registry: StaticRegistry;
  cleanups: Cleanups;
  /** Trading-state changes and escalations go here (the report's risk events). */
  riskEvents: RiskEventLog;
  /** true once the session stopped the quoter itself (its cleanup then has nothing to do). */
  quoterStopped: () => boolean;
  port: (name: string, preferred: number) => Promise<number>;
  /** Called as soon as the quoter is built (before it starts): the functions' halt gate reads its risk engine. */
  onBuilt: (quoter: Quoter) => void;
  /** Tracing off: the quoter notes each order's hops for the report's waterfall. */
  orderHops?: OrderHopRecorder;
}

/** Build and start the quoter, then its control API and HTTP server; the engine registers its address. */
export async function startSessionQuoter(
  x: SessionQuoterInput,
): Promise<{ quoter: Quoter; enginePort: number; httpPort: number }> {
  const { cfg, log, host, cleanups } = x;
  // The quoter's in-process risk limits: risk.engine_limits (domain limit keys) over the session's defaults.
  // 50 orders/s per strategy leaves market making ample room and trips a runaway strategy's rate breaker at once.
  const engineLimits = await x.peers.config
    .getJson<Record<string, unknown>>("risk.engine_limits", undefined, {})
    .catch(() => ({}) as Record<string, unknown>);
  const bridge = new BusBridge({
    bus: x.bus,
    messaging: x.messaging,
    // LocalStack on the host is far slower per event than the in-process bus: fewer, coarser snapshots there.
    snapshots:
      cfg.mode === "embedded"
        ? { minIntervalMs: cfg.snapshotIntervalMs ?? 500 }
        : { minIntervalMs: cfg.snapshotIntervalMs ?? 2_000, priceMoveBps: 10_000, spreadMoveBps: 10_000 },
    logger: {
      warn: (m, at) => x.fileLog(`bridge warn: ${m} ${JSON.stringify(at ?? {})}`),
      error: (m, at) => log(`bridge error: ${m} ${JSON.stringify(at ?? {})}`),
    },
  });
  // The shared risk state: trading-state changes reach order placement, and a HALTED set there reaches the quoter.
  const built = buildQuoter({
    manager: x.peers.manager,
    exchange: x.peers.exchange,
    marketData: x.peers.marketData,
    store: x.store,
    bridge,
    onError: (m, e) =>
      x.fileLog(`quoter: ${m}${e === undefined ? "" : `: ${e instanceof Error ? e.message : String(e)}`}`),
    options: {
      symbols: SYMBOLS,
      venues: VENUES,
      quoterId: QUOTER_ID,
      strategies: x.strategies,
      marketDataIntervalMs: 100,
      reconcileIntervalMs: 10_000,
      allowChaosStrategies: true,
      // The strategies the user named (plug-ins included); the quoter still refuses what is not registered.
      pluginStrategyTypes: cfg.strategies.filter((s) => !SERVERLESS_STRATEGIES.has(s)),
      riskLimits: { maxOrdersPerSecond: 50, ...engineLimits, ...cfg.riskLimits } as RiskLimitsInput,
      logger: quoterLogger(x.fileLog),
      ...(x.orderHops ? { orderHops: x.orderHops } : {}),
    },
  });
  const quoter = built.quoter;
  x.onBuilt(quoter);
  // One risk state for every path: the quoter's engine and the functions share the stored one (HALTED either way).
  if (built.riskSync) {
    const riskSync = built.riskSync;
    await riskSync.start();
    cleanups.push({ name: "risk state sync", fn: () => riskSync.stop() });
  }
  quoter.onStateChange((c) => {
    x.riskEvents.push({
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
          quoter.setTradingState("HALTED", reason);
          x.riskEvents.push({ ts: Date.now(), kind: "escalation", message: `engine HALTED: ${reason}` });
        } catch (e) {
          log(`kill switch escalation failed: ${e instanceof Error ? e.message : String(e)}`);
        }
      });
    }
  });
  await quoter.start();
  cleanups.push({ name: "quoter", fn: () => (x.quoterStopped() ? undefined : quoter.stop()) });
  const authLog = { warn: (m: string, a?: Record<string, unknown>) => log(`${m} ${JSON.stringify(a ?? {})}`) };
  const control = new EngineControlServer(quoter, {
    auth: x.control.auth,
    policy: await controlPolicy(x.peers),
    log: authLog,
  }); // guard
  const enginePort = await control.start(await x.port("engine control API", DEFAULT_ENGINE_PORT), host);
  cleanups.push({ name: "engine control API", fn: () => control.stop() });
  const http = new QuoterHttpServer(quoter, { auth: x.control.auth, log: authLog }); // guard
  const httpPort = await http.start(await x.port("engine HTTP", DEFAULT_HTTP_PORT), host);
  cleanups.push({ name: "engine HTTP", fn: () => http.stop() });
  x.registry.register("engine", `${host}:${enginePort}`);
  return { quoter, enginePort, httpPort };
}
