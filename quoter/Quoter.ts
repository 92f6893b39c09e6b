// The always-on quoter: market data → strategies (the engine's StrategyHost) → in-process risk → post-only orders
// on the venue, executions → inventory (exactly once, resumed by sequence), bridges to the bus, periodic
// reconciliation with the state store. It talks to the world through the exchange and market-data ports only.
//
// The decision path (tick → order intents) is synchronous: no awaits, no logging, numbers instead of Decimals where
// the domain offers fast paths. Its duration goes into an HDR histogram (ns). Venue calls are issued after the
// decision is timed, without awaiting them in the tick handler (quoter/Dispatcher.ts).
// One file: the facade that wires and runs the parts (Dispatcher, ExecutionApplier, Reconciler, router, streams).
import { performance } from "node:perf_hooks";
import * as hdr from "hdr-histogram-js";
import { Decimal, ZERO } from "../lib/domain/decimal";
import { InvalidFieldError } from "../lib/domain/errors";
import type { Portfolio } from "../lib/domain/portfolio/Portfolio";
import type { Position } from "../lib/domain/portfolio/position";
import { RiskEngine, type TradingStateChange } from "../lib/domain/risk/RiskEngine";
import type { FillView, OrderEventView } from "../lib/domain/strategies/Strategy";
import type { Instrument, L1Quote, OrderIntent, TradingState, Venue } from "../lib/domain/types";
import { ExecutionApplier } from "../lib/engine/ExecutionApplier";
import { OrderTracker, type TrackedOrder } from "../lib/engine/OrderTracker";
import { StrategyHost } from "../lib/engine/StrategyHost";
import type { ExecutionReport } from "../lib/ports/Exchange";
import type { MarketQuote } from "../lib/ports/MarketData";
import { inRootSpanSync } from "../lib/telemetry/spans";
import { tracing } from "../lib/telemetry/tracing";
import type { BusBridge } from "./bridge/BusBridge";
import { Dispatcher } from "./Dispatcher";
import { QuoterMarket } from "./market";
import { Reconciler } from "./Reconciler";
import { QuoterRouter } from "./router";
import { type QuoterSlot, StrategyRegistry } from "./strategies";
import { QuoterStreams } from "./streams";
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

export class Quoter {
  readonly market: QuoterMarket;
  readonly portfolio: Portfolio;
  readonly risk: RiskEngine;
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
  private readonly tracker = new OrderTracker();
  private readonly registry: StrategyRegistry;
  private readonly host: StrategyHost<QuoterSlot>;
  private readonly dispatcher: Dispatcher;
  private readonly applier: ExecutionApplier;
  private readonly reconciler: Reconciler | undefined;
  private readonly router: QuoterRouter;
  private started = false;
  private quoting = false;
  private readonly streams: QuoterStreams;
  private timer: NodeJS.Timeout | undefined;
  private reconcileTimer: NodeJS.Timeout | undefined;
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
    this.market = new QuoterMarket(opts);
    this.portfolio = this.market.portfolio;
    this.maxOpenOrders = opts.maxOpenOrders ?? 200;
    this.risk = new RiskEngine({
      limits: opts.riskLimits ?? { maxOrdersPerSecond: 200 },
      onStateChange: (c) => this.onTradingStateChange(c),
    });
    this.registry = new StrategyRegistry({
      symbols: opts.symbols,
      venues: opts.venues,
      allowChaosStrategies: opts.allowChaosStrategies === true,
      ...(opts.pluginStrategyTypes ? { pluginStrategyTypes: opts.pluginStrategyTypes } : {}),
      market: this.market,
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
      ...(opts.orderHops ? { hops: opts.orderHops } : {}),
    });
    this.router = new QuoterRouter({
      tracker: this.tracker,
      dispatcher: this.dispatcher,
      market: this.market,
      counters: this.counters,
      sessionPrefix: this.sessionPrefix,
      maxOpenOrders: () => this.maxOpenOrders,
      active: (slot) => this.quoting && slot.state === "RUNNING",
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
    this.streams = new QuoterStreams({
      exchange: opts.exchange,
      marketData: opts.marketData,
      accountId: this.accountId,
      symbols: opts.symbols,
      venues: opts.venues,
      marketDataIntervalMs: opts.marketDataIntervalMs ?? 100,
      executionsFromSequence: opts.executionsFromSequence ?? 1,
      reconnect: {
        initialDelayMs: opts.reconnect?.initialDelayMs ?? 100,
        maxDelayMs: opts.reconnect?.maxDelayMs ?? 2_000,
      },
      counters: this.counters,
      log: this.log,
      now: this.now,
      onQuote: (q) => this.onQuote(q),
      onExecution: (e) => this.applyExecution(e),
      lastApplied: () => this.applier.lastSequence,
      running: () => this.started,
    });
    for (const s of opts.strategies ?? []) this.addStrategy(s);
  }

  private readonly midOf = (venue: string, symbol: string): number => this.market.midOf(venue, symbol);

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
    this.streams.open();
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
    this.streams.closeMarketData();
    const before = this.tracker.size;
    await this.dispatcher.cancelAllAndWait(Math.max(100, (deadline - this.now()) * 0.6));
    // Executions for fills that raced the cancels still arrive on the stream: give it a moment before closing.
    await sleep(Math.min(200, Math.max(0, deadline - this.now() - 1_000)));
    let bridgeFlushed = true;
    if (this.opts.bridge) bridgeFlushed = await this.opts.bridge.close(Math.max(100, deadline - this.now() - 100));
    await this.streams.close(500);
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
    return this.streams.marketDataLive();
  }
  executionsLive(): boolean {
    return this.streams.executionsLive();
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
    if (symbol && !this.market.instrumentOf(symbol))
      throw new InvalidFieldError("symbol", symbol, "unknown instrument");
    if (venue && !this.market.venueOf(venue)) throw new InvalidFieldError("venue", venue, "unknown venue");
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
      this.router.lastPlaced = undefined;
      if (this.host.routeOne(slot, intent, now, this.midOf(intent.venue, intent.symbol)) && this.router.lastPlaced) {
        placed.push(this.router.lastPlaced);
        closed.push(p);
      }
    }
    this.log.warn("force position close", { strategyId, symbol, venue, reason, orders: placed });
    this.dispatcher.dispatch();
    return { clientOrderIds: placed, positionsClosed: closed };
  }

  // ---------- market data (hot path) ----------

  /** One tick. Public so an embedding (the local session, the bench, tests) can feed quotes directly. */
  onQuote(q: MarketQuote): void {
    if (tracing().enabled) this.tracedTick(q);
    else this.tick(q);
  }

  /**
   * The tick's decision span (tracing on only): orders and the snapshot it sends are its children. The sampler
   * decides here, once per tick; an unsampled tick costs its children no spans.
   */
  private tracedTick(q: MarketQuote): void {
    const before = this.counters.ordersPlaced;
    inRootSpanSync(
      "tse-quoter",
      "quoter.tick",
      () => ({ "tse.venue": q.venue, "tse.symbol": q.symbol, "tse.quote.sequence": q.sequence }),
      (span) => {
        this.tick(q);
        span?.setAttribute("tse.orders_placed", this.counters.ordersPlaced - before);
      },
    );
  }

  private tick(q: MarketQuote): void {
    const t0 = process.hrtime.bigint();
    this.counters.ticks++;
    const bid = +q.bid;
    const ask = +q.ask;
    if (!(bid > 0) || !(ask > bid)) return;
    const dq = new WireL1Quote(q, bid, ask);
    const now = this.now();
    this.market.store(dq, now);
    if (this.quoting) {
      const mid = (bid + ask) / 2;
      const running = this.registry.running;
      const hops = this.opts.orderHops;
      hops?.tickStarted();
      for (let i = 0; i < running.length; i++) {
        const rt = running[i]!;
        if (!rt.symbolSet.has(q.symbol) || !rt.venueSet.has(q.venue)) continue;
        this.host.onMarket(rt, dq, now, mid);
      }
      hops?.decided();
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
    this.opts.orderHops?.filled(ex.clientOrderId);
    const now = this.now();
    const remaining = ex.orderStatus === "filled" ? ZERO : new Decimal(ex.remainingQuantity || "0");
    if (o && this.tracker.fill(o, remaining, now)) this.dispatcher.releaseHeld(); // a filled order no longer blocks
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
    this.pullStaleQuotes(now);
    if (!this.quoting) return;
    for (const rt of this.registry.running) this.host.onTimer(rt, now, this.midOf);
    this.dispatcher.dispatch();
  }

  /** Orders resting on a book whose market data stopped (stalled, not closed) are canceled; the count is a metric. */
  private pullStaleQuotes(now: number): void {
    const bound = this.opts.staleQuoteMs ?? 3_000;
    if (bound <= 0) return;
    for (const o of this.tracker.values()) {
      const at = this.market.quoteArrivedAt(o.venue, o.symbol);
      if (at === undefined || now - at <= bound) continue;
      if (this.tracker.requestCancel(o, now)) {
        this.counters.staleQuoteCancels++;
        this.dispatcher.sendCancel(o);
        this.log.warn("market data stale: order pulled", { venue: o.venue, symbol: o.symbol, ageMs: now - at });
      }
    }
  }

  private refreshMarks(force: boolean): void {
    this.market.refreshMarks(force, this.now());
  }

  /** Local inventory vs the state store (quoter/Reconciler.ts); off without a position repository. */
  async reconcile(): Promise<{ drifts: number; corrected: number }> {
    return this.reconciler ? this.reconciler.reconcile() : { drifts: 0, corrected: 0 };
  }

  // ---------- lookups (the control API, tests) ----------

  latestQuote(venue: string, symbol: string): L1Quote | undefined {
    return this.market.latestQuote(venue, symbol);
  }
  instrumentOf(symbol: string): Instrument | undefined {
    return this.market.instrumentOf(symbol);
  }
  get venueList(): readonly Venue[] {
    return this.market.venueList;
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
