// Engine settings the functions read: defaults here, overridden by the configuration service (cached by the
// config client: TTL + last-known-good) and, for a few deployment knobs, by environment variables.
import * as z from "zod";
import { InvalidFieldError } from "../domain/errors";
import { zodToFieldError } from "../domain/instruments";
import type { RiskLimitsInput } from "../domain/risk/limits";

const Decimalish = z.union([z.string(), z.number()]).transform((v) => String(v));

export const EngineSettingsSchema = z.object({
  /** Strategy id the serverless arbitrage signals are booked under. */
  strategyId: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,64}$/)
    .default("arb-1"),
  /** Signal strategies the signal function runs (only "arbitrage" is serverless today). */
  signalStrategies: z.array(z.enum(["arbitrage"])).default(["arbitrage"]),
  arbitrage: z
    .object({
      symbols: z.array(z.string()).default(["BTC-USD", "ETH-USD"]),
      venues: z.array(z.string()).default(["venue-a", "venue-b"]),
      /** Net edge after both taker fees needed to trade, bps. */
      minSpreadBps: z.number().nonnegative().default(10),
      /** Cap per signal, base units. */
      maxQuantity: Decimalish.default("0.05"),
      /** At most one signal per symbol per window of this many ms (snapshot time). 0 = off. */
      cooldownMs: z.number().int().nonnegative().default(1000),
      /** A signal is not acted on after this long (ms after the snapshot it came from). */
      signalTtlMs: z.number().int().positive().default(5000),
    })
    .prefault({}),
  /** Snapshots older than this are ignored by the signal strategies. */
  snapshotMaxAgeMs: z.number().int().positive().default(5000),
  /** Domain risk limits (lib/domain/risk/limits.ts keys). */
  riskLimits: z.record(z.string(), z.unknown()).default({}),
  /** Quote balance the domain risk engine assumes available for buys (no balance feed in the functions). */
  availableQuote: Decimalish.default("1000000"),
  /** Settlement at the custodian, reconciliation and buying power (lib/app/settlement.ts, lib/app/buyingPower.ts). */
  settlement: z
    .object({
      /** T+n: business days until a fill settles (the custodian compresses a day locally). */
      cycleDays: z.number().int().min(0).max(3).default(1),
      /** Where the balance rule's available quote comes from: the custodian (cached, fail-closed) or `availableQuote`. */
      balanceSource: z.enum(["settings", "custodian"]).default("settings"),
      /** How long a custodian balance answer is reused, ms. */
      balanceTtlMs: z.number().int().positive().max(60_000).default(1_000),
      /** The accounts' opening balances: account (venue) → currency → amount. The engine's books start here. */
      openingBalances: z.record(z.string(), z.record(z.string(), Decimalish)).default({}),
      /** A break larger than this (in the currency's units) raises a RiskAlert. */
      tolerance: Decimalish.default("0.00000001"),
      /** Per-currency tolerance over `tolerance`. */
      toleranceByCurrency: z.record(z.string(), Decimalish).default({}),
      /** Fills traded within this long before a run are in flight: left for the next run. */
      reconcileGraceMs: z.number().int().nonnegative().default(5_000),
      /** A break beyond tolerance also sets the engine REDUCING (only risk-reducing orders). */
      reducingOnBreak: z.boolean().default(false),
    })
    .prefault({}),
  reporting: z
    .object({
      /** A PositionChanged within this long of the last report is skipped (the schedule reports the final state). */
      debounceMs: z.number().int().nonnegative().default(10_000),
      /** Equity-curve sampling period used to annualise Sharpe/Sortino. */
      periodMs: z.number().int().positive().default(60_000),
      /** Equity the report counts PnL from. */
      startingEquity: Decimalish.default("1000000"),
    })
    .prefault({}),
});
export type EngineSettings = z.output<typeof EngineSettingsSchema>;
export type EngineSettingsInput = z.input<typeof EngineSettingsSchema>;

export function parseEngineSettings(input: unknown = {}): EngineSettings {
  const r = EngineSettingsSchema.safeParse(input);
  if (!r.success) throw zodToFieldError("settings", input, r.error);
  return r.data;
}

export const DEFAULT_ENGINE_SETTINGS: EngineSettings = parseEngineSettings({});

/** Where the functions get their settings (cached by the implementation). */
export interface SettingsSource {
  get(): Promise<EngineSettings>;
}

export class StaticSettingsSource implements SettingsSource {
  readonly settings: EngineSettings;
  constructor(input: EngineSettingsInput | EngineSettings = {}) {
    this.settings = parseEngineSettings(input);
  }
  async get(): Promise<EngineSettings> {
    return this.settings;
  }
}

/** Settings loaded once (from a value or a loader, e.g. the environment and SSM); a failed load is retried. */
export class LoadedSettingsSource implements SettingsSource {
  private value: Promise<EngineSettings> | undefined;
  constructor(private readonly input: EngineSettingsInput | (() => Promise<EngineSettingsInput>)) {}
  get(): Promise<EngineSettings> {
    const i = this.input;
    this.value ??= (typeof i === "function" ? i() : Promise.resolve(i)).then(parseEngineSettings).catch((e) => {
      this.value = undefined;
      throw e;
    });
    return this.value;
  }
}

/** The subset of ConfigurationServiceClient used here (so tests may pass the real client or a static map). */
export interface ConfigReader {
  getJson<T = unknown>(key: string, schema?: z.ZodType<T>, fallback?: T): Promise<T>;
  getNumber(key: string, fallback?: number): Promise<number>;
  getString(key: string, fallback?: string): Promise<string>;
}

/** Configuration keys read from the configuration service (all optional; defaults above). */
export const CONFIG_KEYS = {
  arbitrage: "strategies.arbitrage",
  snapshotMaxAgeMs: "signal.snapshot_max_age_ms",
  riskLimits: "risk.engine_limits",
  reportingDebounceMs: "reporting.debounce_ms",
  reportingPeriodMs: "reporting.period_ms",
  strategyId: "strategies.arbitrage_id",
} as const;

/**
 * Settings from the configuration service over the defaults. The config client caches each key (TTL) and
 * serves last-known-good when the service is down; a key the service does not have keeps its default.
 * The config seed names arbitrage keys in snake_case (min_edge_bps, max_size); both spellings are accepted.
 */
export class ConfigServiceSettingsSource implements SettingsSource {
  private baseValue: Promise<EngineSettingsInput> | undefined;

  /** `base`: the defaults under the service's values, or a loader for them (e.g. the SSM parameter; loaded once). */
  constructor(
    private readonly reader: ConfigReader,
    private readonly baseInput: EngineSettingsInput | (() => Promise<EngineSettingsInput>) = {},
  ) {}

  private get baseSettings(): Promise<EngineSettingsInput> {
    const b = this.baseInput;
    this.baseValue ??= (typeof b === "function" ? b() : Promise.resolve(b)).catch((e) => {
      this.baseValue = undefined;
      throw e;
    });
    return this.baseValue;
  }

  async get(): Promise<EngineSettings> {
    const base = await this.baseSettings;
    const opt = async <T>(p: Promise<T>): Promise<T | undefined> => {
      try {
        return await p;
      } catch (e) {
        // Missing key (or no value known at all): keep the default. Bad values are typed errors: surface them.
        if (e instanceof Error && /NotFound|not found|no value/i.test(`${e.name} ${e.message}`)) return undefined;
        throw e;
      }
    };
    // Independent keys, read at once: a cache miss (or a key the service lacks, which is not cached) then costs
    // one round trip per invocation instead of one per key.
    const [arbRaw, maxAge, limits, debounce, period, strategyId] = await Promise.all([
      opt(this.reader.getJson<Record<string, unknown>>(CONFIG_KEYS.arbitrage, undefined, {})),
      opt(this.reader.getNumber(CONFIG_KEYS.snapshotMaxAgeMs, -1)),
      opt(this.reader.getJson<RiskLimitsInput>(CONFIG_KEYS.riskLimits, undefined, {})),
      opt(this.reader.getNumber(CONFIG_KEYS.reportingDebounceMs, -1)),
      opt(this.reader.getNumber(CONFIG_KEYS.reportingPeriodMs, -1)),
      opt(this.reader.getString(CONFIG_KEYS.strategyId, "")),
    ]);
    const arb = arbRaw ?? {};
    if (arb === null || typeof arb !== "object" || Array.isArray(arb))
      throw new InvalidFieldError(CONFIG_KEYS.arbitrage, arb, "must be a JSON object");
    const pick = (...names: string[]) => {
      for (const n of names) if (arb[n] !== undefined) return arb[n];
      return undefined;
    };
    const baseArb = (base.arbitrage ?? {}) as Record<string, unknown>;
    const arbitrage = Object.fromEntries(
      Object.entries({
        ...baseArb,
        symbols: pick("symbols") ?? baseArb.symbols,
        venues: pick("venues") ?? baseArb.venues,
        minSpreadBps: pick("minSpreadBps", "min_spread_bps", "min_edge_bps") ?? baseArb.minSpreadBps,
        maxQuantity: pick("maxQuantity", "max_quantity", "max_size") ?? baseArb.maxQuantity,
        cooldownMs: pick("cooldownMs", "cooldown_ms") ?? baseArb.cooldownMs,
        signalTtlMs: pick("signalTtlMs", "signal_ttl_ms") ?? baseArb.signalTtlMs,
      }).filter(([, v]) => v !== undefined),
    );
    const baseRep = (base.reporting ?? {}) as Record<string, unknown>;
    return parseEngineSettings({
      ...base,
      ...(strategyId ? { strategyId } : {}),
      arbitrage,
      ...(maxAge !== undefined && maxAge > 0 ? { snapshotMaxAgeMs: maxAge } : {}),
      ...(limits && Object.keys(limits).length > 0 ? { riskLimits: limits } : {}),
      reporting: {
        ...baseRep,
        ...(debounce !== undefined && debounce >= 0 ? { debounceMs: debounce } : {}),
        ...(period !== undefined && period > 0 ? { periodMs: period } : {}),
      },
    });
  }
}
