// Runner for the simulators: one, or all in one process (sharing the market simulation and the config store).
// `npm run sim -- <exchange|market-data|risk|config|coordinator|custodian|all> [--port N] [--seed N] [--scenario X] ...`
import { existsSync } from "node:fs";
import type { L1Quote } from "../gen/proto/tse/marketdata/quotes";
import { ConfigStore } from "../lib/config/ConfigStore";
import { startTracing, tracing } from "../lib/telemetry/tracing";
import { createJsonLogger, type LogLevel } from "./common/logger";
import type { SimServer } from "./common/SimServer";
import { WireLatencyRecorder } from "./common/WireLatencyRecorder";
import { ConfigurationSimulator, DEFAULT_CONFIG_FILE, DEFAULT_CONFIG_PORT } from "./config/ConfigurationSimulator";
import { DEFAULT_COORDINATOR_PORT, TestCoordinatorSimulator } from "./coordinator/TestCoordinatorSimulator";
import {
  CustodianSimulator,
  type CustodianSimulatorOptions,
  DEFAULT_CUSTODIAN_PORT,
} from "./custodian/CustodianSimulator";
import { DEFAULT_EXCHANGE_PORT, ExchangeSimulator, type LiquidityFeed } from "./exchange/ExchangeSimulator";
import { DEFAULT_MARKET_DATA_PORT, MarketDataSimulator } from "./market-data/MarketDataSimulator";
import { MarketSimulation, type PriceModel, parseScenario } from "./market-data/MarketSimulation";
import { DEFAULT_RISK_PORT, RiskMonitorSimulator } from "./risk/RiskMonitorSimulator";

export const SIMULATOR_NAMES = ["exchange", "market-data", "risk", "config", "coordinator", "custodian"] as const;
export type SimulatorName = (typeof SIMULATOR_NAMES)[number];

export const DEFAULT_PORTS: Readonly<Record<SimulatorName, number>> = {
  exchange: DEFAULT_EXCHANGE_PORT,
  "market-data": DEFAULT_MARKET_DATA_PORT,
  risk: DEFAULT_RISK_PORT,
  coordinator: DEFAULT_COORDINATOR_PORT,
  config: DEFAULT_CONFIG_PORT,
  custodian: DEFAULT_CUSTODIAN_PORT,
};

export interface SimulatorsOptions {
  /** Which to start (default: all). */
  only?: readonly SimulatorName[];
  host?: string;
  /** Per-simulator ports (0 = ephemeral); missing ones use DEFAULT_PORTS. */
  ports?: Partial<Record<SimulatorName, number>>;
  seed?: number;
  scenario?: string;
  model?: PriceModel;
  /** How often the shared market simulation advances, ms. */
  tickMs?: number;
  /** Wall ms per upstream StreamScenario update (each one simulated second). Default 1000. */
  scenarioPaceMs?: number;
  configFile?: string;
  environment?: string;
  /** Exchange without an in-process market-data simulator: follow this remote one (host:port). */
  marketDataAddress?: string;
  /** Exchange liquidity from this feed (e.g. a mirror of an external market-data service) instead of a simulation. */
  externalMarket?: LiquidityFeed & QuoteSource;
  /** Risk monitor without an in-process configuration service: watch this remote one (host:port). */
  configAddress?: string;
  chaos?: { latencyMs?: number; rejectionRate?: number; spreadMultiplier?: number };
  /** Custodian: opening balances, compressed business day, settlement chaos. */
  custodian?: Omit<CustodianSimulatorOptions, "logger" | "quiet">;
  quiet?: boolean;
  logLevel?: LogLevel;
}

export interface QuoteSource {
  quote(venue: string, symbol: string): L1Quote | undefined;
}

export interface RunningSimulators {
  servers: Partial<Record<SimulatorName, SimServer>>;
  ports: Partial<Record<SimulatorName, number>>;
  /** Addresses host:port, e.g. for discovery env vars. */
  addresses: Partial<Record<SimulatorName, string>>;
  market: MarketSimulation | undefined;
  /** Latest L1 per venue+symbol: the market simulation, or the external feed. */
  quotes: QuoteSource | undefined;
  config: ConfigStore | undefined;
  /** Tick-to-order latency (market-data and exchange in this process). */
  wire: WireLatencyRecorder | undefined;
  stop(): Promise<void>;
}

/** Start the requested simulators in this process. Throws (after stopping what started) if any fails to bind. */
export async function startSimulators(opts: SimulatorsOptions = {}): Promise<RunningSimulators> {
  const only = new Set(opts.only ?? SIMULATOR_NAMES);
  const host = opts.host ?? "127.0.0.1";
  const common = (name: string) => ({ logger: createJsonLogger(name, { quiet: opts.quiet, level: opts.logLevel }) });
  const seed = opts.seed ?? 1;
  const scenario = parseScenario(opts.scenario ?? "");

  const remoteMarket =
    (opts.marketDataAddress !== undefined || opts.externalMarket !== undefined) && !only.has("market-data");
  const needsMarket = only.has("market-data") || (only.has("exchange") && !remoteMarket);
  const market = needsMarket
    ? new MarketSimulation({ seed, scenario, model: opts.model, startTimeMs: Date.now() })
    : undefined;
  const needsConfig = only.has("config") || only.has("risk");
  const configFile = opts.configFile ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  const config = needsConfig ? (configFile ? ConfigStore.fromFile(configFile) : new ConfigStore()) : undefined;

  const wire = only.has("market-data") && only.has("exchange") ? new WireLatencyRecorder() : undefined;
  const servers: Partial<Record<SimulatorName, SimServer>> = {};
  if (only.has("market-data")) {
    servers["market-data"] = new MarketDataSimulator({
      ...common("market-data-sim"),
      seed,
      model: opts.model,
      simulation: market,
      tickMs: opts.tickMs,
      ...(opts.scenarioPaceMs !== undefined ? { scenarioPaceMs: opts.scenarioPaceMs } : {}),
      wire,
    });
  }
  if (only.has("exchange")) {
    const ex = new ExchangeSimulator({
      ...common("exchange-sim"),
      seed,
      liquidity: market ?? opts.externalMarket,
      marketDataAddress: remoteMarket ? opts.marketDataAddress : undefined,
      liquidityTickMs: opts.tickMs,
      chaos: opts.chaos,
      wire,
    });
    servers.exchange = ex;
  }
  if (only.has("risk")) {
    const remoteConfig = opts.configAddress !== undefined && !only.has("config");
    servers.risk = new RiskMonitorSimulator({
      ...common("risk-sim"),
      config,
      configAddress: remoteConfig ? opts.configAddress : undefined,
      environment: opts.environment,
    });
  }
  if (only.has("config")) {
    servers.config = new ConfigurationSimulator({
      ...common("config-sim"),
      store: config,
      environment: opts.environment,
    });
  }
  if (only.has("coordinator")) servers.coordinator = new TestCoordinatorSimulator(common("coordinator-sim"));
  if (only.has("custodian"))
    servers.custodian = new CustodianSimulator({ seed, ...opts.custodian, ...common("custodian-sim") });

  // The market advances on its own clock when the market-data server is absent (exchange alone).
  let ticker: NodeJS.Timeout | undefined;
  if (market && !servers["market-data"]) ticker = setInterval(() => market.advanceTo(Date.now()), opts.tickMs ?? 100);

  const ports: Partial<Record<SimulatorName, number>> = {};
  const addresses: Partial<Record<SimulatorName, string>> = {};
  const started: SimServer[] = [];
  const stop = async () => {
    if (ticker) clearInterval(ticker);
    await Promise.all(started.map((s) => s.stop()));
    if (servers.risk) (servers.risk as RiskMonitorSimulator).dispose();
  };
  try {
    for (const name of SIMULATOR_NAMES) {
      const s = servers[name];
      if (!s) continue;
      const port = await s.start(opts.ports?.[name] ?? DEFAULT_PORTS[name], host);
      started.push(s);
      ports[name] = port;
      addresses[name] = `${host}:${port}`;
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { servers, ports, addresses, market, quotes: market ?? opts.externalMarket, config, wire, stop };
}

/** Run until SIGTERM/SIGINT, then stop gracefully. */
export async function runSimulators(opts: SimulatorsOptions): Promise<RunningSimulators> {
  const log = createJsonLogger("sim", { quiet: opts.quiet, level: opts.logLevel });
  // One process, one service.name per simulator: each simulator's spans use tracerFor(`tse-sim-<name>`).
  const only = opts.only ?? SIMULATOR_NAMES;
  await startTracing(only.length === 1 ? `tse-sim-${only[0]}` : "tse-sim");
  const running = await startSimulators(opts);
  log.info("simulators ready", { ports: running.ports });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("shutting down", { signal });
    running
      .stop()
      .then(() => tracing().shutdown())
      .then(
        () => process.exit(0),
        (err: unknown) => {
          log.error("shutdown failed", { error: String(err) });
          process.exit(1);
        },
      );
  };
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGINT"));
  return running;
}
