// `tse config validate <file>`: the configuration seed (config/defaults.yaml format) checked with zod.
// `environments.<env>.<nested keys>`; a leaf may be wrapped as `{ type, value }` (the config simulator's forced
// type). Known sections are strict, so a typo'd key is an error naming its path; unknown sections are allowed
// (other services read their own keys from the same store). Errors name the field path and the value.
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import * as z from "zod";
import { InstrumentConfigSchema, VenueConfigSchema } from "../domain/instruments";
import { ConfigStore } from "./ConfigStore";

/** Unwrap `{ type, value }` so the schemas see the value itself (a json-typed string is parsed). */
export function unwrapTyped(v: unknown): unknown {
  if (v !== null && typeof v === "object" && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 2 && "type" in o && "value" in o && typeof o.type === "string") {
      if (o.type === "json" && typeof o.value === "string") {
        try {
          return JSON.parse(o.value);
        } catch {
          return o.value;
        }
      }
      return o.value;
    }
  }
  return v;
}

const typed = <T extends z.ZodType>(s: T) => z.preprocess(unwrapTyped, s);

const DECIMAL_RE = /^-?\d+(\.\d+)?$/;
const decimalOf = (opts: { positive?: boolean; nonNegative?: boolean } = {}) =>
  typed(
    z.union([z.number(), z.string()]).superRefine((v, ctx) => {
      const s = String(v).trim();
      if (typeof v === "number" ? !Number.isFinite(v) : !DECIMAL_RE.test(s)) {
        ctx.addIssue({ code: "custom", message: "expected a decimal number" });
        return;
      }
      const n = Number(s);
      if (opts.positive && !(n > 0)) ctx.addIssue({ code: "custom", message: "must be > 0" });
      if (opts.nonNegative && !(n >= 0)) ctx.addIssue({ code: "custom", message: "must be >= 0" });
    }),
  );
const positive = decimalOf({ positive: true });
const nonNegative = decimalOf({ nonNegative: true });
const posInt = typed(z.number().int().positive());
const nonNegInt = typed(z.number().int().nonnegative());
const symbol = z.string().regex(/^[A-Z0-9]+-[A-Z0-9]+$/, "symbol must look like BASE-QUOTE, e.g. BTC-USD");
const venue = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "venue must be kebab-case, e.g. venue-a");
const symbols = typed(z.array(symbol).min(1));
const venues = typed(z.array(venue).min(1));
const bps = typed(z.number().nonnegative().max(10_000));

const RiskLimitsSchema = z
  .object({
    max_position_size: positive,
    max_order_size: positive,
    max_notional: positive,
    max_daily_loss: positive,
    max_drawdown: positive,
    max_open_orders: posInt,
  })
  .partial()
  .strict();

const MarketMakingSchema = typed(
  z
    .object({
      symbols,
      venues,
      spread_bps: bps,
      min_spread_bps: bps,
      quote_size: positive,
      max_inventory: positive,
      inventory_skew_bps: bps,
      level_spacing_bps: bps,
      refresh_tolerance_bps: bps,
      denial_backoff_ms: nonNegInt,
      refresh_ms: posInt,
      levels: posInt,
    })
    .partial()
    .strict(),
);

const ArbitrageSchema = typed(
  z
    .object({
      symbols,
      venues: typed(z.array(venue).min(2, "arbitrage needs at least two venues")),
      min_edge_bps: bps,
      max_size: positive,
      min_size: nonNegative,
      cooldown_ms: nonNegInt,
      signal_ttl_ms: posInt,
    })
    .partial()
    .strict(),
);

const EnvironmentSchema = z
  .object({
    trading: z
      .object({
        enabled: typed(z.boolean()),
        position_limits: z.object({ max_size: positive, max_notional: positive }).partial().strict(),
        max_order_size: positive,
        symbols,
        venues,
      })
      .partial()
      .strict(),
    risk: z
      .object({
        limits: RiskLimitsSchema,
        alert_thresholds: typed(
          z.object({ low: z.number(), medium: z.number(), high: z.number(), critical: z.number() }).strict(),
        ),
        fail_closed: typed(z.boolean()),
        /** The engine's own risk limits (domain keys, lib/domain/risk/limits.ts): quoter, functions, backtester. */
        engine_limits: typed(z.record(z.string(), z.unknown())),
        /** SetRiskLimits raises no limit above these (the quoter's control API). */
        hard_caps: typed(
          z
            .object({
              max_position_size: positive,
              max_order_size: positive,
              max_notional: positive,
              max_daily_loss: positive,
              max_drawdown: typed(z.number().positive().max(1)),
              max_open_orders: posInt,
            })
            .partial()
            .strict(),
        ),
      })
      .partial()
      .strict(),
    engine: z
      .object({
        chaos_strategies: z
          .object({ enabled: typed(z.boolean()) })
          .partial()
          .strict(),
      })
      .partial()
      .strict(),
    strategies: z
      .object({ market_making: MarketMakingSchema, arbitrage: ArbitrageSchema })
      .partial()
      // Other strategies may carry their own keys.
      .catchall(z.unknown()),
    exchange: z.object({ maker_fee: decimalOf(), taker_fee: nonNegative }).partial().strict(),
    market_data: z.object({ update_interval_ms: posInt }).partial().strict(),
    config: z.object({ cache_ttl_ms: posInt }).partial().strict(),
    /** What only `tse backtest` reads. */
    backtest: z
      .object({
        strategy_id: typed(z.string().min(1)),
        initial_cash: typed(z.record(z.string(), z.union([z.string(), z.number()]))),
        equity_sample_ms: posInt,
        timer_ms: posInt,
        // Shapes are checked by the backtester's own schemas (lib/backtest/runBacktestFile.ts), naming the key.
        fill_model: typed(z.record(z.string(), z.unknown())),
        latency: typed(z.record(z.string(), z.unknown())),
        throttle: typed(z.boolean()),
        valuation: typed(z.record(z.string(), z.unknown())),
        data_quality: typed(z.record(z.string(), z.unknown())),
      })
      .partial()
      .strict(),
  })
  .partial()
  .catchall(z.unknown());

export const ConfigFileSchema = z
  .object({
    environments: z.record(
      z.string().regex(/^[A-Za-z0-9_-]+$/, "environment names are [A-Za-z0-9_-]+"),
      EnvironmentSchema.nullable(),
    ),
    instruments: z.array(InstrumentConfigSchema).optional(),
    venues: z.array(VenueConfigSchema).optional(),
    /** Strategy plug-in files (relative to this file) loaded before anything reads `strategies`. */
    strategyModules: z.array(z.string().min(1)).optional(),
  })
  .strict();

export class ConfigValidationError extends Error {
  override name = "ConfigValidationError";
  constructor(
    readonly file: string,
    readonly field: string,
    readonly value: unknown,
    readonly reason: string,
  ) {
    super(`${file}: ${field}=${fmtValue(value)}: ${reason}`);
  }
}

function fmtValue(v: unknown): string {
  if (v === undefined) return "(missing)";
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 64 ? `${s.slice(0, 61)}...` : s;
}

function valueAt(doc: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = doc;
  for (const k of path) {
    cur = unwrapTyped(cur); // paths run through `{ type, value }` wrappers
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return cur;
}

export interface ConfigSummary {
  file: string;
  environments: string[];
  /** Flattened keys per environment as the configuration service will serve them. */
  keys: number;
}

/** Parse + validate; throws ConfigValidationError (first problem) naming the path and the value. */
export function validateConfigDocument(doc: unknown, file = "config"): ConfigSummary {
  const r = ConfigFileSchema.safeParse(doc);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const path = issue.path.map(String);
    let value = valueAt(doc, issue.path);
    let reason = issue.message;
    if (issue.code === "unrecognized_keys") {
      const k = (issue as { keys: string[] }).keys[0] ?? "";
      path.push(k);
      value = valueAt(doc, [...issue.path, k]);
      reason = "unknown key";
    }
    throw new ConfigValidationError(file, path.join(".") || "(root)", value, reason);
  }
  // The configuration simulator's own loader (type inference, forced types) must accept it too.
  const store = new ConfigStore();
  try {
    store.load(doc, file);
  } catch (e) {
    throw new ConfigValidationError(file, "(document)", undefined, e instanceof Error ? e.message : String(e));
  }
  const envs = Object.keys(r.data.environments);
  let keys = 0;
  for (const env of envs) keys += store.list("", env).length;
  return { file, environments: envs, keys };
}

/** Read and parse a YAML or JSON file; errors name the file. */
export function readConfigDocument(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigValidationError(path, "file", path, code === "ENOENT" ? "no such file" : String(e));
  }
  try {
    return path.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    const kind = path.endsWith(".json") ? "JSON" : "YAML";
    throw new ConfigValidationError(path, "file", path, `not valid ${kind}: ${(e as Error).message.split("\n")[0]}`);
  }
}

export async function validateConfigFile(path: string): Promise<ConfigSummary> {
  return validateConfigDocument(readConfigDocument(path), path);
}
