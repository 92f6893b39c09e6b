// The performance report written by a backtest (`<out>/report.json`) and by a live session on exit.
// One schema for both, so the HTML renderer and `tse report` read either. Keep it stable: add optional
// fields only. Money/prices/quantities are exact decimal strings; ratios are plain numbers (null when
// undefined, e.g. Sharpe of a flat equity curve — JSON has no Infinity/NaN).
import * as z from "zod";
import { FillModelConfigSchema } from "../backtest/engine/fills/fillModel";
import { LatencyDistSchema } from "../backtest/engine/latency";

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
  /** Realized PnL booked by this closing fill (before fees); null (or absent) for a fill that opened or increased. */
  realizedPnl: DecimalStringSchema.nullable().optional(),
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
  /** Annualised; see sharpeConvention for exactly how. Null on a sample under 1 day or 30 periods. */
  sharpe: Ratio,
  sharpeConvention: z.string().min(1),
  sortino: Ratio,
  /** Why sharpe, sortino and calmar are null (sample too short to annualise). */
  annualisedNullReason: z.string().min(1).optional(),
  /** The un-annualised Sharpe, with its number of periods and its standard error (Lo 2002, IID). */
  perPeriodSharpe: z
    .object({
      sharpe: Ratio,
      standardError: Ratio,
      periods: z.number().int().nonnegative(),
      /** Mean real spacing of the equity samples, ms. */
      meanPeriodMs: z.number().positive().nullable(),
    })
    .optional(),
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

/** Where a session's quotes came from; syntheticQuotes = L1 made up around a price-only feed's price. */
export const MarketDataSummarySchema = z.object({
  source: z.enum(["simulator", "external"]),
  endpoint: z.string(),
  /** The RPC the engine's feed read, e.g. marketdata.MarketDataService/StreamPrices. */
  method: z.string(),
  syntheticQuotes: z.boolean(),
  halfSpreadBps: z.number().positive().optional(),
  received: z.number().int().nonnegative(),
  malformed: z.number().int().nonnegative(),
  dropped: z.number().int().nonnegative(),
  reconnects: z.number().int().nonnegative(),
});
export type MarketDataSummary = z.infer<typeof MarketDataSummarySchema>;

export const ReportMetaSchema = z.object({
  runId: z.string().min(1),
  mode: z.enum(["backtest", "embedded", "localstack", "aws"]),
  seed: z.number().int().optional(),
  scenario: z.string().optional(),
  /** Input file for a backtest. */
  dataFile: z.string().optional(),
  ticks: z.number().int().nonnegative().optional(),
  marketData: MarketDataSummarySchema.optional(),
  /** Trade prints among the ticks (backtests with trades input). */
  tradePrints: z.number().int().nonnegative().optional(),
  /** Trades file of a backtest, when separate from dataFile. */
  tradesFile: z.string().optional(),
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
  /** Placements held back by the order-rate throttle before the risk engine. */
  throttled: z.number().int().nonnegative().optional(),
});

/** Feed / order-entry / ack latency of a backtest (ms, constant or a seeded distribution). */
export const ReportLatencySchema = z.object({
  feed: LatencyDistSchema,
  order: LatencyDistSchema,
  ack: LatencyDistSchema,
  seed: z.number().int().optional(),
});

const Count = z.number().int().nonnegative();
export const ReportDataQualitySchema = z.object({
  /** Gap threshold (ms) of a venue/symbol quote stream. */
  gapMs: z.number().positive(),
  rows: Count,
  counts: z.object({
    lockedQuotes: Count,
    duplicates: Count,
    zeroSizes: Count,
    gaps: Count,
    /** Dropped rows (earlier than the previous one). */
    outOfOrder: Count,
  }),
  /** First few occurrences of each issue. */
  examples: z.array(
    z.object({
      issue: z.enum(["lockedQuotes", "duplicates", "zeroSizes", "gaps", "outOfOrder"]),
      file: z.string(),
      line: z.number().int().positive(),
      column: Count,
      columnName: z.string(),
      value: z.string(),
    }),
  ),
});

/** How each currency was valued into `currency` (e.g. USDT: "fixed 0.9995", BTC: "mark BTC-USDT × USDT"). */
export const ReportValuationSchema = z.object({ currency: z.string().min(1), rates: z.record(z.string(), z.string()) });

/** Settlement at the custodian: instructions (one per fill) by state at the end of the run. */
export const ReportSettlementSchema = z.object({
  instructed: z.number().int().nonnegative(),
  settled: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  pending: z.number().int().nonnegative(),
});

/** Reconciliation of the custodian's balances with the engine's books. */
export const ReportReconciliationSchema = z.object({
  runs: z.number().int().nonnegative(),
  /** Breaks the last run found (0 = the books and the custodian agree). */
  breaks: z.number().int().nonnegative(),
  /** Breaks over every run. */
  breaksSeen: z.number().int().nonnegative().optional(),
});

const WaterfallOrderSchema = z.object({
  totalMs: z.number().nonnegative(),
  hops: z.array(
    z.object({
      hop: z.enum(["decision", "place", "ack", "fill", "booked"]),
      fromMs: z.number(),
      ms: z.number().nonnegative(),
    }),
  ),
});
export const LatencyWaterfallSchema = z.object({
  orders: z.number().int().positive(),
  /** Where the instants came from: the orders' spans (tracing on) or the quoter's and the bus's timestamps. */
  source: z.enum(["spans", "timestamps"]).optional(),
  median: WaterfallOrderSchema,
  p99: WaterfallOrderSchema,
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
  /** Backtests: the fill model of resting orders, the latency model, data quality, currency valuation. */
  fillModel: FillModelConfigSchema.optional(),
  latencyModel: ReportLatencySchema.optional(),
  dataQuality: ReportDataQualitySchema.optional(),
  valuation: ReportValuationSchema.optional(),
  settlement: ReportSettlementSchema.optional(),
  reconciliation: ReportReconciliationSchema.optional(),
  /** Sessions: the median and p99 order's tick → booked hops (ms), from the orders' traces. */
  latencyWaterfall: LatencyWaterfallSchema.optional(),
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
