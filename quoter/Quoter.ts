// The always-on quoter: market data → strategy → in-process risk → post-only orders on the exchange, executions →
// inventory (exactly once, resumed by sequence), bridges to the bus, periodic reconciliation with the state store.
//
// The decision path (tick → order intents) is synchronous: no awaits, no logging, numbers instead of Decimals where
// the domain offers fast paths. Its duration goes into an HDR histogram (ns). gRPC calls are issued after the
// decision is timed, without awaiting them in the tick handler.
import { performance } from "node:perf_hooks";
import * as hdr from "hdr-histogram-js";
import { type Execution, OrderStatus, Side as WireSide } from "../gen/proto/tse/exchange/exchange";
import type { L1Quote as WireQuote } from "../gen/proto/tse/marketdata/quotes";
import { Decimal, ZERO } from "../lib/domain/decimal";
import { InvalidFieldError } from "../lib/domain/errors";
import { DEFAULT_INSTRUMENTS, DEFAULT_VENUES } from "../lib/domain/instruments";
import { Portfolio } from "../lib/domain/portfolio/Portfolio";
import type { Position } from "../lib/domain/portfolio/position";
import { riskContextFromPortfolio } from "../lib/domain/risk/context";
import type { RiskLimitsInput } from "../lib/domain/risk/limits";
import {
  type RiskContext,
  type RiskDenial,
  RiskEngine,
  type RiskOrder,
  type TradingStateChange,
} from "../lib/domain/risk/RiskEngine";
import type { FastL1Quote } from "../lib/domain/strategies/quoteMath";
import { createStrategy } from "../lib/domain/strategies/registry";
import type {
  FillView,
  OpenOrderView,
  OrderEventView,
  Strategy,
  StrategyContext,
} from "../lib/domain/strategies/Strategy";
import type { Instrument, L1Quote, OrderIntent, Side, TradingState, Venue } from "../lib/domain/types";
import type { ClientManager } from "../lib/grpc/ClientManager";
import type { ExchangeClient, ExecutionStream } from "../lib/grpc/ExchangeClient";
import { InvalidArgumentError, NotFoundError, RejectedError } from "../lib/grpc/errors";
import type { MarketDataClient, SequencedStream } from "../lib/grpc/MarketDataClient";
import type { PositionRepository } from "../lib/ports/StateStore";
import type { BusBridge } from "./bridge/BusBridge";

export interface QuoterLogger {
  debug(msg: string, attrs?: Record<string, unknown>): void;
  info(msg: string, attrs?: Record<string, unknown>): void;
  warn(msg: string, attrs?: Record<string, unknown>): void;
  error(msg: string, attrs?: Record<string, unknown>): void;
}

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
  exchange: ExchangeClient;
  marketData: MarketDataClient;
  /** For breaker states in /metrics. */
  manager?: ClientManager;
  /** This shard's symbols and venues (the market-data subscription). */
  symbols: string[];
  venues: string[];
  /** Exchange account. Default "default". */
  accountId?: string;
  /** Names this process in client order ids and logs. Default "quoter". */
  quoterId?: string;
  strategies?: QuoterStrategySpec[];
  riskLimits?: RiskLimitsInput;
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
  now?: () => number;
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
}

/** One order this process placed and has not seen closed. `orderId` is the client order id (the exchange key). */
export interface LiveOrder extends OpenOrderView {
  strategyId: string;
  clientOrderId: string;
  exchangeOrderId?: string;
  acked: boolean;
  cancelSent: boolean;
  createdAt: number;
}

interface Runtime {
  id: string;
  type: string;
  strategy: Strategy;
  symbols: Set<string> | undefined;
  venues: Set<string> | undefined;
  symbolList: string[];
  venueList: string[];
  state: StrategyRunState;
  message: string;
  startedAt: number;
  updatedAt: number;
  paramsJson: string;
  ctx: QuoterContext;
  open: LiveOrder[];
}

type Outbound =
  | { kind: "place"; order: LiveOrder; intent: OrderIntent; sent?: boolean }
  | { kind: "cancel"; order: LiveOrder };

/** The read-only view strategies get; `now` is set before every callback (no allocation per tick). */
class QuoterContext implements StrategyContext {
  now = 0;
  constructor(
    private readonly q: Quoter,
    private readonly rt: () => Runtime,
  ) {}
  position(symbol: string): Decimal {
    return this.q.portfolio.position(this.rt().id, symbol)?.quantity ?? ZERO;
  }
  openOrders(): readonly OpenOrderView[] {
    return this.rt().open;
  }
  quote(venue: string, symbol: string): L1Quote | undefined {
    return this.q.latestQuote(venue, symbol);
  }
  quotes(): Iterable<L1Quote> {
    return this.q.allQuotes();
  }
  instrument(symbol: string): Instrument | undefined {
    return this.q.instrumentOf(symbol);
  }
  venue(id: string): Venue | undefined {
    return this.q.venueOf(id);
  }
  venues(): readonly Venue[] {
    return this.q.venueList;
  }
}

const SIDE_OF: Record<number, Side | undefined> = { [WireSide.BUY]: "BUY", [WireSide.SELL]: "SELL" };
const CLOSED_STATUSES = new Set([OrderStatus.REJECTED, OrderStatus.CANCELED, OrderStatus.EXPIRED]);

export class Quoter {
  readonly portfolio: Portfolio;
  readonly risk: RiskEngine;
  readonly venueList: readonly Venue[];
  readonly accountId: string;
  readonly quoterId: string;
  /** Every client order id this process creates starts with it (executions are matched by it). */
  readonly sessionPrefix: string;
  readonly counters: QuoterCounters = {
    ticks: 0,
    quotes: 0,
    ordersPlaced: 0,
    ordersAcked: 0,
    ordersRejected: 0,
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
    reconcileCorrections: 0,
    reconcileErrors: 0,
  };
  readonly denialsByRule = new Map<string, number>();
  /** Tick → intents, nanoseconds. */
  readonly decisionHistogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 10_000_000_000,
    numberOfSignificantValueDigits: 3,
  });
  /** Execution ids applied (tests assert exactly-once against the exchange). Bounded by the session's fills. */
  readonly appliedExecutionIds = new Set<string>();

  private readonly opts: QuoterOptions;
  private readonly log: QuoterLogger;
  private readonly now: () => number;
  private readonly instruments = new Map<string, Instrument>();
  private readonly venues = new Map<string, Venue>();
  private readonly takerFees = new Map<string, number>();
  private readonly runtimes = new Map<string, Runtime>();
  private running: Runtime[] = [];
  private readonly orders = new Map<string, LiveOrder>();
  private readonly quotesByVenue = new Map<string, Map<string, FastL1Quote>>();
  private readonly lastMarkAt = new Map<string, number>();
  private readonly outbound: Outbound[] = [];
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly riskOrder: RiskOrder = { strategyId: "", symbol: "", side: "BUY", type: "LIMIT", quantity: 0 };
  private readonly riskCtx: RiskContext = {
    mid: 0,
    position: 0,
    strategyNotional: 0,
    portfolioNotional: 0,
    availableQuote: 0,
  };
  private readonly riskOpts: { mid?: number; feeRate?: number } = {};
  /** Quoter-level cap on open orders (SetRiskLimits max_open_orders changes it). */
  maxOpenOrders: number;
  private orderSeq = 0;
  private lastApplied = 0;
  private started = false;
  private quoting = false;
  private mdStream: SequencedStream<WireQuote> | undefined;
  private execStream: ExecutionStream | undefined;
  private mdLoop: Promise<void> | undefined;
  private execLoop: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reconcileTimer: NodeJS.Timeout | undefined;
  private lastMdAt = 0;
  private gapLoggedAt = Number.NEGATIVE_INFINITY;
  private gapsAtLastLog = 0;
  private execConnectsAtDrop = 0;
  private execDropped = true;
  private readonly driftSeen = new Map<string, { local: string; stored: string; version: number }>();
  private readonly stateListeners: ((c: TradingStateChange) => void)[] = [];

  constructor(opts: QuoterOptions) {
    if (opts.symbols.length === 0)
      throw new InvalidFieldError("symbols", opts.symbols, "at least one symbol is required");
    if (opts.venues.length === 0) throw new InvalidFieldError("venues", opts.venues, "at least one venue is required");
    this.opts = opts;
    this.now = opts.now ?? Date.now;
    this.log = opts.logger ?? silentLogger;
    this.accountId = opts.accountId ?? "default";
    this.quoterId = opts.quoterId ?? "quoter";
    if (!/^[A-Za-z0-9_-]{1,40}$/.test(this.quoterId))
      throw new InvalidFieldError("quoterId", this.quoterId, "must be 1-40 letters, digits, _ or -");
    this.sessionPrefix = `${this.quoterId}-${this.now().toString(36)}-`;
    for (const i of opts.instruments ?? DEFAULT_INSTRUMENTS) this.instruments.set(i.symbol, i);
    for (const v of opts.venueInfo ?? DEFAULT_VENUES) this.venues.set(v.id, v);
    this.venueList = [...this.venues.values()];
    for (const v of this.venueList) this.takerFees.set(v.id, v.takerFee.toNumber());
    for (const s of opts.symbols)
      if (!this.instruments.has(s)) throw new InvalidFieldError("symbols", s, "unknown instrument");
    for (const v of opts.venues) if (!this.venues.has(v)) throw new InvalidFieldError("venues", v, "unknown venue");
    this.maxOpenOrders = opts.maxOpenOrders ?? 200;
    this.portfolio = new Portfolio({
      instruments: [...this.instruments.values()],
      initialCash: opts.initialCash ?? { USD: "1000000" },
    });
    this.risk = new RiskEngine({
      limits: opts.riskLimits ?? { maxOrdersPerSecond: 200 },
      onStateChange: (c) => this.onTradingStateChange(c),
    });
    for (const s of opts.strategies ?? []) this.addStrategy(s);
  }

  // ---------- lifecycle ----------

  /** Opens both streams and starts quoting (strategies given in the options start RUNNING). */
  async start(): Promise<void> {
    if (this.started) throw new Error("quoter already started");
    this.started = true;
    await this.sweepOrphans();
    const reconnect = {
      initialDelayMs: this.opts.reconnect?.initialDelayMs ?? 100,
      maxDelayMs: this.opts.reconnect?.maxDelayMs ?? 2_000,
    };
    this.execStream = this.opts.exchange.streamExecutions({
      ...reconnect,
      fromSequence: this.opts.executionsFromSequence ?? 1,
      accountId: this.accountId,
      onDisconnect: (err) => {
        this.execDropped = true;
        this.execConnectsAtDrop = this.execStream?.stats.connects ?? 0;
        this.counters.executionReconnects++;
        this.log.warn("execution stream dropped; resuming from the last applied sequence", {
          lastApplied: this.lastApplied,
          error: err?.message,
        });
      },
    });
    this.execDropped = false;
    this.execLoop = this.runExecutions(this.execStream);
    this.mdStream = this.opts.marketData.streamQuotes({
      ...reconnect,
      symbols: this.opts.symbols,
      venues: this.opts.venues,
      updateIntervalMs: this.opts.marketDataIntervalMs ?? 100,
      onGap: (g) => {
        this.counters.marketDataGaps++;
        this.counters.marketDataMissed += g.missed;
        // A feed conflated to the subscription interval skips sequences on most ticks: the metric counts every
        // gap, the log says so at most every 10 s with the totals since its last line.
        const now = this.now();
        if (now - this.gapLoggedAt >= 10_000) {
          this.log.warn("market-data sequence gaps", {
            ...g,
            gapsSinceLastLog: this.counters.marketDataGaps - this.gapsAtLastLog,
            totalGaps: this.counters.marketDataGaps,
            totalMissed: this.counters.marketDataMissed,
          });
          this.gapLoggedAt = now;
          this.gapsAtLastLog = this.counters.marketDataGaps;
        }
      },
      onDisconnect: (err) => {
        this.counters.marketDataReconnects++;
        // A restarted feed starts its sequences again: forget the old baseline so its quotes are not "stale".
        this.mdStream?.lastSequence.clear();
        this.lastMdAt = 0;
        this.log.warn("market-data stream dropped; reconnecting", { error: err?.message });
      },
    });
    this.mdLoop = this.runMarketData(this.mdStream);
    this.quoting = true;
    this.timer = setInterval(() => this.onTimer(), this.opts.timerIntervalMs ?? 250);
    const rec = this.opts.reconcileIntervalMs ?? 30_000;
    if (this.opts.positions && rec > 0) this.reconcileTimer = setInterval(() => void this.reconcile(), rec);
    this.log.info("quoter started", {
      symbols: this.opts.symbols,
      venues: this.opts.venues,
      accountId: this.accountId,
      strategies: [...this.runtimes.keys()],
      sessionPrefix: this.sessionPrefix,
    });
  }

  /**
   * Graceful stop: stop quoting, cancel every open order (waiting for the exchange's answers), flush the bridge,
   * close the streams. Bounded by `timeoutMs` overall.
   */
  async stop(timeoutMs = 8_000): Promise<{ canceled: number; remaining: number; bridgeFlushed: boolean }> {
    const deadline = this.now() + timeoutMs;
    this.quoting = false;
    if (this.timer) clearInterval(this.timer);
    if (this.reconcileTimer) clearInterval(this.reconcileTimer);
    this.mdStream?.close();
    const before = this.orders.size;
    await this.cancelAllAndWait(Math.max(100, (deadline - this.now()) * 0.6));
    // Executions for fills that raced the cancels still arrive on the stream: give it a moment before closing.
    await sleep(Math.min(200, Math.max(0, deadline - this.now() - 1_000)));
    let bridgeFlushed = true;
    if (this.opts.bridge) bridgeFlushed = await this.opts.bridge.close(Math.max(100, deadline - this.now() - 100));
    this.execStream?.close();
    await Promise.race([Promise.allSettled([this.mdLoop, this.execLoop]), sleep(500)]);
    for (const rt of this.runtimes.values()) if (rt.state === "RUNNING") this.setState(rt, "STOPPED", "quoter stopped");
    this.started = false;
    const remaining = this.orders.size;
    this.log.info("quoter stopped", { canceled: before - remaining, remaining, bridgeFlushed });
    return { canceled: before - remaining, remaining, bridgeFlushed };
  }

  status(): QuoterStatus {
    const h = this.decisionHistogram;
    return {
      started: this.started,
      quoting: this.quoting,
      ready: this.isReady(),
      marketDataLive: this.marketDataLive(),
      executionsLive: this.executionsLive(),
      tradingState: this.risk.tradingState,
      openOrders: this.orders.size,
      lastAppliedSequence: this.lastApplied,
      strategies: this.listStrategies(),
      counters: { ...this.counters },
      decisionLatencyUs: {
        count: h.totalCount,
        p50: h.getValueAtPercentile(50) / 1000,
        p99: h.getValueAtPercentile(99) / 1000,
        p999: h.getValueAtPercentile(99.9) / 1000,
        max: h.maxValue / 1000,
      },
    };
  }

  /** Both streams live and the quoter started. */
  isReady(): boolean {
    return this.started && this.marketDataLive() && this.executionsLive();
  }
  marketDataLive(): boolean {
    return (
      this.lastMdAt > 0 && this.now() - this.lastMdAt < Math.max(2_000, (this.opts.marketDataIntervalMs ?? 100) * 5)
    );
  }
  executionsLive(): boolean {
    const s = this.execStream;
    if (!s || s.isClosed) return false;
    if (this.execDropped) {
      if (s.stats.connects > this.execConnectsAtDrop) this.execDropped = false;
      else return false;
    }
    return s.stats.connects > 0;
  }
  get lastAppliedSequence(): number {
    return this.lastApplied;
  }
  /** Open orders this process tracks (all strategies). */
  openOrders(): LiveOrder[] {
    return [...this.orders.values()];
  }
  positions(strategyId?: string): Position[] {
    return this.portfolio.positions(strategyId || undefined);
  }
  onStateChange(listener: (c: TradingStateChange) => void): void {
    this.stateListeners.push(listener);
  }

  // ---------- strategies ----------

  /** Validates and registers a strategy; it quotes once started (and the quoter is started). */
  addStrategy(spec: QuoterStrategySpec, run = true): StrategyStatusView {
    if (!spec.id || !/^[A-Za-z0-9_.:-]{1,64}$/.test(spec.id))
      throw new InvalidFieldError("strategy_id", spec.id, "must be 1-64 of letters, digits, _ . : -");
    const existing = this.runtimes.get(spec.id);
    if (existing && existing.state !== "STOPPED" && existing.state !== "ERROR")
      throw new InvalidFieldError("strategy_id", spec.id, `already ${existing.state}`);
    const type = spec.type.replaceAll("_", "-");
    // Chaos strategies (risk-layer tests) only when the embedding opted in (the local session does; prod never).
    const chaosOk = this.opts.allowChaosStrategies === true && type.startsWith("chaos-");
    const pluginOk = !type.startsWith("chaos-") && this.opts.pluginStrategyTypes?.includes(type) === true;
    if (type !== "market-making" && type !== "avellaneda-stoikov" && !chaosOk && !pluginOk)
      throw new InvalidFieldError("strategy_type", spec.type, "the quoter runs market-making or avellaneda-stoikov");
    const symbols = spec.symbols && spec.symbols.length > 0 ? spec.symbols : this.opts.symbols;
    const venues = spec.venues && spec.venues.length > 0 ? spec.venues : this.opts.venues;
    symbols.forEach((s, i) => {
      if (!this.opts.symbols.includes(s)) throw new InvalidFieldError(`symbols[${i}]`, s, "not in this quoter's shard");
    });
    venues.forEach((v, i) => {
      if (!this.opts.venues.includes(v))
        throw new InvalidFieldError(`venues[${i}]`, v, "not subscribed by this quoter");
    });
    const params = { ...(spec.params ?? {}), symbols, venues };
    const strategy = createStrategy(type, spec.id, params);
    const now = this.now();
    let rt: Runtime;
    const ctx = new QuoterContext(this, () => rt);
    rt = {
      id: spec.id,
      type,
      strategy,
      symbols: new Set(symbols),
      venues: new Set(venues),
      symbolList: symbols,
      venueList: venues,
      state: "STOPPED",
      message: "",
      startedAt: 0,
      updatedAt: now,
      paramsJson: JSON.stringify(spec.params ?? {}),
      ctx,
      open: existing?.open ?? [],
    };
    this.runtimes.set(spec.id, rt);
    if (run) {
      rt.startedAt = now;
      this.setState(rt, "RUNNING", "started");
    }
    return this.strategyStatus(spec.id)!;
  }

  /** Stops quoting a strategy; by default cancels its open orders and waits (bounded) for the answers. */
  async stopStrategy(id: string, opts: { cancelOpenOrders?: boolean; flatten?: boolean; reason?: string } = {}) {
    const rt = this.runtimes.get(id);
    if (!rt) throw new InvalidFieldError("strategy_id", id, "unknown strategy");
    this.setState(rt, "STOPPING", opts.reason ?? "stop requested");
    if (opts.cancelOpenOrders ?? true) await this.cancelAllAndWait(3_000, id);
    if (opts.flatten) this.forcePositionClose(id, undefined, undefined, opts.reason ?? "stop with flatten");
    this.setState(rt, "STOPPED", opts.reason ?? "stopped");
    return this.strategyStatus(id)!;
  }

  strategyStatus(id: string): StrategyStatusView | undefined {
    const rt = this.runtimes.get(id);
    if (!rt) return undefined;
    let unrealized = "0";
    try {
      this.refreshMarks(true);
      unrealized = this.portfolio.unrealizedPnl(id).toFixed();
    } catch {
      unrealized = ""; // an open position without a mark yet
    }
    return {
      id: rt.id,
      type: rt.type,
      state: rt.state,
      symbols: rt.symbolList,
      venues: rt.venueList,
      message: rt.message,
      startedAt: rt.startedAt,
      updatedAt: rt.updatedAt,
      openOrders: rt.open.length,
      realizedPnl: this.portfolio.realizedPnl(id).toFixed(),
      unrealizedPnl: unrealized,
      paramsJson: rt.paramsJson,
    };
  }

  listStrategies(): StrategyStatusView[] {
    return [...this.runtimes.keys()].map((id) => this.strategyStatus(id)!);
  }

  private setState(rt: Runtime, state: StrategyRunState, message: string): void {
    rt.state = state;
    rt.message = message;
    rt.updatedAt = this.now();
    this.running = [...this.runtimes.values()].filter((r) => r.state === "RUNNING");
  }

  // ---------- risk controls ----------

  setTradingState(
    state: TradingState,
    reason: string,
    strategyId?: string,
  ): { previous: TradingState; current: TradingState } {
    const previous = strategyId ? this.risk.strategyState(strategyId) : this.risk.tradingState;
    this.risk.setTradingState(state, reason, this.now(), strategyId);
    return { previous, current: strategyId ? this.risk.strategyState(strategyId) : this.risk.tradingState };
  }

  private onTradingStateChange(c: TradingStateChange): void {
    this.log.warn("trading state changed", { ...c });
    if (c.to === "HALTED") {
      // The kill switch: nothing may rest on the book.
      this.cancelAll(c.scope === "portfolio" ? undefined : c.scope);
    }
    for (const l of this.stateListeners) l(c);
  }

  /**
   * Closes positions with IOC market orders (through the risk engine: reducing orders pass in REDUCING; HALTED
   * refuses them). Returns the client order ids placed and the positions targeted.
   */
  forcePositionClose(strategyId: string, symbol?: string, venue?: string, reason = "force close") {
    if (!this.runtimes.has(strategyId) && this.portfolio.positions(strategyId).length === 0)
      throw new InvalidFieldError("strategy_id", strategyId, "unknown strategy");
    if (symbol && !this.instruments.has(symbol)) throw new InvalidFieldError("symbol", symbol, "unknown instrument");
    if (venue && !this.venues.has(venue)) throw new InvalidFieldError("venue", venue, "unknown venue");
    const placed: string[] = [];
    const closed: Position[] = [];
    const now = this.now();
    for (const p of this.portfolio.positions(strategyId)) {
      if (p.quantity.isZero() || (symbol && p.symbol !== symbol)) continue;
      const intent: OrderIntent = {
        strategyId,
        venue: venue || p.venue,
        symbol: p.symbol,
        side: p.quantity.gt(0) ? "SELL" : "BUY",
        type: "MARKET",
        timeInForce: "IOC",
        postOnly: false,
        quantity: p.quantity.abs(),
        tag: "force-close",
      };
      const rt = this.runtimes.get(strategyId);
      const id = this.route(rt, intent, now, this.midOf(intent.venue, intent.symbol));
      if (id) {
        placed.push(id);
        closed.push(p);
      }
    }
    this.log.warn("force position close", { strategyId, symbol, venue, reason, orders: placed });
    this.dispatch();
    return { clientOrderIds: placed, positionsClosed: closed };
  }

  // ---------- market data (hot path) ----------

  private async runMarketData(stream: SequencedStream<WireQuote>): Promise<void> {
    try {
      for await (const q of stream) {
        this.lastMdAt = this.now();
        this.onQuote(q);
      }
    } catch (err) {
      if (this.quoting) this.log.error("market-data loop ended", { error: String(err) });
    }
  }

  /** One tick. Public so an embedding (the local session, the bench) can feed quotes directly. */
  onQuote(q: WireQuote): void {
    const t0 = process.hrtime.bigint();
    this.counters.ticks++;
    const bid = +q.bid;
    const ask = +q.ask;
    if (!(bid > 0) || !(ask > bid)) return;
    let byVenue = this.quotesByVenue.get(q.venue);
    if (!byVenue) {
      byVenue = new Map();
      this.quotesByVenue.set(q.venue, byVenue);
    }
    const dq = new WireL1Quote(q, bid, ask);
    byVenue.set(q.symbol, dq);
    if (this.quoting) {
      const now = this.now();
      const mid = (bid + ask) / 2;
      const running = this.running;
      for (let i = 0; i < running.length; i++) {
        const rt = running[i]!;
        if (rt.symbols && !rt.symbols.has(q.symbol)) continue;
        if (rt.venues && !rt.venues.has(q.venue)) continue;
        rt.ctx.now = now;
        const intents = rt.strategy.onMarket(dq, rt.ctx);
        for (let k = 0; k < intents.length; k++) this.route(rt, intents[k]!, now, mid);
      }
      this.decisionHistogram.recordValue(Number(process.hrtime.bigint() - t0));
      this.dispatch();
    }
    this.opts.bridge?.offerSnapshot(q);
  }

  /**
   * Intent → risk → local order (or a cancel). Synchronous; returns the client order id of a placed order.
   * Denials call the strategy's onOrderEvent (DENIED) so it backs off.
   */
  private route(rt: Runtime | undefined, intent: OrderIntent, now: number, mid: number): string | undefined {
    if (intent.cancelOrderId !== undefined) {
      const o = this.orders.get(intent.cancelOrderId);
      if (o && !o.pendingCancel) {
        o.pendingCancel = true;
        this.outbound.push({ kind: "cancel", order: o });
      }
      return undefined;
    }
    if (this.orders.size >= this.maxOpenOrders) {
      this.counters.openOrderCapDenials++;
      this.denied(rt, intent, now, "max open orders");
      return undefined;
    }
    const ro = this.riskOrder;
    ro.strategyId = intent.strategyId;
    ro.symbol = intent.symbol;
    ro.side = intent.side;
    ro.type = intent.type;
    ro.quantity = decNum(intent.quantity);
    ro.limitPrice = intent.limitPrice === undefined ? undefined : decNum(intent.limitPrice);
    ro.isCancel = false;
    const ro2 = this.riskOpts;
    ro2.mid = mid;
    ro2.feeRate = this.takerFees.get(intent.venue);
    const ctx = riskContextFromPortfolio(this.portfolio, intent.strategyId, intent.symbol, ro2, this.riskCtx);
    const d = this.risk.checkOrder(ro, ctx, now);
    if (!d.approved) {
      this.counters.riskDenials++;
      this.countDenial(d.denial);
      this.denied(rt, intent, now, d.denial.message);
      return undefined;
    }
    const id = this.sessionPrefix + (++this.orderSeq).toString(36);
    const o: LiveOrder = {
      orderId: id,
      clientOrderId: id,
      strategyId: intent.strategyId,
      venue: intent.venue,
      symbol: intent.symbol,
      side: intent.side,
      quantity: intent.quantity,
      remainingQuantity: intent.quantity,
      acked: false,
      cancelSent: false,
      pendingCancel: false,
      createdAt: now,
    };
    if (intent.limitPrice !== undefined) o.limitPrice = intent.limitPrice;
    if (intent.tag !== undefined) o.tag = intent.tag;
    this.orders.set(id, o);
    if (rt) rt.open.push(o);
    this.counters.quotes++;
    this.outbound.push({ kind: "place", order: o, intent });
    return id;
  }

  private denied(rt: Runtime | undefined, intent: OrderIntent, now: number, reason: string): void {
    if (!rt?.strategy.onOrderEvent) return;
    const ev: OrderEventView = {
      ts: now,
      kind: "DENIED",
      venue: intent.venue,
      symbol: intent.symbol,
      side: intent.side,
      filledQuantity: ZERO,
      reason,
    };
    if (intent.tag !== undefined) ev.tag = intent.tag;
    rt.strategy.onOrderEvent(ev, rt.ctx);
  }

  private countDenial(d: RiskDenial): void {
    this.denialsByRule.set(d.rule, (this.denialsByRule.get(d.rule) ?? 0) + 1);
  }

  /**
   * Sends what the decision produced. Each call runs on its own; the tick handler never awaits them.
   * A post-only place that cannot cross any order of ours still on the book goes out first, ahead of the cancels
   * (the first order of a tick then does not queue behind a cancel on the wire and at the exchange). A replaced
   * quote only crosses our OPPOSITE side, never the old quote it replaces, so this is safe whatever the cancels'
   * fate. Every other place is sent after all the cancels (the exchange may still serve concurrent calls out of
   * order, so this narrows, but does not close, the window for a post-only rejection).
   */
  private dispatch(): void {
    const out = this.outbound;
    for (let i = 0; i < out.length; i++) {
      const x = out[i]!;
      if (x.kind === "place" && this.cannotCrossOwn(x.order, x.intent)) {
        x.sent = true;
        this.sendPlace(x.order, x.intent);
      }
    }
    for (let i = 0; i < out.length; i++) {
      const x = out[i]!;
      if (x.kind === "cancel") this.sendCancel(x.order);
    }
    for (let i = 0; i < out.length; i++) {
      const x = out[i]!;
      if (x.kind === "place" && !x.sent) this.sendPlace(x.order, x.intent);
    }
    out.length = 0;
  }

  /** True when a post-only limit order is strictly inside every opposite-side order of ours on its book. */
  private cannotCrossOwn(o: LiveOrder, intent: OrderIntent): boolean {
    if (!intent.postOnly || intent.type !== "LIMIT" || intent.limitPrice === undefined) return false;
    const px = decNum(intent.limitPrice);
    const buy = o.side === "BUY";
    for (const other of this.orders.values()) {
      if (other.side === o.side || other.venue !== o.venue || other.symbol !== o.symbol) continue;
      if (other.limitPrice === undefined) return false; // a resting market order: unknown, keep the safe order
      const opx = decNum(other.limitPrice);
      if (buy ? px >= opx : px <= opx) return false;
    }
    return true;
  }

  private track<T>(p: Promise<T>): void {
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  private sendPlace(o: LiveOrder, intent: OrderIntent): void {
    this.counters.ordersPlaced++;
    const p = this.opts.exchange
      .placeOrder({
        clientOrderId: o.clientOrderId,
        venue: o.venue,
        symbol: o.symbol,
        side: o.side,
        type: intent.type,
        quantity: intent.quantity,
        ...(intent.limitPrice !== undefined ? { price: intent.limitPrice } : {}),
        timeInForce: intent.timeInForce,
        postOnly: intent.postOnly,
        strategyId: o.strategyId,
        accountId: this.accountId,
        riskChecked: true,
        riskCheckId: `quoter-risk:${o.clientOrderId}`,
      })
      .then(
        (res) => {
          o.acked = true;
          const order = res.order;
          if (order) o.exchangeOrderId = order.orderId;
          if (order && CLOSED_STATUSES.has(order.status)) {
            if (order.status === OrderStatus.REJECTED) this.counters.ordersRejected++;
            this.closeOrder(
              o,
              order.status === OrderStatus.REJECTED
                ? "REJECTED"
                : order.status === OrderStatus.EXPIRED
                  ? "EXPIRED"
                  : "CANCELED",
              order.rejectReason,
            );
            return;
          }
          this.counters.ordersAcked++;
          if (order?.status === OrderStatus.FILLED) return; // the execution stream closes it
          if (o.pendingCancel && !o.cancelSent) this.sendCancel(o);
        },
        (err: unknown) => {
          this.counters.placeErrors++;
          const business = err instanceof InvalidArgumentError || err instanceof RejectedError;
          this.log.warn("place failed", { clientOrderId: o.clientOrderId, error: String(err) });
          if (business) {
            this.closeOrder(o, "REJECTED", String(err));
            return;
          }
          // Unknown outcome (deadline, peer down): the order may rest on the book. Cancel by client order id
          // (idempotent; NOT_FOUND means it never landed) before forgetting it.
          o.acked = true;
          o.pendingCancel = true;
          this.sendCancel(o);
        },
      );
    this.track(p);
  }

  private sendCancel(o: LiveOrder): void {
    if (!o.acked || o.cancelSent || !this.orders.has(o.clientOrderId)) return; // sent after the place answers
    o.cancelSent = true;
    this.counters.cancelsSent++;
    const p = this.opts.exchange.cancelOrder({ clientOrderId: o.clientOrderId, accountId: this.accountId }).then(
      (res) => {
        this.counters.cancelsConfirmed++;
        const st = res.order?.status;
        // Not canceled because already closed: filled (executions close it) or rejected/expired.
        if (res.canceled || st === undefined || CLOSED_STATUSES.has(st)) this.closeOrder(o, "CANCELED");
        else if (st === OrderStatus.FILLED) this.closeOrder(o, undefined);
      },
      (err: unknown) => {
        if (err instanceof NotFoundError) {
          this.closeOrder(o, "CANCELED");
          return;
        }
        this.counters.cancelErrors++;
        o.cancelSent = false; // the timer retries
        this.log.warn("cancel failed; will retry", { clientOrderId: o.clientOrderId, error: String(err) });
      },
    );
    this.track(p);
  }

  private closeOrder(o: LiveOrder, kind: OrderEventView["kind"] | undefined, reason?: string): void {
    if (!this.orders.delete(o.clientOrderId)) return;
    const rt = this.runtimes.get(o.strategyId);
    if (!rt) return;
    const i = rt.open.indexOf(o);
    if (i >= 0) rt.open.splice(i, 1);
    if (kind && rt.strategy.onOrderEvent) {
      const ev: OrderEventView = {
        ts: this.now(),
        kind,
        orderId: o.clientOrderId,
        venue: o.venue,
        symbol: o.symbol,
        side: o.side,
        filledQuantity: o.quantity.minus(o.remainingQuantity),
      };
      if (o.tag !== undefined) ev.tag = o.tag;
      if (reason) ev.reason = reason;
      rt.ctx.now = ev.ts;
      this.routeAll(rt, rt.strategy.onOrderEvent(ev, rt.ctx));
    }
  }

  private routeAll(rt: Runtime, intents: OrderIntent[]): void {
    if (intents.length === 0 || !this.quoting || rt.state !== "RUNNING") return;
    const now = this.now();
    for (const it of intents) this.route(rt, it, now, this.midOf(it.venue, it.symbol));
    this.dispatch();
  }

  /** Cancels every open order (optionally of one strategy). Orders not yet acknowledged are canceled on the ack. */
  cancelAll(strategyId?: string): number {
    let n = 0;
    for (const o of this.orders.values()) {
      if (strategyId && o.strategyId !== strategyId) continue;
      o.pendingCancel = true;
      this.sendCancel(o);
      n++;
    }
    return n;
  }

  private async cancelAllAndWait(timeoutMs: number, strategyId?: string): Promise<void> {
    const deadline = this.now() + timeoutMs;
    const left = () => [...this.orders.values()].filter((o) => !strategyId || o.strategyId === strategyId).length;
    while (left() > 0 && this.now() < deadline) {
      this.cancelAll(strategyId);
      await Promise.race([Promise.allSettled([...this.inflight]), sleep(50)]);
    }
    if (left() > 0) this.log.error("open orders remain after cancel-all", { remaining: left(), strategyId });
  }

  /** At start-up: orders of this account's strategies left by an earlier process are canceled. */
  private async sweepOrphans(): Promise<void> {
    const ids = new Set(this.runtimes.keys());
    if (ids.size === 0) return;
    try {
      const open = await this.opts.exchange.listOpenOrders({ accountId: this.accountId });
      const mine = open.filter((o) => ids.has(o.strategyId));
      for (const o of mine) await this.opts.exchange.cancelOrder({ orderId: o.orderId, accountId: this.accountId });
      if (mine.length > 0) this.log.warn("canceled orphan orders from an earlier run", { count: mine.length });
    } catch (err) {
      this.log.warn("orphan sweep failed", { error: String(err) });
    }
  }

  // ---------- executions ----------

  private async runExecutions(stream: ExecutionStream): Promise<void> {
    try {
      for await (const ex of stream) {
        this.execDropped = false;
        const bridged = this.applyExecution(ex);
        if (bridged) await bridged; // back-pressure from the bus bridge slows reading the stream
      }
    } catch (err) {
      if (this.started) this.log.error("execution loop ended", { error: String(err) });
    }
  }

  /** Applies one execution exactly once (by sequence, and by execution id as a second guard). */
  applyExecution(ex: Execution): Promise<void> | undefined {
    this.counters.executionsSeen++;
    if (ex.sequence <= this.lastApplied || this.appliedExecutionIds.has(ex.executionId)) {
      this.counters.duplicateExecutions++;
      return undefined;
    }
    this.lastApplied = ex.sequence;
    const o = this.orders.get(ex.clientOrderId);
    if (!o && !ex.clientOrderId.startsWith(this.sessionPrefix)) {
      this.counters.executionsIgnored++; // not an order of this process
      return undefined;
    }
    const side = SIDE_OF[ex.side];
    if (!side) return undefined;
    const strategyId = o?.strategyId ?? ex.strategyId;
    this.appliedExecutionIds.add(ex.executionId);
    this.portfolio.applyFill({
      strategyId,
      symbol: ex.symbol,
      venue: ex.venue,
      side,
      quantity: ex.quantity,
      price: ex.price,
      fee: ex.fee || "0",
      ...(ex.feeAsset ? { feeCurrency: ex.feeAsset } : {}),
      ts: ex.timestampMs,
      fillId: ex.executionId,
      orderId: ex.orderId,
    });
    this.counters.fills++;
    const rt = this.runtimes.get(strategyId);
    if (o) {
      o.remainingQuantity = new Decimal(ex.remainingQuantity || "0");
      const done = o.remainingQuantity.isZero() || ex.orderStatus === OrderStatus.FILLED;
      if (done) this.closeOrder(o, undefined);
    }
    if (rt) {
      const fill: FillView = {
        ts: ex.timestampMs,
        orderId: ex.clientOrderId,
        venue: ex.venue,
        symbol: ex.symbol,
        side,
        quantity: new Decimal(ex.quantity),
        price: new Decimal(ex.price),
        fee: new Decimal(ex.fee || "0"),
        liquidity: ex.liquidity === 2 ? "TAKER" : "MAKER",
        remainingQuantity: o?.remainingQuantity ?? ZERO,
      };
      if (o?.tag !== undefined) fill.tag = o.tag;
      rt.ctx.now = this.now();
      this.routeAll(rt, rt.strategy.onFill(fill, rt.ctx));
    }
    return this.opts.bridge?.publishExecution(ex);
  }

  // ---------- timer, marks, reconciliation ----------

  private onTimer(): void {
    const now = this.now();
    this.refreshMarks(false);
    try {
      this.risk.markEquity(this.portfolio.equityNumber(), now);
    } catch (err) {
      this.log.warn("equity mark failed", { error: String(err) });
    }
    for (const o of this.orders.values()) if (o.pendingCancel && o.acked && !o.cancelSent) this.sendCancel(o);
    if (!this.quoting) return;
    for (const rt of this.running) {
      rt.ctx.now = now;
      const intents = rt.strategy.onTimer(now, rt.ctx);
      if (intents.length > 0) this.routeAll(rt, intents);
    }
  }

  /** Portfolio marks from the latest mids (throttled per symbol unless forced; off the tick path). */
  private refreshMarks(force: boolean): void {
    const now = this.now();
    for (const byVenue of this.quotesByVenue.values()) {
      for (const [symbol, q] of byVenue) {
        if (!force && now - (this.lastMarkAt.get(symbol) ?? 0) < 200) continue;
        this.portfolio.setMark(symbol, q.bid.plus(q.ask).div(2));
        this.lastMarkAt.set(symbol, now);
      }
    }
  }

  /**
   * Compares local inventory with the state store's positions (strategies of this quoter).
   * Policy: a difference is a drift (logged, counted). The store is fed asynchronously from the very executions
   * this quoter applies, so a difference seen once may be in flight. A drift that persists unchanged across two
   * consecutive reconciliations (same local quantity, same stored version) is corrected: the local inventory adopts
   * the store's quantity (the store is the system of record) through an adjusting fill at the current mark.
   */
  async reconcile(): Promise<{ drifts: number; corrected: number }> {
    const repo = this.opts.positions;
    if (!repo) return { drifts: 0, corrected: 0 };
    this.counters.reconciliations++;
    let drifts = 0;
    let corrected = 0;
    try {
      const stored = await repo.listPositions();
      const byKey = new Map(stored.map((p) => [`${p.strategyId}|${p.symbol}`, p]));
      const keys = new Set<string>();
      for (const id of this.runtimes.keys()) {
        for (const p of this.portfolio.positions(id)) keys.add(`${id}|${p.symbol}`);
        for (const p of stored) if (p.strategyId === id) keys.add(`${id}|${p.symbol}`);
      }
      this.refreshMarks(true);
      for (const key of keys) {
        const [sid, symbol] = key.split("|") as [string, string];
        const local = this.portfolio.position(sid, symbol)?.quantity ?? ZERO;
        const s = byKey.get(key);
        const remote = s?.quantity ?? ZERO;
        if (local.eq(remote)) {
          this.driftSeen.delete(key);
          continue;
        }
        drifts++;
        this.counters.reconcileDrifts++;
        const seen = this.driftSeen.get(key);
        const version = s?.version ?? 0;
        this.log.warn("inventory drift vs state store", {
          strategyId: sid,
          symbol,
          local: local.toFixed(),
          stored: remote.toFixed(),
          storedVersion: version,
          persistent: !!seen,
        });
        if (seen && seen.local === local.toFixed() && seen.stored === remote.toFixed() && seen.version === version) {
          const mark = this.portfolio.mark(symbol);
          if (!mark) continue;
          const delta = remote.minus(local);
          this.portfolio.applyFill({
            strategyId: sid,
            symbol,
            venue: this.portfolio.position(sid, symbol)?.venue ?? s?.venue ?? this.opts.venues[0]!,
            side: delta.gt(0) ? "BUY" : "SELL",
            quantity: delta.abs(),
            price: mark,
            fee: "0",
            ts: this.now(),
            fillId: `reconcile-${this.now()}`,
          });
          corrected++;
          this.counters.reconcileCorrections++;
          this.driftSeen.delete(key);
          this.log.warn("inventory corrected to the state store", { strategyId: sid, symbol, delta: delta.toFixed() });
        } else {
          this.driftSeen.set(key, { local: local.toFixed(), stored: remote.toFixed(), version });
        }
      }
    } catch (err) {
      this.counters.reconcileErrors++;
      this.log.error("reconciliation failed", { error: String(err) });
    }
    return { drifts, corrected };
  }

  // ---------- lookups for the context ----------

  latestQuote(venue: string, symbol: string): L1Quote | undefined {
    return this.quotesByVenue.get(venue)?.get(symbol);
  }
  *allQuotes(): Iterable<L1Quote> {
    for (const m of this.quotesByVenue.values()) yield* m.values();
  }
  instrumentOf(symbol: string): Instrument | undefined {
    return this.instruments.get(symbol);
  }
  venueOf(id: string): Venue | undefined {
    return this.venues.get(id);
  }
  private midOf(venue: string, symbol: string): number {
    const q = this.quotesByVenue.get(venue)?.get(symbol);
    if (q?.n) return (q.n.bid + q.n.ask) / 2;
    return this.portfolio.markNumber(symbol);
  }

  /** This shard's symbols. */
  get symbols(): readonly string[] {
    return this.opts.symbols;
  }
  get subscribedVenues(): readonly string[] {
    return this.opts.venues;
  }
  /** Marks from the latest mids now (control API reads). */
  refreshMarksNow(): void {
    this.refreshMarks(true);
  }

  /** Client-manager breaker states (closed/open/half-open), for metrics. */
  breakerStates(): Record<string, string> {
    return (this.opts.manager?.breakerStates() as Record<string, string> | undefined) ?? {};
  }
  /** Per-method client latency stats from the ClientManager ({} without one). */
  grpcStats(): Record<string, { p50Us: number; p99Us: number }> {
    return (this.opts.manager?.stats() as Record<string, { p50Us: number; p99Us: number }> | undefined) ?? {};
  }
  get bridge(): BusBridge | undefined {
    return this.opts.bridge;
  }
  /** Wall time spent (for metrics uptime). */
  readonly startedAtPerf = performance.now();
}

/**
 * Domain view of a wire quote: the numbers are parsed once; the Decimals are built only if a strategy reads them
 * (the market-making strategies read the numeric mirror `n`), keeping the tick path free of decimal parsing.
 */
class WireL1Quote implements FastL1Quote {
  readonly ts: number;
  readonly venue: string;
  readonly symbol: string;
  readonly n: { bid: number; ask: number; bidSize: number; askSize: number };
  private d: { bid?: Decimal; ask?: Decimal; bidSize?: Decimal; askSize?: Decimal } = {};
  constructor(
    private readonly w: WireQuote,
    bid: number,
    ask: number,
  ) {
    this.ts = w.timestamp;
    this.venue = w.venue;
    this.symbol = w.symbol;
    this.n = { bid, ask, bidSize: +w.bidSize || 0, askSize: +w.askSize || 0 };
  }
  get bid(): Decimal {
    this.d.bid ??= new Decimal(this.w.bid);
    return this.d.bid;
  }
  get ask(): Decimal {
    this.d.ask ??= new Decimal(this.w.ask);
    return this.d.ask;
  }
  get bidSize(): Decimal {
    this.d.bidSize ??= this.w.bidSize ? new Decimal(this.w.bidSize) : ZERO;
    return this.d.bidSize;
  }
  get askSize(): Decimal {
    this.d.askSize ??= this.w.askSize ? new Decimal(this.w.askSize) : ZERO;
    return this.d.askSize;
  }
}

/** Decimal → number, memoised per Decimal instance (strategies reuse their quantity and per-tick price Decimals). */
const decNums = new WeakMap<Decimal, number>();
function decNum(d: Decimal): number {
  let n = decNums.get(d);
  if (n === undefined) {
    n = d.toNumber();
    decNums.set(d, n);
  }
  return n;
}

const silentLogger: QuoterLogger = { debug() {}, info() {}, warn() {}, error() {} };
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
