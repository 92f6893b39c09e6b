// The `data` part of every event's detail, one schema per detail-type.

import Decimal from "decimal.js";
import * as z from "zod";
import { MAX_REASON_CHARS } from "../domain/bounds";
import {
  DecimalString,
  Identifier,
  IsoTimestamp,
  LiquiditySchema,
  NonNegativeDecimalString,
  OrderStatusSchema,
  OrderTypeSchema,
  PositiveDecimalString,
  Sequence,
  SeveritySchema,
  SideSchema,
  SymbolId,
  TimeInForceSchema,
  VenueId,
} from "./primitives";

/** Top of book for one symbol on one venue. */
export const MarketSnapshotData = z
  .object({
    venue: VenueId,
    symbol: SymbolId,
    bid: PositiveDecimalString,
    ask: PositiveDecimalString,
    bidSize: NonNegativeDecimalString,
    askSize: NonNegativeDecimalString,
    /** Per venue+symbol, strictly increasing; consumers drop snapshots older than what they hold. */
    sequence: Sequence,
    /** When the venue's book was in this state. */
    ts: IsoTimestamp,
  })
  .superRefine((d, ctx) => {
    // A single venue's L1 is never crossed; a crossed book is bad data, not an opportunity.
    if (new Decimal(d.bid).gt(d.ask))
      ctx.addIssue({ code: "custom", path: ["ask"], input: d.ask, message: `must be >= bid ${d.bid} (crossed book)` });
  });

/**
 * Conflated snapshots in one entry (the quoter's bridge, batch mode): the latest L1 of every venue+symbol it has seen,
 * so the signal function evaluates every venue from the event alone. `checkpoint` marks the batches whose snapshots
 * the signal function stores (the first of each checkpoint window), for what reads them later (reporting's marks).
 */
export const MarketSnapshotBatchData = z
  .object({
    snapshots: z.array(MarketSnapshotData).min(1).max(200),
    checkpoint: z.boolean().default(false),
  })
  .superRefine((d, ctx) => {
    const seen = new Set<string>();
    d.snapshots.forEach((s, i) => {
      const key = `${s.venue}|${s.symbol}`;
      if (seen.has(key))
        ctx.addIssue({ code: "custom", path: ["snapshots", i, "venue"], input: s.venue, message: `repeats ${key}` });
      seen.add(key);
    });
  });

export const SignalLeg = z
  .object({
    venue: VenueId,
    symbol: SymbolId,
    side: SideSchema,
    quantity: PositiveDecimalString,
    limitPrice: PositiveDecimalString.optional(),
    type: OrderTypeSchema.default("LIMIT"),
    timeInForce: TimeInForceSchema.default("IOC"),
  })
  .superRefine((l, ctx) => {
    if (l.type === "LIMIT" && l.limitPrice === undefined)
      ctx.addIssue({ code: "custom", path: ["limitPrice"], input: undefined, message: "is required for LIMIT legs" });
  });

/** The snapshots a signal was computed from (a summary, so the decision can be audited). */
export const SignalInputSnapshot = z.object({
  venue: VenueId,
  symbol: SymbolId,
  bid: PositiveDecimalString,
  ask: PositiveDecimalString,
  sequence: Sequence,
  ts: IsoTimestamp,
});

export const SignalGeneratedData = z.object({
  /** Deterministic from the inputs, so a replayed snapshot yields the same signal id. */
  signalId: Identifier,
  strategyId: Identifier,
  /** e.g. "arbitrage". Kinds starting with "shadow-" are recorded but not routed to order placement. */
  kind: z.string().min(1).max(64),
  legs: z.array(SignalLeg).min(1, { error: "must have at least one leg" }).max(8),
  reason: z.string().min(1).max(MAX_REASON_CHARS),
  inputs: z.object({
    snapshots: z.array(SignalInputSnapshot).max(16),
    /** Named figures behind the decision, e.g. { spreadBps: "25.1", thresholdBps: "10" }. */
    figures: z.record(z.string().min(1).max(64), DecimalString).default({}),
  }),
  /** Do not act on the signal after this instant. */
  expiresAt: IsoTimestamp.optional(),
});

const OrderBase = z.object({
  /** Engine-side order id (usually equals clientOrderId). */
  orderId: Identifier,
  /** Deterministic from signal + leg: the exchange idempotency key. */
  clientOrderId: Identifier,
  exchangeOrderId: Identifier.optional(),
  strategyId: Identifier,
  signalId: Identifier.optional(),
  legIndex: z.number().int().nonnegative().max(7).optional(),
  venue: VenueId,
  symbol: SymbolId,
  side: SideSchema,
  type: OrderTypeSchema,
  timeInForce: TimeInForceSchema,
  quantity: PositiveDecimalString,
  limitPrice: PositiveDecimalString.optional(),
  filledQuantity: NonNegativeDecimalString.optional(),
  averagePrice: PositiveDecimalString.optional(),
  status: OrderStatusSchema,
  reason: z.string().min(1).max(MAX_REASON_CHARS).optional(),
});

type OrderShape = z.infer<typeof OrderBase>;
const limitNeedsPrice = (o: OrderShape, ctx: z.RefinementCtx) => {
  if (o.type === "LIMIT" && o.limitPrice === undefined)
    ctx.addIssue({ code: "custom", path: ["limitPrice"], input: undefined, message: "is required for LIMIT orders" });
};

export const OrderPlacedData = OrderBase.extend({
  status: z.enum(["NEW", "PARTIALLY_FILLED", "FILLED", "EXPIRED", "CANCELED"]),
}).superRefine(limitNeedsPrice);

export const OrderRejectedData = OrderBase.extend({
  status: z.literal("REJECTED"),
  reason: z.string().min(1).max(MAX_REASON_CHARS),
}).superRefine(limitNeedsPrice);

export const OrderCanceledData = OrderBase.extend({
  status: z.enum(["CANCELED", "EXPIRED"]),
}).superRefine(limitNeedsPrice);

/** A signal or order the risk checks refused (nothing reached the exchange). */
export const OrderDeniedData = z.object({
  signalId: Identifier,
  strategyId: Identifier,
  clientOrderId: Identifier.optional(),
  venue: VenueId.optional(),
  symbol: SymbolId,
  side: SideSchema.optional(),
  quantity: PositiveDecimalString.optional(),
  /** Which check said no, e.g. "max-position", "risk-monitor-unavailable". */
  rule: z.string().min(1).max(128),
  reason: z.string().min(1).max(MAX_REASON_CHARS),
});

/** What a fill is, as the execution and the booked fill both carry it. */
const FILL_TERMS = {
  venue: VenueId,
  symbol: SymbolId,
  side: SideSchema,
  quantity: PositiveDecimalString,
  price: PositiveDecimalString,
  /** Fee charged for this fill; negative = rebate. */
  fee: DecimalString,
  feeAsset: z.string().regex(/^[A-Z0-9]{1,20}$/, { error: 'must be an asset code like "USD"' }),
};

export const ExecutionReportedData = z.object({
  /** Unique per venue; the fill record's key, so a repeated execution is a no-op. */
  executionId: Identifier,
  /** Per-venue execution stream sequence. */
  sequence: Sequence,
  clientOrderId: Identifier,
  exchangeOrderId: Identifier,
  ...FILL_TERMS,
  liquidity: LiquiditySchema,
  strategyId: Identifier.optional(),
  /** Order totals after this fill, as the venue reports them. */
  cumulativeQuantity: PositiveDecimalString.optional(),
  leavesQuantity: NonNegativeDecimalString.optional(),
  ts: IsoTimestamp,
});

export const PositionChangedData = z.object({
  strategyId: Identifier,
  venue: VenueId.optional(),
  symbol: SymbolId,
  /** Signed net quantity (negative = short). */
  quantity: DecimalString,
  previousQuantity: DecimalString.optional(),
  avgEntryPrice: NonNegativeDecimalString,
  realizedPnl: DecimalString,
  /** Cumulative fees paid on this position, quote currency. */
  fees: DecimalString.optional(),
  /** Optimistic-locking version after this change (1 = first fill). */
  version: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  /** What caused the change. */
  executionId: Identifier.optional(),
  clientOrderId: Identifier.optional(),
  ts: IsoTimestamp,
});

export const RiskAlertData = z.object({
  alertId: Identifier.optional(),
  rule: z.string().min(1).max(128),
  severity: SeveritySchema,
  /** value / limit as a decimal fraction, e.g. "0.85" = 85 %. */
  utilisation: NonNegativeDecimalString,
  limit: DecimalString,
  value: DecimalString,
  message: z.string().min(1).max(1024),
  strategyId: Identifier.optional(),
  venue: VenueId.optional(),
  symbol: SymbolId.optional(),
  /** Custody alerts (reconciliation breaks): the account and the currency; `value` is the amount. */
  accountId: VenueId.optional(),
  currency: z
    .string()
    .regex(/^[A-Z0-9]{1,20}$/, { error: 'must be an asset code like "USD"' })
    .optional(),
});

const Ratio = z.number().finite().nullable();

export const ReportMetricsSummary = z.object({
  totalPnl: DecimalString,
  realizedPnl: DecimalString,
  unrealizedPnl: DecimalString,
  fees: DecimalString,
  maxDrawdown: NonNegativeDecimalString,
  maxDrawdownPct: z.number().finite().nonnegative(),
  sharpe: Ratio,
  sortino: Ratio.optional(),
  winRate: Ratio,
  trades: z.number().int().nonnegative(),
});

export const ReportGeneratedData = z.object({
  reportId: Identifier,
  /** Absent = portfolio-wide report. */
  strategyId: Identifier.optional(),
  trigger: z.enum(["SCHEDULE", "POSITION_CHANGED", "DIRECT"]).optional(),
  periodStart: IsoTimestamp.optional(),
  periodEnd: IsoTimestamp,
  metrics: ReportMetricsSummary,
});

/** A fill booked in state (the settlement function's trigger). Re-announced with the same event id on a duplicate. */
export const FillBookedData = z.object({
  executionId: Identifier,
  clientOrderId: Identifier,
  strategyId: Identifier,
  ...FILL_TERMS,
  ts: IsoTimestamp,
});

const Currency = z.string().regex(/^[A-Z0-9]{1,20}$/, { error: 'must be an asset code like "USD"' });

/** One account/currency where the custodian's balance differs from the engine's books. */
export const ReconciliationBreak = z.object({
  accountId: VenueId,
  currency: Currency,
  /** The engine's books: opening balance + every booked fill up to the cut-off. */
  expected: DecimalString,
  /** The custodian's: total + pending, for trades up to the cut-off. */
  actual: DecimalString,
  /** actual - expected. */
  difference: DecimalString,
  /** Beyond the configured tolerance (raised as a RiskAlert). */
  beyondTolerance: z.boolean(),
});

export const ReconciliationCompletedData = z.object({
  reconciliationId: Identifier,
  trigger: z.enum(["SCHEDULE", "DIRECT"]),
  /** Fills and settlements traded after this are left for the next run (still in flight). */
  cutoff: IsoTimestamp,
  tolerance: NonNegativeDecimalString,
  /** Account/currency pairs compared. */
  compared: z.number().int().nonnegative(),
  fills: z.number().int().nonnegative(),
  breaks: z.array(ReconciliationBreak).max(256),
});
