// The always-on quoter: market data → strategies (the engine's StrategyHost) → in-process risk → post-only orders
// on the venue, executions → inventory (exactly once, resumed by sequence), bridges to the bus, periodic
// reconciliation with the state store. It talks to the world through the exchange and market-data ports only.
//
// The decision path (tick → order intents) is synchronous: no awaits, no logging, numbers instead of Decimals where
// the domain offers fast paths. Its duration goes into an HDR histogram (ns). Venue calls are issued after the
// decision is timed, without awaiting them in the tick handler (quoter/Dispatcher.ts).
import { performance } from "node:perf_hooks";
import * as hdr from "hdr-histogram-js";
import { Decimal, ZERO } from "../lib/domain/decimal";
import { InvalidFieldError } from "../lib/domain/errors";
import { DEFAULT_INSTRUMENTS, DEFAULT_VENUES } from "../lib/domain/instruments";
import { Portfolio } from "../lib/domain/portfolio/Portfolio";
import type { Position } from "../lib/domain/portfolio/position";
import { riskContextFromPortfolio } from "../lib/domain/risk/context";
import { type RiskContext, RiskEngine, type TradingStateChange } from "../lib/domain/risk/RiskEngine";
import type { FastL1Quote } from "../lib/domain/strategies/quoteMath";
import type { FillView, OrderEventView } from "../lib/domain/strategies/Strategy";
import type { Instrument, L1Quote, OrderIntent, TradingState, Venue } from "../lib/domain/types";
import { ExecutionApplier } from "../lib/engine/ExecutionApplier";
import { OrderTracker, type TrackedOrder } from "../lib/engine/OrderTracker";
import { type IntentRouter, newRiskContext, type Refusal, StrategyHost } from "../lib/engine/StrategyHost";
import type { ExecutionFeed, ExecutionReport } from "../lib/ports/Exchange";
import type { MarketQuote, QuoteFeed } from "../lib/ports/MarketData";
import type { BusBridge } from "./bridge/BusBridge";
import { Dispatcher } from "./Dispatcher";
import { Reconciler } from "./Reconciler";
import { type QuoterSlot, StrategyRegistry } from "./strategies";
import {
  newCounters,
  type QuoterCounters,
  type QuoterLogger,
  type QuoterOptions,
  type QuoterStatus,
  type QuoterStrategySpec,
  type StrategyStatusView,
  silentLogger,
  sleep,
} from "./types";
import { WireL1Quote } from "./WireL1Quote";

export type {
  QuoterCounters,
  QuoterLogger,
  QuoterOptions,
  QuoterStatus,
  QuoterStrategySpec,
  StrategyRunState,
  StrategyStatusView,
} from "./types";
/** One order this process placed and has not seen closed (the engine's tracked order). */
export type LiveOrder = TrackedOrder;

const OPEN_ORDER_CAP: Refusal = { kind: "DENIED", rule: "max-open-orders", reason: "max open orders" };

export class Quoter {
  readonly portfolio: Portfolio;
  readonly risk: RiskEngine;
  readonly venueList: readonly Venue[];
  readonly accountId: string;
  readonly quoterId: string;
  /** Every client order id this process creates starts with it (executions are matched by it). */
  readonly sessionPrefix: string;
  readonly counters: QuoterCounters = newCounters();
  /** Tick → intents, nanoseconds. */
  readonly decisionHistogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 10_000_000_000,
    numberOfSignificantValueDigits: 3,
  });
  /** Quoter-level cap on open orders (SetRiskLimits max_open_orders changes it). */
  maxOpenOrders: number;
  /** Wall time spent (for metrics uptime). */
  readonly startedAtPerf = performance.now();

  private readonly opts: QuoterOptions;
  private readonly log: QuoterLogger;
  private readonly now: () => number;
  private readonly instruments = new Map<string, Instrument>();
  private readonly venues = new Map<string, Venue>();
  private readonly takerFees = new Map<string, number>();
  private readonly quotesByVenue = new Map<string, Map<string, FastL1Quote>>();
  private readonly lastMarkAt = new Map<string, number>();
  private readonly tracker = new OrderTracker();
  private readonly registry: StrategyRegistry;
  private readonly host: StrategyHost<QuoterSlot>;
  private readonly dispatcher: Dispatcher;
  private readonly applier: ExecutionApplier;
  private readonly reconciler: Reconciler | undefined;
  private readonly riskCtx: RiskContext = newRiskContext();
  private readonly riskOpts: { mid?: number; feeRate?: number } = {};
  private orderSeq = 0;
  private lastPlaced: string | undefined;
  private started = false;
  private quoting = false;
  private mdStream: QuoteFeed | undefined;
  private execStream: ExecutionFeed | undefined;
  private mdLoop: Promise<void> | undefined;
  private execLoop: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reconcileTimer: NodeJS.Timeout | undefined;
  private lastMdAt = 0;
  private gapLoggedAt = Number.NEGATIVE_INFINITY;
  private gapsAtLastLog = 0;
  private execConnectsAtDrop = 0;
  private execDropped = true;
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
    this.registry = new StrategyRegistry({
      symbols: opts.symbols,
      venues: opts.venues,
      allowChaosStrategies: opts.allowChaosStrategies === true,
      market: this,
      now: this.now,
      openOf: (id) => this.tracker.openOf(id),
    });
    this.dispatcher = new Dispatcher({
      exchange: opts.exchange,
      tracker: this.tracker,
      counters: this.counters,
      log: this.log,
      accountId: this.accountId,
      now: this.now,
      onClosed: (o, kind, reason) => this.onOrderClosed(o, kind, reason),
    });
    this.host = new StrategyHost<QuoterSlot>({
      risk: this.risk,
      router: this.router,
      ...(opts.throttle ? { throttle: opts.throttle } : {}),
    });
    this.applier = new ExecutionApplier(
      this.portfolio,
      (e) => this.tracker.get(e.clientOrderId) !== undefined || e.clientOrderId.startsWith(this.sessionPrefix),
    );
    this.reconciler = opts.positions
      ? new Reconciler({
          repo: opts.positions,
          portfolio: this.portfolio,
          strategyIds: () => this.registry.ids(),
          refreshMarks: () => this.refreshMarks(true),
          defaultVenue: opts.venues[0]!,
          counters: this.counters,
          log: this.log,
          now: this.now,
        })
      : undefined;
    for (const s of opts.strategies ?? []) this.addStrategy(s);
  }

  /** What the strategy host's intents mean here: orders on the venue, through the tracker and the dispatcher. */
  private readonly router: IntentRouter<QuoterSlot> = {
    cancel: (_slot, orderId) => {
      const o = this.tracker.get(orderId);
      if (o) this.dispatcher.queueCancel(o);
    },
    precheck: () => {
      if (this.tracker.size < this.maxOpenOrders) return undefined;
      this.counters.openOrderCapDenials++;
      return OPEN_ORDER_CAP;
    },
    riskContext: (_slot, intent, mid) => {
      const ro = this.riskOpts;
      ro.mid = mid;
      ro.feeRate = this.takerFees.get(intent.venue);
      return riskContextFromPortfolio(this.portfolio, intent.strategyId, intent.symbol, ro, this.riskCtx);
    },
    place: (_slot, intent, now) => {
      const id = this.sessionPrefix + (++this.orderSeq).toString(36);
      this.dispatcher.queuePlace(this.tracker.open(intent, id, now));
      this.counters.quotes++;
      this.lastPlaced = id;
    },
    active: (slot) => this.quoting && slot.state === "RUNNING",
    refused: (_slot, _intent, _now, r) => {
      if (r !== OPEN_ORDER_CAP) this.counters.riskDenials++;
    },
  };

  private readonly midOf = (venue: string, symbol: string): number => {
    const q = this.quotesByVenue.get(venue)?.get(symbol);
    if (q?.n) return (q.n.bid + q.n.ask) / 2;
    return this.portfolio.markNumber(symbol);
  };

  /** Executions applied (tests assert exactly-once against the exchange). */
  get appliedExecutionIds(): ReadonlySet<string> {
    return this.applier.appliedIds;
  }
  /** Denials by rule (risk rules and the open-order cap). */
  get denialsByRule(): ReadonlyMap<string, number> {
    return this.host.denialsByRule;
  }

  // ---------- lifecycle ----------

  /** Opens both streams and starts quoting (strategies given in the options start RUNNING). */
  async start(): Promise<void> {
    if (this.started) throw new Error("quoter already started");
    this.started = true;
    try {
      const n = await OrderTracker.sweepOrphans(this.opts.exchange, this.accountId, new Set(this.registry.ids()));
      if (n > 0) this.log.warn("canceled orphan orders from an earlier run", { count: n });
    } catch (err) {
      this.log.warn("orphan sweep failed", { error: String(err) });
    }
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
        this.execConnectsAtDrop = this.execStream?.connects ?? 0;
        this.counters.executionReconnects++;
        this.log.warn("execution stream dropped; resuming from the last applied sequence", {
          lastApplied: this.applier.lastSequence,
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
        this.mdStream?.resetSequences();
        this.lastMdAt = 0;
        this.log.warn("market-data stream dropped; reconnecting", { error: err?.message });
      },
    });
    this.mdLoop = this.runMarketData(this.mdStream);
    this.quoting = true;
    this.timer = setInterval(() => this.onTimer(), this.opts.timerIntervalMs ?? 250);
    const rec = this.opts.reconcileIntervalMs ?? 30_000;
    if (this.reconciler && rec > 0) this.reconcileTimer = setInterval(() => void this.reconcile(), rec);
    this.log.info("quoter started", {
      symbols: this.opts.symbols,
      venues: this.opts.venues,
      accountId: this.accountId,
      strategies: [...this.registry.ids()],
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
    const before = this.tracker.size;
    await this.dispatcher.cancelAllAndWait(Math.max(100, (deadline - this.now()) * 0.6));
    // Executions for fills that raced the cancels still arrive on the stream: give it a moment before closing.
    await sleep(Math.min(200, Math.max(0, deadline - this.now() - 1_000)));
    let bridgeFlushed = true;
    if (this.opts.bridge) bridgeFlushed = await this.opts.bridge.close(Math.max(100, deadline - this.now() - 100));
    this.execStream?.close();
    await Promise.race([Promise.allSettled([this.mdLoop, this.execLoop]), sleep(500)]);
    for (const id of this.registry.ids()) {
      const rt = this.registry.get(id)!;
      if (rt.state === "RUNNING") this.registry.setState(rt, "STOPPED", "quoter stopped");
    }
    this.started = false;
    const remaining = this.tracker.size;
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
      openOrders: this.tracker.size,
      lastAppliedSequence: this.applier.lastSequence,
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
      if (s.connects > this.execConnectsAtDrop) this.execDropped = false;
      else return false;
    }
    return s.connects > 0;
  }
  get lastAppliedSequence(): number {
    return this.applier.lastSequence;
  }
  /** Open orders this process tracks (all strategies). */
  openOrders(): LiveOrder[] {
    return [...this.tracker.values()];
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
    this.registry.add(spec, run);
    return this.strategyStatus(spec.id)!;
  }

  /** Stops quoting a strategy; by default cancels its open orders and waits (bounded) for the answers. */
  async stopStrategy(id: string, opts: { cancelOpenOrders?: boolean; flatten?: boolean; reason?: string } = {}) {
    const rt = this.registry.get(id);
    if (!rt) throw new InvalidFieldError("strategy_id", id, "unknown strategy");
    this.registry.setState(rt, "STOPPING", opts.reason ?? "stop requested");
    if (opts.cancelOpenOrders ?? true) await this.dispatcher.cancelAllAndWait(3_000, id);
    if (opts.flatten) this.forcePositionClose(id, undefined, undefined, opts.reason ?? "stop with flatten");
    this.registry.setState(rt, "STOPPED", opts.reason ?? "stopped");
    return this.strategyStatus(id)!;
  }

  strategyStatus(id: string): StrategyStatusView | undefined {
    return this.registry.status(id, (sid) => {
      try {
        this.refreshMarks(true);
        return this.portfolio.unrealizedPnl(sid).toFixed();
      } catch {
        return ""; // an open position without a mark yet
      }
    });
  }

  listStrategies(): StrategyStatusView[] {
    return [...this.registry.ids()].map((id) => this.strategyStatus(id)!);
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
    // The kill switch: nothing may rest on the book.
    if (c.to === "HALTED") this.cancelAll(c.scope === "portfolio" ? undefined : c.scope);
    for (const l of this.stateListeners) l(c);
  }

  /** Cancels every open order (optionally of one strategy). Orders not yet acknowledged are canceled on the ack. */
  cancelAll(strategyId?: string): number {
    return this.dispatcher.cancelAll(strategyId);
  }

  /**
   * Closes positions with IOC market orders (through the risk engine: reducing orders pass in REDUCING; HALTED
   * refuses them). Returns the client order ids placed and the positions targeted.
   */
  forcePositionClose(strategyId: string, symbol?: string, venue?: string, reason = "force close") {
    const slot = this.registry.get(strategyId) ?? this.registry.detached(strategyId);
    if (!this.registry.get(strategyId) && this.portfolio.positions(strategyId).length === 0)
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
      this.lastPlaced = undefined;
      if (this.host.routeOne(slot, intent, now, this.midOf(intent.venue, intent.symbol)) && this.lastPlaced) {
        placed.push(this.lastPlaced);
        closed.push(p);
      }
    }
    this.log.warn("force position close", { strategyId, symbol, venue, reason, orders: placed });
    this.dispatcher.dispatch();
    return { clientOrderIds: placed, positionsClosed: closed };
  }

  // ---------- market data (hot path) ----------

  private async runMarketData(stream: QuoteFeed): Promise<void> {
    try {
      for await (const q of stream) {
        this.lastMdAt = this.now();
        this.onQuote(q);
      }
    } catch (err) {
      if (this.quoting) this.log.error("market-data loop ended", { error: String(err) });
    }
  }

  /** One tick. Public so an embedding (the local session, the bench, tests) can feed quotes directly. */
  onQuote(q: MarketQuote): void {
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
      const running = this.registry.running;
      for (let i = 0; i < running.length; i++) {
        const rt = running[i]!;
        if (!rt.symbolSet.has(q.symbol) || !rt.venueSet.has(q.venue)) continue;
        this.host.onMarket(rt, dq, now, mid);
      }
      this.decisionHistogram.recordValue(Number(process.hrtime.bigint() - t0));
      this.dispatcher.dispatch();
    }
    this.opts.bridge?.offerSnapshot(q);
  }

  /** A tracked order closed without filling: its strategy hears of it (and may act). */
  private onOrderClosed(o: TrackedOrder, kind: OrderEventView["kind"] | undefined, reason?: string): void {
    const rt = this.registry.get(o.strategyId);
    if (!kind || !rt?.strategy.onOrderEvent) return;
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
    this.host.onOrderEvent(rt, ev, ev.ts, this.midOf);
    this.dispatcher.dispatch();
  }

  // ---------- executions ----------

  private async runExecutions(stream: ExecutionFeed): Promise<void> {
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
  applyExecution(ex: ExecutionReport): Promise<void> | undefined {
    this.counters.executionsSeen++;
    const o = this.tracker.get(ex.clientOrderId);
    const strategyId = o?.strategyId ?? ex.strategyId;
    const r = this.applier.apply(ex, strategyId);
    if (r === "duplicate") this.counters.duplicateExecutions++;
    else if (r === "foreign") this.counters.executionsIgnored++; // not an order of this process
    if (r !== "applied") return undefined;
    this.counters.fills++;
    const now = this.now();
    const remaining = ex.orderStatus === "filled" ? ZERO : new Decimal(ex.remainingQuantity || "0");
    if (o) this.tracker.fill(o, ex.quantity, ex.price, ex.fee, remaining, now);
    const rt = this.registry.get(strategyId);
    if (rt) {
      const fill: FillView = {
        ts: ex.timestampMs,
        orderId: ex.clientOrderId,
        venue: ex.venue,
        symbol: ex.symbol,
        side: ex.side!,
        quantity: new Decimal(ex.quantity),
        price: new Decimal(ex.price),
        fee: new Decimal(ex.fee || "0"),
        liquidity: ex.liquidity,
        remainingQuantity: o ? remaining : ZERO,
      };
      if (o?.tag !== undefined) fill.tag = o.tag;
      this.host.onFill(rt, fill, now, this.midOf);
      this.dispatcher.dispatch();
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
    this.dispatcher.retryCancels();
    if (!this.quoting) return;
    for (const rt of this.registry.running) this.host.onTimer(rt, now, this.midOf);
    this.dispatcher.dispatch();
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

  /** Local inventory vs the state store (quoter/Reconciler.ts); off without a position repository. */
  async reconcile(): Promise<{ drifts: number; corrected: number }> {
    return this.reconciler ? this.reconciler.reconcile() : { drifts: 0, corrected: 0 };
  }

  // ---------- lookups for the strategies' contexts ----------

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
}
