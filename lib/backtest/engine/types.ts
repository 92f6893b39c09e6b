// The backtester's public shapes: what a run takes (options) and what it returns (trades, curves, metrics,
// risk, counts, and the models it ran with).
import type { Decimal, DecimalLike } from "../../domain/decimal";
import type { EquitySample, PerformanceMetrics } from "../../domain/metrics";
import type { RateSpec } from "../../domain/portfolio/valuation";
import type { RiskLimits, RiskLimitsInput } from "../../domain/risk";
import type { Strategy } from "../../domain/strategies/Strategy";
import type { Instrument, Side, TradingState, Venue } from "../../domain/types";
import type { FillModelConfig, FillModelInput } from "./fills/fillModel";
import type { LatencyConfig, LatencyInput } from "./latency";

export interface BacktestOptions {
  strategies: readonly Strategy[];
  instruments?: readonly Instrument[];
  venues?: readonly Venue[];
  riskLimits?: RiskLimits | RiskLimitsInput;
  /** Starting balances per asset (default USD 1,000,000). */
  initialCash?: Readonly<Record<string, DecimalLike>>;
  /** Equity/position sampling period of simulated time (ms); also the Sharpe period. Default 1000. */
  equitySampleMs?: number;
  /** onTimer cadence (ms of simulated time). Default 1000. */
  timerMs?: number;
  /** Check tick/lot/min-notional of every order (exact, slower). Default true. */
  validateOrderShape?: boolean;
  /** Keep a position point per symbol per sample. Default true. */
  recordPositionCurve?: boolean;
  /** Fill model of resting orders. Default queue-risk-averse. */
  fillModel?: FillModelInput;
  /** Feed / order / ack latency. Default all 0 (synchronous). */
  latency?: LatencyInput;
  /** Pace placements to the risk limits' maxOrdersPerSecond before the risk engine. Default true. */
  throttle?: boolean;
  /** Valuation currency (default USD) and conversion rates of the other currencies. */
  valuation?: { currency?: string; rates?: Readonly<Record<string, RateSpec>> };
}

export interface BacktestTrade {
  ts: number;
  orderId: string;
  strategyId: string;
  venue: string;
  symbol: string;
  side: Side;
  qty: Decimal;
  price: Decimal;
  fee: Decimal;
  liquidity: "MAKER" | "TAKER";
  /** Set when the fill reduced a position. */
  realizedPnl?: Decimal;
}

export interface RiskEventRecord {
  ts: number;
  kind: string;
  message: string;
}

export interface BacktestResult {
  startedAt: number;
  endedAt: number;
  ticks: number;
  trades: BacktestTrade[];
  equityCurve: EquitySample[];
  positionCurve: { ts: number; symbol: string; quantity: Decimal }[];
  drawdownCurve: { ts: number; drawdown: Decimal; drawdownPct: number }[];
  metrics: PerformanceMetrics;
  risk: { finalState: TradingState; denials: Record<string, number>; events: RiskEventRecord[] };
  ordersPlaced: number;
  ordersDenied: number;
  ordersRejected: number;
  /** Placements held back by the order-rate throttle (never reached the risk engine). */
  ordersThrottled: number;
  tradePrints: number;
  fillModel: FillModelConfig;
  latency: LatencyConfig;
  valuation: { currency: string; rates: Record<string, string> };
}
