// Risk limits: all configuration, validated with zod, with the defaults of the trading desk.
// Limits are numbers: the risk engine only compares; exact decimals stay in accounting.
import * as z from "zod";
import { zodToFieldError } from "../instruments";

/** Accepts a finite number or a decimal string (configuration often arrives as strings). */
const num = z
  .union([z.number(), z.string().regex(/^-?\d+(\.\d+)?$/, "must be a decimal number")])
  .transform((v, ctx) => {
    const n = typeof v === "number" ? v : Number(v);
    if (!Number.isFinite(n)) {
      ctx.addIssue({ code: "custom", message: "must be finite" });
      return z.NEVER;
    }
    return n;
  });
const nonNeg = num.refine((n) => n >= 0, "must be >= 0");
const pos = num.refine((n) => n > 0, "must be > 0");
const fraction = num.refine((n) => n > 0 && n < 1, "must be a fraction in (0, 1)");

export const InstrumentLimitsSchema = z
  .object({
    /** Max quantity of one order (base units). */
    maxOrderQty: pos,
    /** Max net long position across strategies (base units). */
    maxLong: nonNeg,
    /** Max net short position across strategies, as a positive number (5 means −5). */
    maxShort: nonNeg,
  })
  .strict();
export type InstrumentLimits = z.output<typeof InstrumentLimitsSchema>;

export const CircuitBreakerSchema = z
  .object({
    /** Portfolio equity down this fraction from session start → HALTED (global). */
    portfolioLossPct: fraction.default(0.1),
    /** A strategy's net PnL at or below −this (quote ccy) → that strategy HALTED. */
    strategyLoss: pos.default(50_000),
    /** Equity down this fraction from its max within the window → HALTED (global). */
    rapidLossPct: fraction.default(0.05),
    rapidLossWindowMs: pos.default(10 * 60_000),
    /** This many rate-limit denials for one strategy within one second → that strategy HALTED. */
    rateLimitBreachesToHalt: z.number().int().positive().default(10),
  })
  .strict();

export const RiskLimitsSchema = z
  .object({
    /** Per-instrument limits; an order for a symbol not listed is denied (rule unknown-instrument). */
    instruments: z.record(z.string(), InstrumentLimitsSchema).default({
      "BTC-USD": { maxOrderQty: 5, maxLong: 10, maxShort: 5 },
      "ETH-USD": { maxOrderQty: 100, maxLong: 200, maxShort: 100 },
    }),
    /** Max notional of one order (quote ccy). */
    maxOrderNotional: pos.default(500_000),
    /** Max gross notional per strategy after the order. */
    maxStrategyNotional: pos.default(1_000_000),
    /** Max gross notional of the whole portfolio after the order. */
    maxPortfolioNotional: pos.default(5_000_000),
    /** Daily PnL floor (negative, quote ccy): below it only risk-reducing orders pass. */
    dailyLossLimit: num.refine((n) => n < 0, "must be < 0").default(-100_000),
    /** Max drawdown from peak equity (fraction): beyond it only risk-reducing orders pass. */
    maxDrawdownPct: fraction.default(0.15),
    /** Orders per strategy per rolling second (cancels are not counted). */
    maxOrdersPerSecond: z.number().int().positive().default(20),
    /** A limit price must be within this fraction of mid. */
    priceBandPct: fraction.default(0.05),
    /** When true a SELL needs base-asset balance (spot, no shorting). Default false: shorts are bounded by maxShort. */
    requireBaseForSells: z.boolean().default(false),
    /** Start of the trading day (UTC "HH:MM"): the daily-loss window resets here. */
    dailyResetUtc: z
      .string()
      .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a UTC time "HH:MM"')
      .default("00:00"),
    circuitBreakers: CircuitBreakerSchema.default({
      portfolioLossPct: 0.1,
      strategyLoss: 50_000,
      rapidLossPct: 0.05,
      rapidLossWindowMs: 600_000,
      rateLimitBreachesToHalt: 10,
    }),
  })
  .strict();

export type RiskLimitsInput = z.input<typeof RiskLimitsSchema>;
export type RiskLimits = z.output<typeof RiskLimitsSchema>;

/** Parse limits from configuration; throws InvalidFieldError naming the bad key and value. */
export function parseRiskLimits(input: unknown = {}): RiskLimits {
  const r = RiskLimitsSchema.safeParse(input ?? {});
  if (!r.success) throw zodToFieldError("riskLimits", input, r.error);
  return r.data;
}

export const DEFAULT_RISK_LIMITS: RiskLimits = parseRiskLimits({});
