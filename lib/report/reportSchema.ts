// The performance report written by a backtest (`<out>/report.json`) and by a live session on exit.
// One schema for both, so the HTML renderer and `tse report` read either. Keep it stable: add optional
// fields only. Money/prices/quantities are exact decimal strings; ratios are plain numbers (null when
// undefined, e.g. Sharpe of a flat equity curve — JSON has no Infinity/NaN).
import { z } from "zod";

export const REPORT_SCHEMA_VERSION = 1 as const;

/** Exact decimal string, e.g. "-12.5", "0", "30000.01". No exponent, no float noise. */
export const DecimalStringSchema = z
  .string()
  .regex(/^-?\d+(\.\d+)?$/, { message: "expected a decimal string like -12.50" });

/** ISO-8601 UTC timestamp, e.g. 2026-01-01T00:00:00.000Z. */
export const IsoTimestampSchema = z.string().datetime({ offset: true });

const Ratio = z.number().finite().nullable();

export const ReportTradeSchema = z.object({
  ts: IsoTimestampSchema,
  venue: z.string().min(1),
  symbol: z.string().min(1),
  side: z.enum(["BUY", "SELL"]),
  qty: DecimalStringSchema,
  price: DecimalStringSchema,
  /** Fee paid in the quote currency (negative = rebate). */
  fee: DecimalStringSchema,
  strategyId: z.string().optional(),
  liquidity: z.enum(["MAKER", "TAKER"]).optional(),
  orderId: z.string().optional(),
  /** Realized PnL booked by this fill (before fees). */
  realizedPnl: DecimalStringSchema.optional(),
});

export const EquityPointSchema = z.object({ ts: IsoTimestampSchema, equity: DecimalStringSchema });

export const PositionPointSchema = z.object({
  ts: IsoTimestampSchema,
  symbol: z.string().min(1),
  /** Signed net quantity across strategies/venues (negative = short). */
  quantity: DecimalStringSchema,
});

export const DrawdownPointSchema = z.object({
  ts: IsoTimestampSchema,
  /** Distance below the running equity peak, money, >= 0. */
  drawdown: DecimalStringSchema,
  /** Same, in percent of the peak (12.5 = 12.5 %). */
  drawdownPct: z.number().finite(),
});

export const ReportMetricsSchema = z.object({
  totalPnl: DecimalStringSchema,
  realizedPnl: DecimalStringSchema,
  unrealizedPnl: DecimalStringSchema,
  fees: DecimalStringSchema,
  /** Annualised; see sharpeConvention for exactly how. */
  sharpe: Ratio,
  sharpeConvention: z.string().min(1),
  sortino: Ratio,
  /** Largest peak-to-trough fall of equity, money, >= 0. */
  maxDrawdown: DecimalStringSchema,
  /** Same, percent of the peak (12.5 = 12.5 %). */
  maxDrawdownPct: z.number().finite(),
  /** Annualised return / max drawdown fraction. */
  calmar: Ratio,
  /** Fraction of closing trades with positive realized PnL (0..1). */
  winRate: Ratio,
  /** Gross profit / gross loss over closing trades. */
  profitFactor: Ratio,
  /** Mean net PnL per closing trade, money. */
  expectancy: DecimalStringSchema,
  tradeCount: z.number().int().nonnegative(),
  /** Sum of |qty × price| over all fills, money. */
  turnover: DecimalStringSchema,
  startingEquity: DecimalStringSchema.optional(),
  endingEquity: DecimalStringSchema.optional(),
});

export const ReportMetaSchema = z.object({
  runId: z.string().min(1),
  mode: z.enum(["backtest", "embedded", "localstack", "aws"]),
  seed: z.number().int().optional(),
  scenario: z.string().optional(),
  /** Input file for a backtest. */
  dataFile: z.string().optional(),
  ticks: z.number().int().nonnegative().optional(),
  generatedAt: IsoTimestampSchema.optional(),
});

/** Denials counted by rule name. */
export const DenialCountsSchema = z.record(z.string(), z.number().int().nonnegative());
/** A session's denials, by the path that denied: the quoter's engine, or order-placement (the functions). */
export const DenialsByPathSchema = z.object({ quoter: DenialCountsSchema, functions: DenialCountsSchema }).strict();

export const ReportRiskSchema = z.object({
  finalState: z.enum(["ACTIVE", "REDUCING", "HALTED"]),
  /** By rule name (a backtest), or by path then rule name (a session). */
  denials: z.union([DenialsByPathSchema, DenialCountsSchema]),
  events: z.array(z.object({ ts: IsoTimestampSchema, kind: z.string(), message: z.string() })).optional(),
});

export const ReportSchema = z.object({
  schemaVersion: z.literal(REPORT_SCHEMA_VERSION).default(REPORT_SCHEMA_VERSION),
  /** Strategy name(s), e.g. "market-making" or "market-making,arbitrage". */
  strategy: z.string().min(1),
  startedAt: IsoTimestampSchema,
  endedAt: IsoTimestampSchema,
  meta: ReportMetaSchema.optional(),
  config: z.record(z.string(), z.unknown()).optional(),
  trades: z.array(ReportTradeSchema),
  equityCurve: z.array(EquityPointSchema),
  positionCurve: z.array(PositionPointSchema).optional(),
  drawdownCurve: z.array(DrawdownPointSchema).optional(),
  metrics: ReportMetricsSchema,
  risk: ReportRiskSchema.optional(),
});

export type Report = z.infer<typeof ReportSchema>;
export type DenialCounts = z.infer<typeof DenialCountsSchema>;
export type DenialsByPath = z.infer<typeof DenialsByPathSchema>;

/** Denials as [path, rule, count] rows (path "" for a report counted by rule only), most first within a path. */
export function denialRows(denials: DenialCounts | DenialsByPath): [string, string, number][] {
  const split = DenialsByPathSchema.safeParse(denials);
  const groups: [string, DenialCounts][] = split.success
    ? [
        ["quoter", split.data.quoter],
        ["functions", split.data.functions],
      ]
    : [["", denials as DenialCounts]];
  return groups.flatMap(([path, counts]) =>
    Object.entries(counts)
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .map(([rule, n]) => [path, rule, n] as [string, string, number]),
  );
}
export type ReportTrade = z.infer<typeof ReportTradeSchema>;
export type ReportMetrics = z.infer<typeof ReportMetricsSchema>;
export type EquityPoint = z.infer<typeof EquityPointSchema>;
export type PositionPoint = z.infer<typeof PositionPointSchema>;
export type DrawdownPoint = z.infer<typeof DrawdownPointSchema>;
export type ReportMeta = z.infer<typeof ReportMetaSchema>;

/** Parse (and validate) a report; throws a ZodError naming the failing path. */
export function parseReport(raw: unknown): Report {
  return ReportSchema.parse(raw);
}
