// The quoter's options, status and counters (what the control API, /metrics and the session read).

import type { RiskLimitsInput } from "../lib/domain/risk/limits";
import type { Instrument, TradingState, Venue } from "../lib/domain/types";
import type { IntentThrottle } from "../lib/engine/StrategyHost";
import type { ClientManager } from "../lib/grpc/ClientManager";
import type { Clock } from "../lib/ports/Clock";
import type { ExchangePort } from "../lib/ports/Exchange";
import type { MarketDataPort } from "../lib/ports/MarketData";
import type { PositionRepository } from "../lib/ports/StateStore";
import type { OrderHopRecorder } from "../lib/telemetry/orderHops";
import type { BusBridge } from "./bridge/BusBridge";

export interface QuoterLogger {
  debug(msg: string, attrs?: Record<string, unknown>): void;
  info(msg: string, attrs?: Record<string, unknown>): void;
  warn(msg: string, attrs?: Record<string, unknown>): void;
  error(msg: string, attrs?: Record<string, unknown>): void;
}

export const silentLogger: QuoterLogger = { debug() {}, info() {}, warn() {}, error() {} };

export interface QuoterStrategySpec {
  id: string;
  /** Registered strategy name: market-making | avellaneda-stoikov (underscores accepted). */
  type: string;
  symbols?: string[];
  venues?: string[];
  /** Strategy configuration (validated by the strategy's schema). */
  params?: Record<string, unknown>;
}

export interface QuoterOptions {
  /** The venue (the gRPC adapter, the order journal over it, or an in-process fake). */
  exchange: ExchangePort;
  marketData: MarketDataPort;
  /** For breaker states and client latencies in /metrics. */
  manager?: Pick<ClientManager, "breakerStates" | "stats">;
  /** This shard's symbols and venues (the market-data subscription). */
  symbols: string[];
  venues: string[];
  /** Exchange account. Default "default". */
  accountId?: string;
  /** Names this process in client order ids and logs. Default "quoter". */
  quoterId?: string;
  strategies?: QuoterStrategySpec[];
  riskLimits?: RiskLimitsInput;
  /** Order-rate budget in front of the risk engine. Default none. */
  throttle?: IntentThrottle;
  instruments?: readonly Instrument[];
  venueInfo?: readonly Venue[];
  /** Starting cash of the local portfolio (risk balance checks). Default USD 1 000 000. */
  initialCash?: Record<string, string>;
  /** Reconciliation source (the state store). Without it, reconciliation is off. */
  positions?: PositionRepository;
  bridge?: BusBridge;
  /** Market-data push interval requested from the server, ms. Default 100. */
  marketDataIntervalMs?: number;
  /** Default 30 000; 0 = off. */
  reconcileIntervalMs?: number;
  /** Strategy timers, cancel retries, readiness. Default 250 ms. */
  timerIntervalMs?: number;
  /**
   * Market-data staleness bound: a book with no quote for this long (a stalled stream that did not close) has
   * our orders on it pulled, every timer tick until a quote arrives. Default 3000 ms; 0 = off.
   */
  staleQuoteMs?: number;
  /** First execution sequence to read. Default 1 (the exchange's whole log, filtered to this process's orders). */
  executionsFromSequence?: number;
  /** Accept chaos-* strategies (StartStrategy via the control API) to exercise the risk layer. Default false. */
  allowChaosStrategies?: boolean;
  /** Further registered strategy types this quoter may run (plug-ins loaded with --strategy-module). */
  pluginStrategyTypes?: readonly string[];
  /** Quoter-level cap on open orders (all strategies). Default 200. */
  maxOpenOrders?: number;
  /** Stream reconnect backoff. Defaults 100 → 2000 ms. */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
  logger?: QuoterLogger;
  /** Records each order's hop instants for the report's latency waterfall (the session, tracing off). */
  orderHops?: OrderHopRecorder;
  now?: Clock;
}

export type StrategyRunState = "STARTING" | "RUNNING" | "STOPPING" | "STOPPED" | "ERROR";

export interface StrategyStatusView {
  id: string;
  type: string;
  state: StrategyRunState;
  symbols: string[];
  venues: string[];
  message: string;
  startedAt: number;
  updatedAt: number;
  openOrders: number;
  realizedPnl: string;
  unrealizedPnl: string;
  paramsJson: string;
}

export interface QuoterStatus {
  started: boolean;
  quoting: boolean;
  ready: boolean;
  marketDataLive: boolean;
  executionsLive: boolean;
  tradingState: TradingState;
  openOrders: number;
  lastAppliedSequence: number;
  strategies: StrategyStatusView[];
  counters: QuoterCounters;
  decisionLatencyUs: { count: number; p50: number; p99: number; p999: number; max: number };
}

export interface QuoterCounters {
  ticks: number;
  quotes: number;
  ordersPlaced: number;
  ordersAcked: number;
  ordersRejected: number;
  /** Post-only rejections of a place sent while an order of ours that it crosses could still rest. */
  ordersRejectedSelfCross: number;
  /** Every other rejection (the venue's reasons). */
  ordersRejectedOther: number;
  /** Places held until the cancel of an own order they would cross is confirmed. */
  placesHeld: number;
  placeErrors: number;
  cancelsSent: number;
  cancelsConfirmed: number;
  cancelErrors: number;
  riskDenials: number;
  openOrderCapDenials: number;
  fills: number;
  executionsSeen: number;
  executionsIgnored: number;
  duplicateExecutions: number;
  marketDataGaps: number;
  marketDataMissed: number;
  marketDataReconnects: number;
  executionReconnects: number;
  reconciliations: number;
  reconcileDrifts: number;
  reconcileCorrections: number;
  reconcileErrors: number;
  /** Orders pulled because their book's market data went stale (staleQuoteMs). */
  staleQuoteCancels: number;
}

export function newCounters(): QuoterCounters {
  return {
    ticks: 0,
    quotes: 0,
    ordersPlaced: 0,
    ordersAcked: 0,
    ordersRejected: 0,
    ordersRejectedSelfCross: 0,
    ordersRejectedOther: 0,
    placesHeld: 0,
    placeErrors: 0,
    cancelsSent: 0,
    cancelsConfirmed: 0,
    cancelErrors: 0,
    riskDenials: 0,
    openOrderCapDenials: 0,
    fills: 0,
    executionsSeen: 0,
    executionsIgnored: 0,
    duplicateExecutions: 0,
    marketDataGaps: 0,
    marketDataMissed: 0,
    marketDataReconnects: 0,
    executionReconnects: 0,
    reconciliations: 0,
    reconcileDrifts: 0,
    staleQuoteCancels: 0,
    reconcileCorrections: 0,
    reconcileErrors: 0,
  };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
