// Real exchange + market-data simulators on loopback (port 0) and a Quoter wired to them through the real client
// layer. Shared by the quoter-*.test.ts files.
import { type ChildProcessByStdio, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import type { Order } from "../../gen/proto/tse/exchange/exchange";
import { ScenarioType } from "../../gen/proto/tse/marketdata/quotes";
import { GrpcExchange } from "../../lib/adapters/GrpcExchange";
import { GrpcMarketData } from "../../lib/adapters/GrpcMarketData";
import { ClientManager } from "../../lib/grpc/ClientManager";
import { Discovery } from "../../lib/grpc/discovery";
import { ExchangeClient } from "../../lib/grpc/ExchangeClient";
import { MarketDataClient } from "../../lib/grpc/MarketDataClient";
import { CERT_FILE, KEY_FILE, TOKEN_FILE } from "../../quoter/control/credentials";
import { Quoter, type QuoterOptions, type QuoterStrategySpec } from "../../quoter/Quoter";
import { ExchangeSimulator } from "../../sim/exchange/ExchangeSimulator";
import { MarketDataSimulator } from "../../sim/market-data/MarketDataSimulator";
import { MarketSimulation } from "../../sim/market-data/MarketSimulation";
import { testControlAuth } from "../support/controlAuth";

export const quietLog = { info() {}, warn() {}, debug() {}, error() {} };
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface Sims {
  market: MarketSimulation;
  exchange: ExchangeSimulator;
  marketData: MarketDataSimulator;
  exchangePort: number;
  marketDataPort: number;
  stop(): Promise<void>;
}

/** Exchange and market data on one MarketSimulation; `liquidity: false` = empty book (no fills). */
export async function startSims(
  opts: { liquidity?: boolean; scenario?: ScenarioType; seed?: number; tickMs?: number } = {},
): Promise<Sims> {
  const market = new MarketSimulation({
    seed: opts.seed ?? 3,
    startTimeMs: Date.now(),
    scenario: opts.scenario ?? ScenarioType.SCENARIO_UNSPECIFIED,
  });
  const exchange = new ExchangeSimulator({
    quiet: true,
    shutdownTimeoutMs: 300,
    liquidity: opts.liquidity === false ? false : market,
  });
  const marketData = new MarketDataSimulator({
    quiet: true,
    shutdownTimeoutMs: 300,
    simulation: market,
    tickMs: opts.tickMs ?? 20,
  });
  const exchangePort = await exchange.start(0);
  const marketDataPort = await marketData.start(0);
  return {
    market,
    exchange,
    marketData,
    exchangePort,
    marketDataPort,
    async stop() {
      await marketData.stop();
      await exchange.stop();
    },
  };
}

export interface QuoterRig {
  quoter: Quoter;
  manager: ClientManager;
  exchange: ExchangeClient;
  close(): Promise<void>;
}

export function mmStrategy(
  id: string,
  params: Record<string, unknown> = {},
  symbols = ["BTC-USD"],
): QuoterStrategySpec {
  return { id, type: "market-making", symbols, venues: ["venue-a"], params };
}

export function makeQuoter(
  sims: Sims,
  opts: Partial<QuoterOptions> & { strategies?: QuoterStrategySpec[] } = {},
): QuoterRig {
  const manager = new ClientManager({
    discovery: new Discovery({
      env: {
        TSE_EXCHANGE_ENDPOINT: `127.0.0.1:${sims.exchangePort}`,
        TSE_MARKET_DATA_ENDPOINT: `127.0.0.1:${sims.marketDataPort}`,
      },
    }),
    logger: quietLog,
    retry: { maxAttempts: 3, initialDelayMs: 20, maxDelayMs: 100 },
    breaker: { consecutiveFailures: 5, halfOpenAfterMs: 300 },
  });
  const exchange = new ExchangeClient(manager);
  const quoter = new Quoter({
    exchange: new GrpcExchange(exchange),
    marketData: new GrpcMarketData(new MarketDataClient(manager)),
    manager,
    symbols: ["BTC-USD"],
    venues: ["venue-a"],
    accountId: `acct-${Math.random().toString(36).slice(2, 8)}`,
    marketDataIntervalMs: 20,
    timerIntervalMs: 50,
    reconnect: { initialDelayMs: 50, maxDelayMs: 300 },
    logger: quietLog,
    ...opts,
  });
  return {
    quoter,
    manager,
    exchange,
    async close() {
      if (quoter.status().started) await quoter.stop(3_000);
      await manager.close();
    },
  };
}

/** Polls until `fn` returns a truthy value or the deadline passes (then throws with `what`). */
export async function waitFor<T>(
  what: string,
  fn: () => T | Promise<T>,
  timeoutMs = 5_000,
  everyMs = 25,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

export const SIDE_BUY = 1;
export const SIDE_SELL = 2;
export function bestOf(orders: Order[], side: number): number | undefined {
  const px = orders.filter((o) => o.side === side).map((o) => Number(o.price));
  if (px.length === 0) return undefined;
  return side === SIDE_BUY ? Math.max(...px) : Math.min(...px);
}

let controlDir: string | undefined;
/** The test control credentials (test/support/controlAuth.ts) as files, for the spawned process's --control-dir. */
export async function testControlDir(): Promise<string> {
  if (controlDir) return controlDir;
  const auth = await testControlAuth();
  const dir = mkdtempSync(join(tmpdir(), "tse-control-"));
  writeFileSync(join(dir, CERT_FILE), auth.tls.certPem);
  writeFileSync(join(dir, KEY_FILE), auth.tls.keyPem, { mode: 0o600 });
  writeFileSync(join(dir, TOKEN_FILE), `${auth.tokens[0]}\n`, { mode: 0o600 });
  controlDir = dir;
  return dir;
}

export interface QuoterProcess {
  child: ChildProcessByStdio<null, Readable, Readable>;
  grpcPort: number;
  httpPort: number;
  /** What the process wrote on stderr so far (for assertion messages). */
  stderr(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/**
 * Spawn the real `quoter/main.ts` process against the sims, with the environment's TSE_* overrides, and wait
 * for its one machine-readable "quoter-listening" line. Ports are ephemeral; bus and table are off unless set.
 */
export async function spawnQuoterProcess(
  sims: Sims,
  env: Record<string, string>,
  startTimeoutMs = 20_000,
): Promise<QuoterProcess> {
  const controlDir = await testControlDir();
  const child = spawn(process.execPath, ["--import", "tsx", "quoter/main.ts"], {
    cwd: process.cwd(),
    env: {
      ...process.env,
      TSE_EXCHANGE_ENDPOINT: `127.0.0.1:${sims.exchangePort}`,
      TSE_MARKET_DATA_ENDPOINT: `127.0.0.1:${sims.marketDataPort}`,
      TSE_QUOTER_GRPC_PORT: "0",
      TSE_QUOTER_HTTP_PORT: "0",
      TSE_LOG_LEVEL: "WARN",
      TSE_EVENT_BUS_NAME: "",
      TSE_TABLE_NAME: "",
      TSE_QUOTER_CONTROL_DIR: controlDir,
      // Its AWS requests (if TSE_AWS_REQUEST_LOG is set) are recorded as the quoter's (IAM evaluation).
      TSE_AWS_REQUEST_PRINCIPAL: "quoter",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += String(d)));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const listening = await new Promise<{ grpcPort: number; httpPort: number }>((resolve, reject) => {
    const t = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`quoter did not start: ${stderr}`));
    }, startTimeoutMs);
    createInterface({ input: child.stdout }).on("line", (line) => {
      if (line.includes('"quoter-listening"')) {
        clearTimeout(t);
        resolve(JSON.parse(line));
      }
    });
  });
  return { child, ...listening, stderr: () => stderr, exited };
}
