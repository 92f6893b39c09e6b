// Options of `tse start` (the local session), validated in one place: a bad value is one error naming the
// option and the value.

import { listStrategies } from "../lib/domain/strategies/registry";
import { validateEndpoint } from "../lib/grpc/discovery";
import { SCENARIO_NAMES } from "../sim/market-data/MarketSimulation";

export type SessionMode = "embedded" | "localstack";

export const DEFAULT_STRATEGIES = ["market-making", "arbitrage"] as const;

/** Strategies the quoter runs (registered domain strategies); "arbitrage" runs serverless (signal function). */
export const SERVERLESS_STRATEGIES = new Set(["arbitrage"]);

export interface SessionOptions {
  mode: SessionMode;
  /** Seconds; undefined = until stopped (Ctrl-C). */
  durationS?: number;
  scenario: string;
  seed: number;
  strategies: string[];
  /** Report directory; default reports/<run-id>. */
  outDir?: string;
  /** An external market-data service (upstream contract) instead of our simulator. */
  marketData?: ExternalMarketData;
}

export interface ExternalMarketData {
  endpoint: string;
  /** Half-spread of the L1 synthesized around a price-only feed's price, bps. */
  halfSpreadBps: number;
}

export const DEFAULT_SYNTHETIC_HALF_SPREAD_BPS = 5;

export class SessionOptionError extends Error {
  override name = "SessionOptionError";
  constructor(
    readonly option: string,
    readonly value: unknown,
    reason: string,
  ) {
    super(`invalid ${option} ${JSON.stringify(value)}: ${reason}`);
  }
}

export interface RawSessionFlags {
  duration?: string;
  scenario?: string;
  seed?: string;
  strategy?: string[];
  aws?: string;
  out?: string;
  marketData?: string;
  syntheticHalfSpreadBps?: string;
}

export function parseSessionFlags(f: RawSessionFlags): SessionOptions {
  let durationS: number | undefined;
  if (f.duration !== undefined) {
    const n = Number(f.duration);
    if (f.duration.trim() === "" || !Number.isFinite(n) || n <= 0 || n > 7 * 24 * 3600)
      throw new SessionOptionError("--duration", f.duration, "expected seconds > 0 (e.g. 60)");
    durationS = n;
  }
  const scenario = (f.scenario ?? "DIVERGENCE").toUpperCase();
  if (!SCENARIO_NAMES.includes(scenario))
    throw new SessionOptionError("--scenario", f.scenario, `expected one of ${SCENARIO_NAMES.join(", ")}`);
  let seed = 1;
  if (f.seed !== undefined) {
    const n = Number(f.seed);
    if (f.seed.trim() === "" || !Number.isInteger(n) || n < 0 || n > 2 ** 32 - 1)
      throw new SessionOptionError("--seed", f.seed, "expected an integer 0..4294967295");
    seed = n;
  }
  const known = new Map(listStrategies().map((s) => [s.name, s]));
  const strategies: string[] = [];
  for (const raw of f.strategy ?? []) {
    const name = raw.trim().replace(/_/g, "-");
    if (!known.has(name))
      throw new SessionOptionError("--strategy", raw, `unknown strategy; one of ${[...known.keys()].join(", ")}`);
    if (!strategies.includes(name)) strategies.push(name);
  }
  let mode: SessionMode = "embedded";
  if (f.aws !== undefined) {
    if (f.aws !== "local") throw new SessionOptionError("--aws", f.aws, 'expected "local" (LocalStack state and bus)');
    mode = "localstack";
  }
  if (f.out !== undefined && f.out.trim() === "") throw new SessionOptionError("--out", f.out, "expected a directory");
  let marketData: ExternalMarketData | undefined;
  if (f.marketData !== undefined) {
    try {
      validateEndpoint(f.marketData, "--market-data");
    } catch {
      throw new SessionOptionError("--market-data", f.marketData, "expected HOST:PORT");
    }
    const h = Number(f.syntheticHalfSpreadBps ?? DEFAULT_SYNTHETIC_HALF_SPREAD_BPS);
    if (!Number.isFinite(h) || h <= 0 || h > 1_000)
      throw new SessionOptionError(
        "--synthetic-half-spread-bps",
        f.syntheticHalfSpreadBps,
        "expected bps > 0 and <= 1000",
      );
    marketData = { endpoint: f.marketData.trim(), halfSpreadBps: h };
  } else if (f.syntheticHalfSpreadBps !== undefined) {
    throw new SessionOptionError("--synthetic-half-spread-bps", f.syntheticHalfSpreadBps, "only with --market-data");
  }
  return {
    mode,
    ...(durationS !== undefined ? { durationS } : {}),
    scenario,
    seed,
    strategies: strategies.length > 0 ? strategies : [...DEFAULT_STRATEGIES],
    ...(f.out !== undefined ? { outDir: f.out } : {}),
    ...(marketData ? { marketData } : {}),
  };
}
