// Pure backtest engine: L1 quotes → strategies → RiskEngine → simulated matching → Portfolio → metrics.
// Same domain code as the live engine (strategies, RiskEngine, order state machine, Portfolio).
// No I/O, no clock: time is the quote's ts. The hot path reads numbers; Decimal is used for
// orders, fills and accounting (exact), which happen far less often than ticks.

import { IntentThrottle } from "../../engine/IntentThrottle";
import {
  type StrategySlot as HostedSlot,
  type IntentRouter,
  newRiskContext,
  type Refusal,
  StrategyHost,
} from "../../engine/StrategyHost";
import { type Decimal, type DecimalLike, dec, ZERO } from "../decimal";
import { InvalidFieldError } from "../errors";
import { DEFAULT_INSTRUMENTS, DEFAULT_VENUES, roundQty, validateOrderShape } from "../instruments";
import { computeMetrics, drawdowns, type EquitySample, type MetricsFill, type PerformanceMetrics } from "../metrics";
import { applyFill as applyOrderFill, createOrder, type Order, transition } from "../orders";
import { Portfolio } from "../portfolio";
import { CurrencyValuation, type RateSpec } from "../portfolio/valuation";
import {
  type RiskContext,
  RiskEngine,
  type RiskLimits,
  type RiskLimitsInput,
  riskContextFromPortfolio,
  type TradingStateChange,
} from "../risk";
import {
  DecimalNumberCache,
  decimalToNumber,
  type FastL1Quote,
  isBuiltOnTick,
  quoteNums,
  tickInfo,
} from "../strategies/quoteMath";
import type { FillView, OpenOrderView, OrderEventView, Strategy, StrategyContext } from "../strategies/Strategy";
import type { Instrument, L1Quote, OrderIntent, Side, TradingState, Venue } from "../types";
import {
  DEFAULT_FILL_MODEL,
  type FillModelConfig,
  FillModelConfigSchema,
  type FillModelInput,
  queueModelFor,
} from "./fills/fillModel";
import { QueueFills, type QueuePosition } from "./fills/queue";
import { createLatencyModel, DelayQueue, type LatencyConfig, type LatencyInput, type LatencyModel } from "./latency";
import type { TradePrint } from "./marketEvents";

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

/** A resting order in the simulated book, with number mirrors for the matching loop. */
interface Resting {
  order: Order;
  strat: StrategySlot;
  side: Side;
  px: number;
  remaining: number;
  view: OpenOrderView;
  /** In the simulated book (false while in flight and once done/cancelled). */
  live: boolean;
  q: QueuePosition;
}

/** Per venue+symbol state. */
interface Book {
  venue: Venue;
  instrument: Instrument;
  quote: L1Quote | undefined;
  bid: number;
  ask: number;
  /** Displayed size still available at the touch in the current quote (our fills consume it). */
  bidLeft: number;
  askLeft: number;
  /** Displayed touch sizes of the current quote (queue models). */
  bidQty: number;
  askQty: number;
  lot: number;
  buys: Resting[];
  sells: Resting[];
}

class StrategySlot implements StrategyContext, HostedSlot {
  now = 0;
  readonly ctx = this;
  readonly open = new Map<string, Resting>();
  /** With latency: the position as the acks seen so far tell it. */
  readonly seenPos = new Map<string, Decimal>();
  /** With latency: arrival time of the last order/cancel sent (they arrive in the order sent). */
  lastArrival = Number.NEGATIVE_INFINITY;
  lastAck = Number.NEGATIVE_INFINITY;
  private openViews: OpenOrderView[] | undefined;
  constructor(
    readonly strategy: Strategy,
    private readonly engine: BacktestEngine,
  ) {}
  get id(): string {
    return this.strategy.id;
  }
  invalidate(): void {
    this.openViews = undefined;
  }
  position(symbol: string): Decimal {
    if (this.engine.delayed) return this.seenPos.get(symbol) ?? ZERO;
    return this.engine.portfolio.position(this.strategy.id, symbol)?.quantity ?? ZERO;
  }
  openOrders(): readonly OpenOrderView[] {
    if (!this.openViews) {
      this.openViews = [];
      for (const r of this.open.values()) this.openViews.push(r.view);
    }
    return this.openViews;
  }
  quote(venue: string, symbol: string): L1Quote | undefined {
    return this.engine.seenQuote(venue, symbol);
  }
  quotes(): Iterable<L1Quote> {
    return this.engine.latestQuotes();
  }
  instrument(symbol: string): Instrument | undefined {
    return this.engine.instruments.get(symbol);
  }
  venue(id: string): Venue | undefined {
    return this.engine.venues.get(id);
  }
  venues(): readonly Venue[] {
    return this.engine.venueList;
  }
  headroom(symbol: string, side: Side): Decimal | undefined {
    return this.engine.headroom(this.strategy.id, symbol, side);
  }
}

export class BacktestEngine {
  readonly portfolio: Portfolio;
  readonly risk: RiskEngine;
  readonly instruments = new Map<string, Instrument>();
  readonly venues = new Map<string, Venue>();
  readonly venueList: readonly Venue[];
  private readonly books = new Map<string, Map<string, Book>>();
  private readonly bookList: Book[] = [];
  private readonly slots: StrategySlot[];
  private readonly slotById = new Map<string, StrategySlot>();
  private readonly sampleMs: number;
  private readonly timerMs: number;
  private readonly checkShape: boolean;
  private readonly recordPositions: boolean;
  private readonly valuator: CurrencyValuation;
  readonly fillModel: FillModelConfig;
  private readonly queue: QueueFills | undefined;
  private readonly latency: LatencyModel;
  /** Delayed actions; undefined when every latency is 0 (then everything runs synchronously). */
  readonly delayed: DelayQueue | undefined;
  /** With latency: the quotes the strategies have been shown, by venue and symbol. */
  private readonly seen = new Map<string, Map<string, L1Quote>>();
  private lastFeed = Number.NEGATIVE_INFINITY;
  private readonly throttle: IntentThrottle | undefined;
  private prints = 0;
  private readonly tradeFills: [Resting, number][] = [];

  private seq = 0;
  private ticks = 0;
  private firstTs = Number.NaN;
  private lastTs = Number.NaN;
  private nextSample = Number.NaN;
  private nextTimer = Number.NaN;
  private readonly trades: BacktestTrade[] = [];
  private readonly equity: EquitySample[] = [];
  private readonly positions: BacktestResult["positionCurve"] = [];
  private readonly events: RiskEventRecord[] = [];
  private readonly halted = new Set<string>();
  private haltAll = false;
  private placed = 0;
  private denied = 0;
  private rejected = 0;
  private readonly cashNumber = new DecimalNumberCache();
  private readonly host: StrategyHost<StrategySlot>;
  /** The intent being routed: its order id, book and mid (set by the precheck, read by risk and place). */
  private curId = "";
  private curBook: Book | undefined;
  private curMid = 0;
  /** False while routing a callback that asked for more placements than the whole budget (see handleIntents). */
  private paced = true;
  private readonly riskCtx: RiskContext = newRiskContext();

  constructor(opts: BacktestOptions) {
    if (opts.strategies.length === 0) throw new InvalidFieldError("strategies", [], "at least one strategy");
    const instruments = opts.instruments ?? DEFAULT_INSTRUMENTS;
    for (const i of instruments) this.instruments.set(i.symbol, i);
    this.venueList = opts.venues ?? DEFAULT_VENUES;
    for (const v of this.venueList) this.venues.set(v.id, v);
    const initialCash = opts.initialCash ?? { USD: "1000000" };
    const currency = opts.valuation?.currency ?? "USD";
    this.portfolio = new Portfolio({ instruments, initialCash, valuationCurrency: currency });
    this.valuator = new CurrencyValuation({
      currency,
      instruments,
      assets: Object.keys(initialCash),
      ...(opts.valuation?.rates ? { rates: opts.valuation.rates } : {}),
    });
    this.risk = new RiskEngine({
      ...(opts.riskLimits ? { limits: opts.riskLimits } : {}),
      onStateChange: (c) => this.onRiskState(c),
    });
    const fm = FillModelConfigSchema.safeParse(opts.fillModel ?? DEFAULT_FILL_MODEL);
    if (!fm.success) {
      const i = fm.error.issues[0]!;
      throw new InvalidFieldError(`fillModel.${i.path.join(".")}`, opts.fillModel, i.message);
    }
    this.fillModel = fm.data;
    const model = queueModelFor(fm.data);
    if (model) this.queue = new QueueFills(model);
    this.latency = createLatencyModel(opts.latency ?? {});
    this.delayed = this.latency.zero ? undefined : new DelayQueue();
    if (opts.throttle ?? true)
      this.throttle = new IntentThrottle({ maxPerWindow: this.risk.limits.maxOrdersPerSecond });
    const throttle = this.throttle;
    this.host = new StrategyHost<StrategySlot>({
      risk: this.risk,
      router: this.router,
      ...(throttle
        ? { throttle: { admit: (id: string, now: number) => !this.paced || throttle.tryAcquire(id, now) } }
        : {}),
      throttledReason: throttle ? `throttled: over ${throttle.maxPerWindow} orders/s` : undefined,
      onRefusalIntents: (s, out, ts) => this.handleIntents(s, out, ts),
    });
    this.sampleMs = opts.equitySampleMs ?? 1000;
    if (!(this.sampleMs > 0)) throw new InvalidFieldError("equitySampleMs", this.sampleMs, "must be > 0");
    this.timerMs = opts.timerMs ?? 1000;
    this.checkShape = opts.validateOrderShape ?? true;
    this.recordPositions = opts.recordPositionCurve ?? true;
    this.slots = opts.strategies.map((s) => new StrategySlot(s, this));
    for (const s of this.slots) {
      if (this.slotById.has(s.id)) throw new InvalidFieldError("strategy.id", s.id, "duplicate strategy id");
      this.slotById.set(s.id, s);
    }
  }

  book(venue: string, symbol: string): Book | undefined {
    return this.books.get(venue)?.get(symbol);
  }

  *latestQuotes(): Iterable<L1Quote> {
    if (this.delayed) {
      for (const m of this.seen.values()) yield* m.values();
      return;
    }
    for (const b of this.bookList) if (b.quote) yield b.quote;
  }

  /** The latest quote the strategies could have seen (the book's own quote without feed latency). */
  seenQuote(venue: string, symbol: string): L1Quote | undefined {
    if (!this.delayed) return this.book(venue, symbol)?.quote;
    return this.seen.get(venue)?.get(symbol);
  }

  private lastBook: Book | undefined;
  private bookFor(q: { venue: string; symbol: string }): Book {
    // Consecutive events mostly hit the same book: skip the two map lookups then.
    const last = this.lastBook;
    if (last !== undefined && last.venue.id === q.venue && last.instrument.symbol === q.symbol) return last;
    const b = this.findOrAddBook(q);
    this.lastBook = b;
    return b;
  }

  private findOrAddBook(q: { venue: string; symbol: string }): Book {
    let byVenue = this.books.get(q.venue);
    if (!byVenue) {
      byVenue = new Map();
      this.books.set(q.venue, byVenue);
    }
    let b = byVenue.get(q.symbol);
    if (!b) {
      const venue = this.venues.get(q.venue);
      if (!venue) throw new InvalidFieldError("venue", q.venue, "unknown venue (no fee schedule)");
      const instrument = this.instruments.get(q.symbol);
      if (!instrument) throw new InvalidFieldError("symbol", q.symbol, "unknown instrument");
      b = {
        venue,
        instrument,
        quote: undefined,
        bid: 0,
        ask: 0,
        bidLeft: 0,
        askLeft: 0,
        bidQty: 0,
        askQty: 0,
        lot: tickInfo(instrument).lot,
        buys: [],
        sells: [],
      };
      byVenue.set(q.symbol, b);
      this.bookList.push(b);
    }
    return b;
  }

  /** Process one quote. Events must arrive in non-decreasing ts order. */
  onQuote(q: L1Quote): void {
    const ts = q.ts;
    this.begin(ts);
    if (this.valuator.isRateSeries(q.symbol) && !this.instruments.has(q.symbol)) {
      this.valuator.onRateQuote(q);
      return;
    }
    const b = this.bookFor(q);
    const n = (q as FastL1Quote).n ?? quoteNums(q);
    const queue = this.queue;
    if (queue !== undefined && (b.buys.length !== 0 || b.sells.length !== 0)) {
      queue.touch(b.buys, true, b.bid, b.bidQty, n.bid, n.bidSize);
      queue.touch(b.sells, false, b.ask, b.askQty, n.ask, n.askSize);
    }
    b.quote = q;
    b.bid = n.bid;
    b.ask = n.ask;
    b.bidLeft = b.bidQty = n.bidSize;
    b.askLeft = b.askQty = n.askSize;

    if (b.buys.length !== 0 || b.sells.length !== 0) this.matchResting(b, ts);

    if (this.delayed) {
      // Feed latency: the strategies see this quote later, in the order it was published.
      const t = Math.max(ts + this.latency.feed(), this.lastFeed);
      this.lastFeed = t;
      if (t === ts) this.deliver(q, ts);
      else this.delayed.push(t, () => this.deliver(q, t));
    } else this.deliver(q, ts);
    this.end(ts);
  }

  /** Process one trade print: queue models advance and fill our resting orders on the side it hit. */
  onTrade(t: TradePrint): void {
    const ts = t.ts;
    this.begin(ts);
    this.prints++;
    const b = this.bookFor(t);
    const buy = t.side === "SELL"; // a sell aggressor hits our bids
    const list = buy ? b.buys : b.sells;
    if (this.queue !== undefined && list.length !== 0) {
      const out = this.tradeFills;
      this.queue.trade(list, buy, t.px, t.size, b.lot, out);
      if (out.length !== 0) {
        // Fill callbacks may place or cancel orders (and so re-enter here): work on a copy.
        const fills = out.splice(0);
        for (const [r, qty] of fills)
          if (r.live && r.remaining > 0) this.fill(b, r, Math.min(qty, r.remaining), r.order.limitPrice!, "MAKER", ts);
      }
    }
    this.end(ts);
  }

  /** Common start of every event: ordering, delayed actions due, equity samples of elapsed periods. */
  private begin(ts: number): void {
    if (ts < this.lastTs) throw new InvalidFieldError("ts", ts, `out of order (previous ${this.lastTs})`);
    if (this.ticks === 0) {
      this.firstTs = ts;
      this.nextSample = ts;
      this.nextTimer = ts + this.timerMs;
    }
    if (this.delayed) this.drain(ts);
    // Sample state as of the end of each elapsed period, before this event changes it.
    while (ts >= this.nextSample) {
      this.sample(this.nextSample);
      this.nextSample += this.sampleMs;
    }
    this.ticks++;
    this.lastTs = ts;
  }

  /** Run the delayed actions due by `until`, each at its own time (samples interleaved). */
  private drain(until: number): void {
    const d = this.delayed!;
    while (d.peekTime() <= until) {
      const t = d.peekTime();
      while (t >= this.nextSample) {
        this.sample(this.nextSample);
        this.nextSample += this.sampleMs;
      }
      if (t > this.lastTs) this.lastTs = t;
      d.pop()!();
    }
  }

  private end(ts: number): void {
    if (ts >= this.nextTimer) {
      for (const s of this.slots) {
        s.now = ts;
        const intents = s.strategy.onTimer(ts, s);
        if (intents.length !== 0) this.handleIntents(s, intents, ts);
      }
      while (this.nextTimer <= ts) this.nextTimer += this.timerMs;
    }
    if (this.haltAll || this.halted.size !== 0) this.cancelHalted(ts);
  }

  /** Show a quote to the strategies at (local) time t. */
  private deliver(q: L1Quote, t: number): void {
    if (this.delayed) {
      let m = this.seen.get(q.venue);
      if (!m) {
        m = new Map();
        this.seen.set(q.venue, m);
      }
      m.set(q.symbol, q);
    }
    const slots = this.slots;
    for (let i = 0; i < slots.length; i++) {
      const s = slots[i]!;
      // A HALTED strategy is stopped: its orders were cancelled and only cancels would pass.
      if (s.open.size === 0 && this.risk.effectiveState(s.id) === "HALTED") continue;
      s.now = t;
      const intents = s.strategy.onMarket(q, s);
      if (intents.length !== 0) this.handleIntents(s, intents, t);
    }
  }

  /** Run `fn` when the strategy learns of an exchange outcome: now, or after the ack latency. */
  private notify(s: StrategySlot, ts: number, fn: (t: number) => void): void {
    if (!this.delayed) {
      s.now = ts;
      fn(ts);
      return;
    }
    const at = Math.max(ts + this.latency.ack(), s.lastAck);
    s.lastAck = at;
    if (at === ts) {
      s.now = ts;
      fn(ts);
    } else
      this.delayed.push(at, () => {
        s.now = at;
        fn(at);
      });
  }

  /** Resting orders fill at their own price when the new quote crosses them (maker). */
  private matchResting(b: Book, ts: number): void {
    if (b.buys.length !== 0 && b.ask > 0 && crossesAny(b.buys, b.ask, true)) {
      // Snapshot: a strategy's onFill may place or cancel orders on this book while we iterate.
      for (const r of b.buys.slice()) {
        if (b.askLeft <= 0) break;
        if (r.remaining <= 0 || !r.live || b.ask > r.px) continue;
        const qty = Math.min(r.remaining, b.askLeft);
        b.askLeft -= qty;
        this.fill(b, r, qty, r.order.limitPrice!, "MAKER", ts);
      }
    }
    if (b.sells.length !== 0 && b.bid > 0 && crossesAny(b.sells, b.bid, false)) {
      for (const r of b.sells.slice()) {
        if (b.bidLeft <= 0) break;
        if (r.remaining <= 0 || !r.live || b.bid < r.px) continue;
        const qty = Math.min(r.remaining, b.bidLeft);
        b.bidLeft -= qty;
        this.fill(b, r, qty, r.order.limitPrice!, "MAKER", ts);
      }
    }
  }

  private handleIntents(s: StrategySlot, intents: readonly OrderIntent[], ts: number): void {
    // One call asking for more placements than the whole per-second budget is a misbehaving strategy,
    // not a fast feed: it goes to the risk engine unthrottled, whose rate-limit breaker halts it.
    const outer = this.paced;
    if (this.throttle) {
      let n = 0;
      for (let i = 0; i < intents.length; i++) if (intents[i]!.cancelOrderId === undefined) n++;
      this.paced = n <= this.throttle.maxPerWindow;
    }
    for (let i = 0; i < intents.length; i++) {
      const it = intents[i]!;
      if (it.strategyId !== s.id)
        throw new InvalidFieldError("intent.strategyId", it.strategyId, `strategy ${s.id} emitted a foreign intent`);
      if (it.cancelOrderId !== undefined) this.requestCancel(s, it.cancelOrderId, ts);
      else this.host.routeOne(s, it, ts, 0);
    }
    this.paced = outer;
  }

  /** What the strategy host's checks and orders mean in the simulation. */
  private readonly router: IntentRouter<StrategySlot> = {
    cancel: (s, orderId, ts) => this.requestCancel(s, orderId, ts),
    precheck: (_s, it) => {
      this.curId = `bt-${++this.seq}`;
      const b = this.book(it.venue, it.symbol);
      // With latency the strategy acts on the quote it could have seen.
      const seen = this.delayed ? this.seenQuote(it.venue, it.symbol) : b?.quote;
      if (!b || !seen) return NO_MARKET;
      const sn = quoteNums(seen);
      const mid = (sn.bid + sn.ask) / 2;
      this.curBook = b;
      this.curMid = mid;
      if (this.checkShape && !this.shapeOk(b.instrument, it)) {
        const bad = validateOrderShape(b.instrument, it, mid)[0];
        if (bad) return { kind: "DENIED", rule: `shape:${bad.rule}`, reason: bad.message };
      }
      return undefined;
    },
    riskContext: (s) => this.riskContext(s.id, this.curBook!, this.curMid),
    place: (s, it, ts) => this.place(s, it, ts, this.curId, this.curBook!),
    refused: (_s, _it, _ts, r) => {
      // Throttled placements never reached the risk engine: counted apart (ordersThrottled).
      if (r.rule === "throttle") return;
      if (r.kind === "DENIED") this.denied++;
      else this.rejected++;
    },
  };

  /** A strategy's cancel: at once, or after the order latency (the order shows pendingCancel meanwhile). */
  private requestCancel(s: StrategySlot, orderId: string, ts: number): void {
    if (!this.delayed) {
      this.cancel(s, orderId, ts, false);
      return;
    }
    const r = s.open.get(orderId);
    if (!r || r.view.pendingCancel) return;
    r.view = { ...r.view, pendingCancel: true };
    s.invalidate();
    const at = Math.max(ts + this.latency.order(), s.lastArrival);
    s.lastArrival = at;
    const land = () => {
      if (!r.live) return; // filled, rejected or expired first: its own ack removes it
      r.order = transition(r.order, "canceled", at);
      this.unbook(r);
      this.notify(s, at, () => this.forget(s, r));
    };
    if (at === ts) land();
    else this.delayed.push(at, land);
  }

  private cancel(s: StrategySlot, orderId: string, ts: number, notify: boolean): void {
    const r = s.open.get(orderId);
    if (!r || (this.delayed && !r.live)) return; // done, or still in flight (cancelled once it rests)
    // Simulated venue acks the cancel at once: accepted/partially-filled → canceled is legal.
    r.order = transition(r.order, "canceled", ts);
    this.unrest(r);
    if (notify) this.orderEvent(s, r.order, "CANCELED", ts);
  }

  private unrest(r: Resting): void {
    this.unbook(r);
    this.forget(r.strat, r);
  }

  /** Out of the simulated book. */
  private unbook(r: Resting): void {
    r.live = false;
    const b = this.book(r.order.venue, r.order.symbol)!;
    const list = r.side === "BUY" ? b.buys : b.sells;
    const k = list.indexOf(r);
    if (k >= 0) list.splice(k, 1);
  }

  /** Out of the strategy's open orders. */
  private forget(s: StrategySlot, r: Resting): void {
    s.open.delete(r.order.orderId);
    s.invalidate();
  }

  private eventView(o: Order, kind: OrderEventView["kind"], ts: number, reason?: string): OrderEventView {
    const ev: OrderEventView = {
      ts,
      kind,
      orderId: o.orderId,
      venue: o.venue,
      symbol: o.symbol,
      side: o.side,
      filledQuantity: o.filledQuantity,
    };
    if (o.tag !== undefined) ev.tag = o.tag;
    const why = reason ?? o.errorMessage;
    if (why !== undefined) ev.reason = why;
    return ev;
  }

  private orderEvent(s: StrategySlot, o: Order, kind: OrderEventView["kind"], ts: number, reason?: string): void {
    if (!s.strategy.onOrderEvent) return;
    const out = s.strategy.onOrderEvent(this.eventView(o, kind, ts, reason), s);
    if (out.length) this.handleIntents(s, out, ts);
  }

  /** An intent the strategy host approved: it travels to the simulated venue. */
  private place(s: StrategySlot, it: OrderIntent, ts: number, id: string, b: Book): void {
    let order = createOrder(it, { clientOrderId: id }, ts);
    const qtyNum = decimalToNumber(it.quantity);
    const px = it.limitPrice === undefined ? Number.NaN : decimalToNumber(it.limitPrice);
    this.placed++;
    order = transition(order, "submitted", ts);
    const r: Resting = {
      order,
      strat: s,
      side: it.side,
      px,
      remaining: qtyNum,
      view: openView(order, order.quantity),
      live: false,
      q: { ahead: 0, traded: 0 },
    };
    if (!this.delayed) {
      this.arrive(s, b, r, it, ts);
      return;
    }
    // In flight: the strategy already lists it as open (as an order tracker would).
    s.open.set(order.orderId, r);
    s.invalidate();
    const at = Math.max(ts + this.latency.order(), s.lastArrival);
    s.lastArrival = at;
    if (at === ts) this.arrive(s, b, r, it, ts);
    else this.delayed.push(at, () => this.arrive(s, b, r, it, at));
  }

  /** Exchange side of a placement, against the book as it is when the order arrives. */
  private arrive(s: StrategySlot, b: Book, r: Resting, it: OrderIntent, ts: number): void {
    const buy = it.side === "BUY";
    const px = r.px;
    const crosses = it.type === "MARKET" || (buy ? b.ask > 0 && px >= b.ask : b.bid > 0 && px <= b.bid);
    if (it.postOnly && crosses) {
      r.order = transition(r.order, "rejected", ts, { errorMessage: "post-only order would take liquidity" });
      this.rejected++;
      this.notify(s, ts, (t) => {
        this.forget(s, r);
        this.orderEvent(s, r.order, "REJECTED", t, "post-only would cross");
      });
      return;
    }
    r.order = transition(r.order, "accepted", ts);
    if (!this.delayed) {
      s.open.set(r.order.orderId, r);
      s.invalidate();
    }
    if (crosses) {
      // Taker: trade against the displayed opposite side at its price, up to its size.
      const avail = buy ? b.askLeft : b.bidLeft;
      const qty = Math.min(r.remaining, avail);
      const fok = it.timeInForce === "FOK";
      if (qty > 0 && !(fok && qty < r.remaining)) {
        if (buy) b.askLeft -= qty;
        else b.bidLeft -= qty;
        const price = buy ? b.quote!.ask : b.quote!.bid;
        if (this.fill(b, r, qty, price, "TAKER", ts, false)) return;
      }
      if (it.timeInForce !== "GTC") {
        this.expire(s, r, `${it.timeInForce} remainder ${r.order.remainingQuantity.toFixed()} expired`, ts);
        return;
      }
    } else if (it.timeInForce !== "GTC") {
      this.expire(s, r, `${it.timeInForce} did not cross`, ts);
      return;
    }
    if (this.queue) this.queue.join(r.q, buy, px, buy ? b.bid : b.ask, buy ? b.bidQty : b.askQty);
    r.live = true;
    (buy ? b.buys : b.sells).push(r);
  }

  private expire(s: StrategySlot, r: Resting, message: string, ts: number): void {
    r.order = transition(r.order, "expired", ts, { errorMessage: message });
    this.notify(s, ts, (t) => {
      this.forget(s, r);
      this.orderEvent(s, r.order, "EXPIRED", t);
    });
  }

  /** Numeric risk context from the portfolio's number shadows (reused object, cached cash conversion). */
  private riskContext(strategyId: string, b: Book, mid: number): RiskContext {
    const p = this.portfolio;
    const sym = b.instrument.symbol;
    const c = this.riskCtx;
    c.mid = mid;
    c.position = p.netQuantityNumber(sym);
    c.strategyPosition = p.positionNumber(strategyId, sym);
    c.strategyNotional = p.grossNotionalNumber(strategyId);
    c.portfolioNotional = p.grossNotionalNumber();
    c.availableQuote = this.cashNumber.get(p.cash(b.instrument.quoteAsset));
    c.availableBase = 0;
    c.feeRate = this.numCache(b.venue.takerFee);
    return c;
  }

  private readonly feeNums = new WeakMap<Decimal, number>();
  private numCache(d: Decimal): number {
    let n = this.feeNums.get(d);
    if (n === undefined) {
      n = d.toNumber();
      this.feeNums.set(d, n);
    }
    return n;
  }

  // Exact tick/lot results cached per Decimal (strategies reuse their size and price Decimals).
  private readonly lotOk = new WeakMap<Decimal, Instrument>();
  private readonly tickOk = new WeakMap<Decimal, Instrument>();
  /**
   * Fast positive answer to "is this order's shape valid?": cached exact tick/lot checks and a
   * min-notional check with a safety margin. false = "not sure": run the exact validator.
   */
  private shapeOk(instr: Instrument, it: OrderIntent): boolean {
    const q = it.quantity;
    if (this.lotOk.get(q) !== instr) {
      if (!q.gt(0) || !q.mod(instr.lotSize).isZero()) return false;
      this.lotOk.set(q, instr);
    }
    if (it.type !== "LIMIT") return false; // market orders: value at mid, exact path
    const px = it.limitPrice;
    if (px === undefined) return false;
    if (this.tickOk.get(px) !== instr && !isBuiltOnTick(px, instr)) {
      if (!px.gt(0) || !px.mod(instr.tickSize).isZero()) return false;
      this.tickOk.set(px, instr);
    }
    return decimalToNumber(q) * decimalToNumber(px) >= this.numCache(instr.minNotional) * (1 + 1e-9);
  }

  /**
   * Execute `qtyNum` of a resting/new order at `price`: order state, portfolio, trade record, strategy
   * callback. Returns true when the order is done (and no longer resting).
   */
  private fill(
    b: Book,
    r: Resting,
    qtyNum: number,
    price: Decimal,
    liquidity: "MAKER" | "TAKER",
    ts: number,
    resting = true,
  ): boolean {
    const o = r.order;
    // Displayed size may be finer than our remaining: round down to the lot, exact remainder when it is all.
    let qty: Decimal;
    if (qtyNum >= r.remaining) qty = o.remainingQuantity;
    else {
      qty = roundQty(b.instrument, qtyNum);
      if (!qty.gt(0)) return false;
    }
    const feeRate = liquidity === "MAKER" ? b.venue.makerFee : b.venue.takerFee;
    const fee = qty.times(price).times(feeRate);
    const res = this.portfolio.applyFill({
      strategyId: o.strategyId,
      symbol: o.symbol,
      venue: o.venue,
      side: o.side,
      quantity: qty,
      price,
      fee,
      ts,
      orderId: o.orderId,
    });
    r.order = applyOrderFill(o, { quantity: qty, price, fee, realizedPnl: res.realizedPnlDelta }, ts);
    r.remaining = r.order.remainingQuantity.toNumber();
    const trade: BacktestTrade = {
      ts,
      orderId: o.orderId,
      strategyId: o.strategyId,
      venue: o.venue,
      symbol: o.symbol,
      side: o.side,
      qty,
      price,
      fee,
      liquidity,
    };
    if (res.closing) trade.realizedPnl = res.realizedPnlDelta;
    this.trades.push(trade);
    this.refreshMarks(o.symbol); // risk notional and equity see the traded symbol's current mark

    const done = r.order.status === "filled";
    const s = r.strat;
    if (done) {
      if (resting) this.unbook(r);
      r.live = false;
    }
    const after = r.order;
    const fv: FillView = {
      ts,
      orderId: o.orderId,
      venue: o.venue,
      symbol: o.symbol,
      side: o.side,
      quantity: qty,
      price,
      fee,
      liquidity,
      remainingQuantity: r.order.remainingQuantity,
    };
    if (o.tag !== undefined) fv.tag = o.tag;
    this.notify(s, ts, (t) => {
      if (done) this.forget(s, r);
      else {
        const v = openView(after, after.remainingQuantity);
        if (r.view.pendingCancel) v.pendingCancel = true;
        r.view = v;
        s.invalidate();
      }
      if (this.delayed)
        s.seenPos.set(o.symbol, (s.seenPos.get(o.symbol) ?? ZERO).plus(o.side === "BUY" ? qty : qty.neg()));
      const out = s.strategy.onFill(fv, s);
      if (out.length) this.handleIntents(s, out, t);
    });
    return done;
  }

  /** Largest quantity risk allows for this strategy/symbol/side now, rounded down to the lot. */
  headroom(strategyId: string, symbol: string, side: Side): Decimal | undefined {
    const instr = this.instruments.get(symbol);
    let mid = Number.NaN;
    for (const b of this.bookList) if (b.instrument.symbol === symbol && b.quote) mid = (b.bid + b.ask) / 2;
    if (!instr || !(mid > 0)) return undefined;
    const ctx = riskContextFromPortfolio(this.portfolio, strategyId, symbol, { mid, availableBase: 0 });
    let q = Number.POSITIVE_INFINITY;
    for (const h of this.risk.headroom({ strategyId, symbol, side }, mid, ctx, this.lastTs))
      q = Math.min(q, h.quantity);
    if (!Number.isFinite(q)) return undefined;
    return roundQty(instr, Math.max(0, q));
  }

  private onRiskState(c: TradingStateChange): void {
    this.events.push({
      ts: c.at,
      kind: `state:${c.scope}:${c.from}->${c.to}`,
      message: `${c.rule}: ${c.reason}`,
    });
    if (c.to !== "HALTED") return;
    if (c.scope === "portfolio") this.haltAll = true;
    else this.halted.add(c.scope);
  }

  /** HALTED → cancel the open orders of the halted strategies (only cancels are allowed). */
  private cancelHalted(ts: number): void {
    if (!this.haltAll && this.halted.size === 0) return;
    for (const s of this.slots) {
      if (s.open.size === 0 || (!this.haltAll && !this.halted.has(s.id))) continue;
      for (const id of [...s.open.keys()]) this.cancel(s, id, ts, true);
    }
    this.halted.clear();
  }

  /** Symbol → the quote its current mark came from. */
  private readonly markSource = new Map<string, L1Quote>();

  private refreshMarks(only?: string): void {
    // Each symbol is marked at the mid of its most recent quote (any venue); re-mark only on change.
    const newest = new Map<string, L1Quote>();
    for (const b of this.bookList) {
      const q = b.quote;
      if (!q || (only !== undefined && q.symbol !== only)) continue;
      const cur = newest.get(q.symbol);
      if (!cur || q.ts >= cur.ts) newest.set(q.symbol, q);
    }
    for (const [sym, q] of newest) {
      if (this.markSource.get(sym) === q) continue;
      this.markSource.set(sym, q);
      this.portfolio.setMark(sym, dec(q.bid).plus(q.ask).div(2));
    }
  }

  /** Undefined while a held currency has no price yet: such a period gets no equity point. */
  private equityNow(): Decimal | undefined {
    this.refreshMarks();
    return this.valuator.equity(this.portfolio);
  }

  private sample(ts: number): void {
    const eq = this.equityNow();
    if (eq !== undefined) {
      this.equity.push({ ts, equity: eq });
      this.risk.markEquity(eq.toNumber(), ts);
    }
    if (this.recordPositions) {
      for (const sym of this.instruments.keys()) {
        const q = this.portfolio.netQuantity(sym);
        if (!q.isZero() || this.positions.length > 0) this.positions.push({ ts, symbol: sym, quantity: q });
      }
    }
    for (const s of this.slots) {
      try {
        this.risk.markStrategyPnl(s.id, this.portfolio.netPnl(s.id).toNumber(), ts);
      } catch {
        /* missing mark: skip this sample */
      }
    }
    this.cancelHalted(ts);
  }

  /** Final state: last equity point at the last tick, metrics over the sampled curve. */
  finish(): BacktestResult {
    if (this.ticks === 0) throw new InvalidFieldError("quotes", 0, "no quotes to backtest");
    // The final point reflects the state after the last tick (a boundary sample at the same ts was
    // taken before that tick was processed).
    const last = this.equity[this.equity.length - 1];
    if (last && last.ts === this.lastTs) {
      this.equity.pop();
      while (this.positions.length > 0 && this.positions[this.positions.length - 1]!.ts === this.lastTs)
        this.positions.pop();
    }
    this.sample(this.lastTs);
    this.refreshMarks();
    const fills: MetricsFill[] = this.trades.map((t) =>
      t.realizedPnl === undefined
        ? { qty: t.qty, price: t.price, fee: t.fee }
        : { qty: t.qty, price: t.price, fee: t.fee, realizedPnl: t.realizedPnl },
    );
    const metrics = computeMetrics({
      equityCurve: this.equity,
      fills,
      realizedPnl: this.portfolio.realizedPnl(),
      unrealizedPnl: this.portfolio.unrealizedPnl(),
      fees: this.portfolio.strategyFees(),
      periodMs: this.sampleMs,
    });
    let finalState: TradingState = this.risk.tradingState;
    for (const s of this.slots) {
      const st = this.risk.effectiveState(s.id);
      if (st === "HALTED" || (st === "REDUCING" && finalState === "ACTIVE")) finalState = st;
    }
    return {
      startedAt: this.firstTs,
      endedAt: this.lastTs,
      ticks: this.ticks,
      trades: this.trades,
      equityCurve: this.equity,
      positionCurve: this.positions,
      drawdownCurve: drawdowns(this.equity).curve,
      metrics,
      risk: { finalState, denials: Object.fromEntries(this.host.denialsByRule), events: this.events },
      ordersPlaced: this.placed,
      ordersDenied: this.denied,
      ordersRejected: this.rejected,
      ordersThrottled: this.host.throttled,
      tradePrints: this.prints,
      fillModel: this.fillModel,
      latency: this.latency.config,
      valuation: this.valuator.describe(),
    };
  }
}

/** Does the quote's opposite touch reach any of these resting orders? */
function crossesAny(list: readonly Resting[], touch: number, buys: boolean): boolean {
  for (let i = 0; i < list.length; i++) {
    const px = list[i]!.px;
    if (buys ? touch <= px : touch >= px) return true;
  }
  return false;
}

/** Views always have the same shape (every key present) so strategies' scans stay monomorphic. */
function openView(o: Order, remaining: Decimal): OpenOrderView {
  return {
    orderId: o.orderId,
    venue: o.venue,
    symbol: o.symbol,
    side: o.side,
    limitPrice: o.limitPrice,
    quantity: o.quantity,
    remainingQuantity: remaining,
    tag: o.tag,
    pendingCancel: false,
  };
}

/** Run a whole in-memory sequence of quotes (and trade prints). */
export function runBacktest(events: Iterable<L1Quote | TradePrint>, opts: BacktestOptions): BacktestResult {
  const e = new BacktestEngine(opts);
  for (const ev of events) {
    if ((ev as TradePrint).kind === "trade") e.onTrade(ev as TradePrint);
    else e.onQuote(ev as L1Quote);
  }
  return e.finish();
}

const NO_MARKET: Refusal = { kind: "REJECTED", rule: "no-market", reason: "no market" };
