// The backtester, a host of the engine core: L1 quotes and trade prints in event time → strategies on the
// StrategyHost → RiskEngine → the simulated venue (venue.ts) → the ledger (ledger.ts) → metrics. This file is
// the event loop: event order, delayed actions, equity samples, timers, feed latency, routing and halts.
// Same domain code as the live engine (strategies, RiskEngine, order state machine, Portfolio). No I/O, no
// clock: time is the quote's ts. The hot path reads numbers; Decimal is used for orders, fills and accounting.

import type { Decimal } from "../../domain/decimal";
import { InvalidFieldError } from "../../domain/errors";
import { DEFAULT_INSTRUMENTS, DEFAULT_VENUES, roundQty, validateOrderShape } from "../../domain/instruments";
import { drawdowns } from "../../domain/metrics";
import type { Portfolio } from "../../domain/portfolio";
import { RiskEngine, riskContextFromPortfolio, type TradingStateChange } from "../../domain/risk";
import { decimalToNumber, isBuiltOnTick, quoteNums } from "../../domain/strategies/quoteMath";
import type { Instrument, L1Quote, OrderIntent, Side, TradingState, Venue } from "../../domain/types";
import { IntentThrottle } from "../../engine/IntentThrottle";
import { type IntentRouter, type Refusal, StrategyHost } from "../../engine/StrategyHost";
import { DEFAULT_FILL_MODEL, type FillModelConfig, FillModelConfigSchema, queueModelFor } from "./fills/fillModel";
import { QueueFills } from "./fills/queue";
import { createLatencyModel, DelayQueue, type LatencyModel } from "./latency";
import { BacktestLedger } from "./ledger";
import type { TradePrint } from "./marketEvents";
import { BacktestSlot } from "./slot";
import type { BacktestOptions, BacktestResult, RiskEventRecord } from "./types";
import { type Book, SimVenue } from "./venue";

export type { BacktestOptions, BacktestResult, BacktestTrade, RiskEventRecord } from "./types";

export class BacktestEngine {
  readonly portfolio: Portfolio;
  readonly risk: RiskEngine;
  readonly instruments = new Map<string, Instrument>();
  readonly venues = new Map<string, Venue>();
  readonly venueList: readonly Venue[];
  readonly fillModel: FillModelConfig;
  /** Delayed actions; undefined when every latency is 0 (then everything runs synchronously). */
  readonly delayed: DelayQueue | undefined;
  private readonly venue: SimVenue;
  private readonly ledger: BacktestLedger;
  private readonly slots: BacktestSlot[];
  private readonly slotById = new Map<string, BacktestSlot>();
  private readonly sampleMs: number;
  private readonly timerMs: number;
  private readonly checkShape: boolean;
  private readonly latency: LatencyModel;
  /** With latency: the quotes the strategies have been shown, by venue and symbol. */
  private readonly seen = new Map<string, Map<string, L1Quote>>();
  private lastFeed = Number.NEGATIVE_INFINITY;
  private readonly throttle: IntentThrottle | undefined;
  private prints = 0;

  private seq = 0;
  private ticks = 0;
  private firstTs = Number.NaN;
  private lastTs = Number.NaN;
  private nextSample = Number.NaN;
  private nextTimer = Number.NaN;
  private readonly events: RiskEventRecord[] = [];
  private readonly halted = new Set<string>();
  private haltAll = false;
  private denied = 0;
  private rejected = 0;
  private readonly host: StrategyHost<BacktestSlot>;
  /** The intent being routed: its order id, book and mid (set by the precheck, read by risk and place). */
  private curId = "";
  private curBook: Book | undefined;
  private curMid = 0;
  /** False while routing a callback that asked for more placements than the whole budget (see handleIntents). */
  private paced = true;

  constructor(opts: BacktestOptions) {
    if (opts.strategies.length === 0) throw new InvalidFieldError("strategies", [], "at least one strategy");
    const instruments = opts.instruments ?? DEFAULT_INSTRUMENTS;
    for (const i of instruments) this.instruments.set(i.symbol, i);
    this.venueList = opts.venues ?? DEFAULT_VENUES;
    for (const v of this.venueList) this.venues.set(v.id, v);
    const books: Book[] = []; // the venue adds each book; the ledger marks from their quotes
    this.ledger = new BacktestLedger(
      {
        instruments,
        initialCash: opts.initialCash ?? { USD: "1000000" },
        valuation: opts.valuation,
        recordPositions: opts.recordPositionCurve ?? true,
      },
      books,
    );
    this.portfolio = this.ledger.portfolio;
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
    this.latency = createLatencyModel(opts.latency ?? {});
    this.delayed = this.latency.zero ? undefined : new DelayQueue();
    this.venue = new SimVenue({
      instruments: this.instruments,
      venues: this.venues,
      ledger: this.ledger,
      latency: this.latency,
      delayed: this.delayed,
      queue: model ? new QueueFills(model) : undefined,
      onIntents: (s, out, ts) => this.handleIntents(s, out, ts),
      bookList: books,
    });
    if (opts.throttle ?? true)
      this.throttle = new IntentThrottle({ maxPerWindow: this.risk.limits.maxOrdersPerSecond });
    const throttle = this.throttle;
    this.host = new StrategyHost<BacktestSlot>({
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
    this.slots = opts.strategies.map((s) => new BacktestSlot(s, this));
    for (const s of this.slots) {
      if (this.slotById.has(s.id)) throw new InvalidFieldError("strategy.id", s.id, "duplicate strategy id");
      this.slotById.set(s.id, s);
    }
  }

  book(venue: string, symbol: string): Book | undefined {
    return this.venue.book(venue, symbol);
  }

  *latestQuotes(): Iterable<L1Quote> {
    if (this.delayed) {
      for (const m of this.seen.values()) yield* m.values();
      return;
    }
    for (const b of this.venue.bookList) if (b.quote) yield b.quote;
  }

  /** The latest quote the strategies could have seen (the book's own quote without feed latency). */
  seenQuote(venue: string, symbol: string): L1Quote | undefined {
    if (!this.delayed) return this.venue.book(venue, symbol)?.quote;
    return this.seen.get(venue)?.get(symbol);
  }

  /** Process one quote. Events must arrive in non-decreasing ts order. */
  onQuote(q: L1Quote): void {
    const ts = q.ts;
    this.begin(ts);
    const valuator = this.ledger.valuator;
    if (valuator.isRateSeries(q.symbol) && !this.instruments.has(q.symbol)) {
      valuator.onRateQuote(q);
      return;
    }
    this.venue.onQuote(q, ts);
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
    this.venue.onTrade(t);
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

  private handleIntents(s: BacktestSlot, intents: readonly OrderIntent[], ts: number): void {
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
      if (it.cancelOrderId !== undefined) this.venue.requestCancel(s, it.cancelOrderId, ts);
      else this.host.routeOne(s, it, ts, 0);
    }
    this.paced = outer;
  }

  /** What the strategy host's checks and orders mean in the simulation. */
  private readonly router: IntentRouter<BacktestSlot> = {
    cancel: (s, orderId, ts) => this.venue.requestCancel(s, orderId, ts),
    precheck: (_s, it) => {
      this.curId = `bt-${++this.seq}`;
      const b = this.venue.book(it.venue, it.symbol);
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
    riskContext: (s) => this.ledger.riskContext(s.id, this.curBook!, this.curMid),
    place: (s, it, ts) => this.venue.place(s, it, ts, this.curId, this.curBook!),
    refused: (_s, _it, _ts, r) => {
      // Throttled placements never reached the risk engine: counted apart (ordersThrottled).
      if (r.rule === "throttle") return;
      if (r.kind === "DENIED") this.denied++;
      else this.rejected++;
    },
  };

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
    return decimalToNumber(q) * decimalToNumber(px) >= this.ledger.numCache(instr.minNotional) * (1 + 1e-9);
  }

  /** Largest quantity risk allows for this strategy/symbol/side now, rounded down to the lot. */
  headroom(strategyId: string, symbol: string, side: Side): Decimal | undefined {
    const instr = this.instruments.get(symbol);
    let mid = Number.NaN;
    for (const b of this.venue.bookList) if (b.instrument.symbol === symbol && b.quote) mid = (b.bid + b.ask) / 2;
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
      for (const id of [...s.open.keys()]) this.venue.cancel(s, id, ts, true);
    }
    this.halted.clear();
  }

  private sample(ts: number): void {
    this.ledger.sample(ts, this.risk, this.slots);
    this.cancelHalted(ts);
  }

  /** Final state: last equity point at the last tick, metrics over the sampled curve. */
  finish(): BacktestResult {
    if (this.ticks === 0) throw new InvalidFieldError("quotes", 0, "no quotes to backtest");
    // The final point reflects the state after the last tick (a boundary sample at the same ts was
    // taken before that tick was processed).
    const l = this.ledger;
    l.dropSampleAt(this.lastTs);
    this.sample(this.lastTs);
    l.refreshMarks();
    const metrics = l.metrics(this.sampleMs);
    let finalState: TradingState = this.risk.tradingState;
    for (const s of this.slots) {
      const st = this.risk.effectiveState(s.id);
      if (st === "HALTED" || (st === "REDUCING" && finalState === "ACTIVE")) finalState = st;
    }
    return {
      startedAt: this.firstTs,
      endedAt: this.lastTs,
      ticks: this.ticks,
      trades: l.trades,
      equityCurve: l.equity,
      positionCurve: l.positions,
      drawdownCurve: drawdowns(l.equity).curve,
      metrics,
      risk: { finalState, denials: Object.fromEntries(this.host.denialsByRule), events: this.events },
      ordersPlaced: this.venue.placed,
      ordersDenied: this.denied,
      ordersRejected: this.rejected + this.venue.rejected,
      ordersThrottled: this.host.throttled,
      tradePrints: this.prints,
      fillModel: this.fillModel,
      latency: this.latency.config,
      valuation: l.valuator.describe(),
    };
  }
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
