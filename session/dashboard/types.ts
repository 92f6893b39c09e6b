// The port between a running session and the live dashboard. The session implements
// DashboardSource (or feeds a DashboardState); the HTTP server only reads snapshots and forwards
// the kill switch. Timestamps are epoch milliseconds like the domain's L1Quote; money, prices and
// quantities are exact decimal strings.
import * as z from "zod";
import type { TradingState } from "../../lib/domain/types";

const Dec = z.string().regex(/^-?\d+(\.\d+)?$/, { message: "expected a decimal string like -12.50" });
const Ms = z.number().finite().nonnegative();
const SideSchema = z.enum(["BUY", "SELL"]);
export const TradingStateSchema = z.enum(["ACTIVE", "REDUCING", "HALTED"]);

export const DashboardSnapshotSchema = z.object({
  now: Ms,
  runId: z.string().optional(),
  mode: z.string().optional(),
  scenario: z.string().optional(),
  strategies: z.array(z.string()).optional(),
  /** Recent equity points (a bounded window), oldest first. */
  equityCurve: z.array(z.object({ ts: Ms, equity: Dec })),
  /** Drawdown below the all-time peak for the same points, in percent (>= 0). Derived from equityCurve when absent. */
  drawdownCurve: z.array(z.object({ ts: Ms, drawdownPct: z.number().finite() })).optional(),
  drawdown: z.object({
    /** Current distance below the all-time peak, money >= 0. */
    current: Dec,
    currentPct: z.number().finite(),
    max: Dec,
    maxPct: z.number().finite(),
  }),
  pnl: z.object({ total: Dec, realized: Dec, unrealized: Dec, fees: Dec }).optional(),
  positions: z.array(
    z.object({
      symbol: z.string(),
      venue: z.string().optional(),
      strategyId: z.string().optional(),
      quantity: Dec,
      avgPrice: Dec.optional(),
      markPrice: Dec.optional(),
      unrealizedPnl: Dec.optional(),
      realizedPnl: Dec.optional(),
    }),
  ),
  openOrders: z.array(
    z.object({
      orderId: z.string(),
      clientOrderId: z.string().optional(),
      strategyId: z.string().optional(),
      venue: z.string(),
      symbol: z.string(),
      side: SideSchema,
      type: z.enum(["MARKET", "LIMIT"]).optional(),
      price: Dec.optional(),
      qty: Dec,
      filledQty: Dec.optional(),
      status: z.string().optional(),
      ts: Ms,
    }),
  ),
  recentFills: z.array(
    z.object({
      ts: Ms,
      venue: z.string(),
      symbol: z.string(),
      side: SideSchema,
      qty: Dec,
      price: Dec,
      fee: Dec,
      strategyId: z.string().optional(),
      liquidity: z.enum(["MAKER", "TAKER"]).optional(),
    }),
  ),
  riskState: TradingStateSchema,
  riskReason: z.string().optional(),
  alerts: z.array(
    z.object({
      ts: Ms,
      level: z.enum(["INFO", "WARN", "CRITICAL"]),
      message: z.string(),
      rule: z.string().optional(),
    }),
  ),
  /** Settlement at the custodian (instructions by state) and reconciliation (runs, breaks of the last run). */
  custody: z
    .object({
      settlement: z.object({
        instructed: z.number().int().nonnegative(),
        settled: z.number().int().nonnegative(),
        failed: z.number().int().nonnegative(),
        pending: z.number().int().nonnegative(),
      }),
      reconciliation: z.object({
        runs: z.number().int().nonnegative(),
        breaks: z.number().int().nonnegative(),
        lastAt: Ms.optional(),
      }),
    })
    .optional(),
  /** Top of book per venue/symbol, with our resting quotes when we have them. */
  quotes: z.array(
    z.object({
      venue: z.string(),
      symbol: z.string(),
      bid: Dec,
      ask: Dec,
      bidSize: Dec.optional(),
      askSize: Dec.optional(),
      ourBid: Dec.optional(),
      ourAsk: Dec.optional(),
      ts: Ms,
    }),
  ),
});

export type DashboardSnapshot = z.infer<typeof DashboardSnapshotSchema>;
export type DashboardPosition = DashboardSnapshot["positions"][number];
export type DashboardOpenOrder = DashboardSnapshot["openOrders"][number];
export type DashboardFill = DashboardSnapshot["recentFills"][number];
export type DashboardAlert = DashboardSnapshot["alerts"][number];
export type DashboardQuote = DashboardSnapshot["quotes"][number];
export type DashboardCustody = NonNullable<DashboardSnapshot["custody"]>;

/** What the dashboard server needs from a running session. */
export interface DashboardSource {
  snapshot(): DashboardSnapshot;
  /** Wired by the session to the engine's control API (SetTradingState). Rejects if the engine refused. */
  setTradingState(state: TradingState, reason: string): Promise<void>;
}
