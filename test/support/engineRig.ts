// Simulators on loopback (port 0) + gRPC clients for function tests: exchange with a deterministic book and a
// fixed clock, risk monitor, configuration service seeded from config/defaults.yaml.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigServiceSettingsSource, type EngineSettingsInput } from "../../lib/app/settings";
import { ConfigStore } from "../../lib/config/ConfigStore";
import { createPeerClients, Discovery, type PeerClients } from "../../lib/grpc";
import { ConfigurationSimulator } from "../../sim/config/ConfigurationSimulator";
import { ExchangeSimulator } from "../../sim/exchange/ExchangeSimulator";
import { RiskMonitorSimulator } from "../../sim/risk/RiskMonitorSimulator";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export interface Book {
  venue: string;
  symbol: string;
  bid: string;
  ask: string;
  bidSize: string;
  askSize: string;
}

/** The BDD books: 25 bps between venue-a's ask and venue-b's bid (threshold 10 bps + 2 × 5 bps taker fees). */
export const WIDE_BOOKS: readonly Book[] = [
  { venue: "venue-a", symbol: "BTC-USD", bid: "63990", ask: "64000", bidSize: "1", askSize: "1" },
  { venue: "venue-b", symbol: "BTC-USD", bid: "64160", ask: "64170", bidSize: "1", askSize: "1" },
];

export interface EngineRig {
  exchange: ExchangeSimulator;
  risk: RiskMonitorSimulator;
  config: ConfigurationSimulator;
  peers: PeerClients;
  settings: ConfigServiceSettingsSource;
  setBooks(books: readonly Book[]): void;
  /** Orders the exchange accepted as new (duplicates by client order id excluded). */
  distinctOrders(): number;
  stop(): Promise<void>;
}

export async function startEngineRig(opts: {
  /** The exchange's clock: a fixed time, or a clock (a replay's virtual time). */
  now: number | (() => number);
  settings?: EngineSettingsInput;
  books?: readonly Book[];
}): Promise<EngineRig> {
  const now = opts.now;
  const exchange = new ExchangeSimulator({
    liquidity: false,
    now: typeof now === "function" ? now : () => now,
    quiet: true,
  });
  const store = ConfigStore.fromFile(path.join(ROOT, "config/defaults.yaml"));
  const config = new ConfigurationSimulator({ store, quiet: true });
  const risk = new RiskMonitorSimulator({ logLevel: "silent" } as never);
  await Promise.all([exchange.start(0), config.start(0), risk.start(0)]);
  const peers = createPeerClients({
    discovery: new Discovery({
      explicit: { exchange: exchange.address, "risk-monitor": risk.address, configuration: config.address },
    }),
    // Fail fast when a peer is down (the risk-down scenario), keep retries for flaps.
    retry: { maxAttempts: 2, initialDelayMs: 10, maxDelayMs: 50 },
    config: { environment: "default", ttlMs: 30_000 },
  });
  const rig: EngineRig = {
    exchange,
    risk,
    config,
    peers,
    settings: new ConfigServiceSettingsSource(peers.config, opts.settings ?? { arbitrage: { signalTtlMs: 600_000 } }),
    setBooks(books) {
      for (const b of books) exchange.engine.refreshLiquidity(b.venue, b.symbol, b.bid, b.ask, b.bidSize, b.askSize);
    },
    distinctOrders() {
      const c = exchange.engine.getCounters();
      return Number(c.ordersReceived) - Number(c.duplicateOrders);
    },
    async stop() {
      await peers.close();
      await Promise.allSettled([exchange.stop(), config.stop(), risk.stop()]);
      risk.dispose();
    },
  };
  rig.setBooks(opts.books ?? WIDE_BOOKS);
  return rig;
}
