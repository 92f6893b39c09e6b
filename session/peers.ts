// The session's peers: the simulators on loopback, the engine's control credentials, the gRPC clients to every
// peer, and what the configuration service says about the quoter's strategies and the control API's policy.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { strategyConfigFromSeed, strategySeedKey } from "../lib/config/engineConfig";
import { DEFAULT_INSTRUMENTS } from "../lib/domain/instruments";
import { createPeerClients, Discovery, type PeerClients, QuoteMirror, type StaticRegistry } from "../lib/grpc";
import { ConfigurationServiceClient } from "../lib/grpc/ConfigurationServiceClient";
import { engineChannelCredentials } from "../lib/grpc/EngineClient";
import type { SyntheticL1Options } from "../lib/grpc/MarketDataClient";
import { generateLocalControlCredentials, type LocalControlCredentials } from "../quoter/control/credentials";
import { type ControlPolicy, parseHardCaps } from "../quoter/control/hardCaps";
import type { QuoterStrategySpec } from "../quoter/Quoter";
import {
  type RunningSimulators,
  DEFAULT_PORTS as SIM_PORTS,
  SIMULATOR_NAMES,
  type SimulatorName,
  startSimulators,
} from "../sim/main";
import { SERVERLESS_STRATEGIES } from "./options";
import type { Cleanups } from "./shutdown";
import { type LocalSessionConfig, SYMBOLS, VENUES } from "./types";

/** L1 around a price-only feed's price, rounded to the instruments' ticks. */
function syntheticL1(halfSpreadBps: number): SyntheticL1Options {
  return {
    halfSpreadBps,
    size: "1",
    tickSizes: Object.fromEntries(DEFAULT_INSTRUMENTS.map((i) => [i.symbol, i.tickSize.toFixed()])),
  };
}

export interface PeersInput {
  cfg: LocalSessionConfig;
  host: string;
  runId: string;
  registry: StaticRegistry;
  cleanups: Cleanups;
  /** The port to listen on for a named part (0: ephemeral). */
  port: (name: string, preferred: number) => Promise<number>;
}

export interface Peers {
  sims: RunningSimulators;
  control: LocalControlCredentials;
  peers: PeerClients;
}

/** Simulators, then the control credentials and the clients to the peers (the engine registers itself later). */
export async function startPeers(x: PeersInput): Promise<Peers> {
  const { cfg, host, cleanups } = x;
  const ports: Partial<Record<SimulatorName, number>> = {};
  for (const n of SIMULATOR_NAMES) ports[n] = await x.port(`${n} simulator`, SIM_PORTS[n]);
  // With --market-data, our market-data simulator stays off; the exchange's liquidity mirrors the engine's feed.
  const external = cfg.marketData ? new QuoteMirror() : undefined;
  const sims = await startSimulators({
    host,
    ports,
    seed: cfg.seed,
    scenario: cfg.scenario,
    quiet: true,
    ...(cfg.tickMs ? { tickMs: cfg.tickMs } : {}),
    ...(cfg.configFile ? { configFile: cfg.configFile } : {}),
    ...(external ? { only: SIMULATOR_NAMES.filter((n) => n !== "market-data"), externalMarket: external } : {}),
  });
  cleanups.push({ name: "simulators", fn: () => sims.stop() });
  const a = sims.addresses;

  // guard: the engine's control API is TLS + bearer token, with a pair and token generated for this session.
  const control = await generateLocalControlCredentials(join(process.cwd(), ".cache", "sessions", x.runId));
  cleanups.push({ name: "control credentials", fn: () => rmSync(control.dir, { recursive: true, force: true }) });
  const peers = createPeerClients({
    serviceCredentials: {
      engine: engineChannelCredentials({ caPem: control.auth.tls.certPem, token: control.auth.tokens[0]! }),
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
      registry: x.registry,
    }),
    // The watch stream (started below) keeps cached keys current; the TTL only bounds a missed change.
    config: { environment: "default", ttlMs: 30_000 },
    ...(cfg.marketData ? { marketData: { priceOnlyFallback: syntheticL1(cfg.marketData.halfSpreadBps) } } : {}),
  });
  cleanups.push({ name: "gRPC clients", fn: () => peers.close() });
  peers.config.watch();
  if (external) cleanups.push({ name: "market-data mirror", fn: external.follow(peers.marketData) });
  return { sims, control, peers };
}

/**
 * The quoter's strategies from the names the user gave, each configured from the configuration service, and
 * every strategy id of the session (the serverless ones under `arbStrategyId`).
 */
export async function quoterStrategies(
  cfg: LocalSessionConfig,
  peers: PeerClients,
  arbStrategyId: string,
): Promise<{ specs: QuoterStrategySpec[]; strategyIds: string[] }> {
  const specs: QuoterStrategySpec[] = [];
  const strategyIds: string[] = [];
  let n = 0;
  for (const name of cfg.strategies) {
    if (SERVERLESS_STRATEGIES.has(name)) {
      strategyIds.push(arbStrategyId);
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
    const raw = await peers.config
      .getJson<Record<string, unknown>>(`strategies.${key}`, undefined, {})
      .catch(() => ({}) as Record<string, unknown>);
    if (Array.isArray(raw.symbols)) symbols = raw.symbols as string[];
    if (Array.isArray(raw.venues)) venues = raw.venues as string[];
    if (name !== "avellaneda-stoikov") params = strategyConfigFromSeed(name, raw);
    specs.push({ id, type: name, symbols, venues, params: { ...params, symbols, venues } });
    strategyIds.push(id);
  }
  return { specs, strategyIds };
}

/** guard: hard caps (risk.hard_caps) and the chaos switch (engine.chaos_strategies.enabled) of the local deployment. */
export async function controlPolicy(peers: PeerClients): Promise<ControlPolicy> {
  const local = new ConfigurationServiceClient(peers.manager, { environment: "local", ttlMs: 5_000 });
  try {
    return {
      hardCaps: parseHardCaps(await local.getJson<Record<string, unknown>>("risk.hard_caps", undefined, {})),
      chaosStrategies: await local.getBoolean("engine.chaos_strategies.enabled", false),
    };
  } finally {
    await local.close();
  }
}
