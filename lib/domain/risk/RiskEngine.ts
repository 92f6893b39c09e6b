// Pre-trade risk engine. Synchronous, no clock (time passed in), low allocation:
// an approval returns a shared frozen object; only denials allocate.
// One file: the engine's trading state and the ordered rule sequence of checkOrder that reads and trips it.
import type { OrderIntent, OrderType, Side, TradingState } from "../types";
import { EquityTracker } from "./EquityTracker";
import { type InstrumentLimits, parseRiskLimits, type RiskLimits, type RiskLimitsInput } from "./limits";
import { RateState, type RiskMemorySnapshot, utcTimeOfDayMs } from "./riskMemory";

export type RiskRule =
  | "invalid-order"
  | "trading-state"
  | "order-rate"
  | "unknown-instrument"
  | "max-order-qty"
  | "mark-price"
  | "price-band"
  | "max-order-notional"
  | "max-position-long"
  | "max-position-short"
  | "max-strategy-notional"
  | "max-portfolio-notional"
  | "daily-loss"
  | "drawdown"
  | "balance";

/** Why the trading state moved. */
export type BreakerRule =
  | "manual"
  | "breaker-portfolio-loss"
  | "breaker-strategy-loss"
  | "breaker-rapid-loss"
  | "breaker-rate-limit";

export interface RiskDenial {
  rule: RiskRule;
  /** The configured limit, as a string (number or state name). */
  limit: string;
  /** The value that broke it. */
  value: string;
  message: string;
  strategyId: string;
  symbol: string;
}
export type RiskDecision = { readonly approved: true } | { readonly approved: false; readonly denial: RiskDenial };
export const APPROVED: RiskDecision = Object.freeze({ approved: true as const });

/** What the engine needs to know about the book for one check. Numbers: comparisons only. */
export interface RiskContext {
  /** Mid of the order's symbol; NaN/0 when unknown (orders are then denied, fail-closed). */
  mid: number;
  /** Net position in the symbol across all strategies (signed, base units). */
  position: number;
  /** This strategy's position in the symbol (signed); defaults to `position`. */
  strategyPosition?: number;
  /** Gross notional (Σ|qty|×mark) of this strategy, before the order. */
  strategyNotional: number;
  /** Gross notional of the whole portfolio, before the order. */
  portfolioNotional: number;
  /** Quote-asset balance available for buys. */
  availableQuote: number;
  /** Base-asset balance available for sells (checked only with requireBaseForSells). */
  availableBase?: number;
  /** Fee fraction reserved on top of a buy's notional (e.g. taker 0.0005). */
  feeRate?: number;
  /** The balance source (the custodian) could not be read: the balance rule fails closed for risk-increasing orders. */
  balanceUnavailable?: string;
  /** Today's PnL; defaults to the engine's tracking from markEquity(). */
  dailyPnl?: number;
  /** Drawdown from peak as a fraction; defaults to the engine's tracking from markEquity(). */
  drawdownPct?: number;
}

/** Numeric order for the fast path (quoter/backtester). */
export interface RiskOrder {
  strategyId: string;
  symbol: string;
  side: Side;
  type: OrderType;
  quantity: number;
  /** Required for LIMIT; ignored for MARKET (valued at mid). */
  limitPrice?: number;
  /** A cancel: always allowed, in every state. */
  isCancel?: boolean;
}

export interface TradingStateChange {
  /** "portfolio" for the global state, else the strategy id. */
  scope: string;
  from: TradingState;
  to: TradingState;
  rule: BreakerRule;
  reason: string;
  limit?: string;
  value?: string;
  at: number;
}

export interface Headroom {
  constraint: RiskRule;
  /** Max quantity (base units) this constraint allows now; 0 = none. */
  quantity: number;
}

const SEVERITY: Record<TradingState, number> = { ACTIVE: 0, REDUCING: 1, HALTED: 2 };
// Float tolerance so 9.9999 + 0.0001 is not "above" 10.
const EPS = 1e-9;
/** State changes kept for stateChanges() (the newest; older ones are dropped). */
export const DEFAULT_MAX_STATE_HISTORY = 256;

export interface RiskEngineOptions {
  limits?: RiskLimits | RiskLimitsInput;
  initialState?: TradingState;
  /** Called synchronously on every trading-state change (manual or breaker). */
  onStateChange?: (c: TradingStateChange) => void;
  /** How many state changes stateChanges() keeps (newest). Default 256. */
  maxStateHistory?: number;
}

export class RiskEngine {
  private limitsValue: RiskLimits;
  private globalState: TradingState;
  private readonly strategyStates = new Map<string, TradingState>();
  private readonly rates = new Map<string, RateState>();
  private history: TradingStateChange[] = [];
  private readonly maxHistory: number;
  private readonly onStateChange: ((c: TradingStateChange) => void) | undefined;
  // Equity tracking for breakers, daily loss and drawdown.
  private readonly eq = new EquityTracker();
  private readonly scratch: RiskOrder = { strategyId: "", symbol: "", side: "BUY", type: "LIMIT", quantity: 0 };

  constructor(opts: RiskEngineOptions = {}) {
    this.limitsValue = parseRiskLimits(opts.limits ?? {});
    this.eq.dayOffsetMs = utcTimeOfDayMs(this.limitsValue.dailyResetUtc);
    this.globalState = opts.initialState ?? "ACTIVE";
    this.onStateChange = opts.onStateChange;
    this.maxHistory = Math.max(1, opts.maxStateHistory ?? DEFAULT_MAX_STATE_HISTORY);
  }

  get limits(): RiskLimits {
    return this.limitsValue;
  }
  /** Replace limits (validated). Rate-limit windows restart. */
  setLimits(input: RiskLimits | RiskLimitsInput): void {
    this.limitsValue = parseRiskLimits(input);
    this.eq.dayOffsetMs = utcTimeOfDayMs(this.limitsValue.dailyResetUtc);
    this.rates.clear();
  }

  // ---------- trading state ----------

  /** The global (portfolio) state. */
  get tradingState(): TradingState {
    return this.globalState;
  }
  /** A strategy's own state (ACTIVE unless halted/reduced individually). */
  strategyState(strategyId: string): TradingState {
    return this.strategyStates.get(strategyId) ?? "ACTIVE";
  }
  /** The stricter of global and strategy state: what an order of this strategy faces. */
  effectiveState(strategyId: string): TradingState {
    const s = this.strategyStates.get(strategyId);
    if (s === undefined) return this.globalState;
    return SEVERITY[s] > SEVERITY[this.globalState] ? s : this.globalState;
  }
  /** Manual control (kill switch = HALTED). Without strategyId, sets the global state. */
  setTradingState(
    state: TradingState,
    reason: string,
    now: number,
    strategyId?: string,
  ): TradingStateChange | undefined {
    return this.changeState(strategyId, state, "manual", reason, now);
  }
  /** The latest state changes (at most maxStateHistory), oldest first. */
  stateChanges(): readonly TradingStateChange[] {
    return this.history.length > this.maxHistory ? this.history.slice(-this.maxHistory) : this.history;
  }
  /** Strategies with their own non-ACTIVE state. */
  strategyStatesSnapshot(): Record<string, TradingState> {
    return Object.fromEntries(this.strategyStates);
  }

  private changeState(
    strategyId: string | undefined,
    to: TradingState,
    rule: BreakerRule,
    reason: string,
    now: number,
    limit?: string,
    value?: string,
  ): TradingStateChange | undefined {
    const from = strategyId === undefined ? this.globalState : this.strategyState(strategyId);
    if (from === to) return undefined;
    if (strategyId === undefined) this.globalState = to;
    else if (to === "ACTIVE") this.strategyStates.delete(strategyId);
    else this.strategyStates.set(strategyId, to);
    const c: TradingStateChange = { scope: strategyId ?? "portfolio", from, to, rule, reason, at: now };
    if (limit !== undefined) c.limit = limit;
    if (value !== undefined) c.value = value;
    this.history.push(c);
    // Trimmed in chunks, so a long session costs O(1) amortized per change and bounded memory.
    if (this.history.length > this.maxHistory * 2) this.history = this.history.slice(-this.maxHistory);
    this.onStateChange?.(c);
    return c;
  }

  /** Breakers only ever tighten: they never lift a state. */
  private trip(
    strategyId: string | undefined,
    rule: BreakerRule,
    reason: string,
    now: number,
    limit: string,
    value: string,
  ) {
    const cur = strategyId === undefined ? this.globalState : this.strategyState(strategyId);
    if (cur === "HALTED") return undefined;
    return this.changeState(strategyId, "HALTED", rule, reason, now, limit, value);
  }

  // ---------- circuit breakers ----------

  /**
   * Feed the portfolio equity (valuation ccy) at time `now`. Tracks session start, day start
   * (UTC), peak and the rapid-loss window; trips the portfolio breakers. Returns a change if one tripped.
   */
  markEquity(equity: number, now: number): TradingStateChange | undefined {
    if (!Number.isFinite(equity)) return undefined;
    const cb = this.limitsValue.circuitBreakers;
    const winMax = this.eq.mark(equity, now, cb.rapidLossWindowMs);
    const start = this.eq.sessionStart;
    if (start > 0 && equity <= start * (1 - cb.portfolioLossPct) + EPS) {
      const pct = (equity - start) / start;
      return this.trip(
        undefined,
        "breaker-portfolio-loss",
        `portfolio equity ${equity} is ${(pct * 100).toFixed(2)}% from session start ${start}`,
        now,
        String(-cb.portfolioLossPct),
        String(pct),
      );
    }
    if (winMax > 0 && equity <= winMax * (1 - cb.rapidLossPct) + EPS) {
      const pct = (equity - winMax) / winMax;
      return this.trip(
        undefined,
        "breaker-rapid-loss",
        `equity fell ${(pct * 100).toFixed(2)}% within ${cb.rapidLossWindowMs} ms (from ${winMax} to ${equity})`,
        now,
        String(-cb.rapidLossPct),
        String(pct),
      );
    }
    return undefined;
  }

  /** Feed a strategy's net PnL (realized + unrealized − fees); trips its loss breaker. */
  markStrategyPnl(strategyId: string, pnl: number, now: number): TradingStateChange | undefined {
    const lim = this.limitsValue.circuitBreakers.strategyLoss;
    if (pnl <= -lim + EPS) {
      return this.trip(
        strategyId,
        "breaker-strategy-loss",
        `strategy ${strategyId} PnL ${pnl} at or below -${lim}`,
        now,
        String(-lim),
        String(pnl),
      );
    }
    return undefined;
  }

  /** Equity tracking as seen by the daily-loss and drawdown rules. */
  equityStatus(): {
    sessionStart: number;
    dayStart: number;
    peak: number;
    last: number;
    dailyPnl: number;
    drawdownPct: number;
  } {
    const e = this.eq;
    return {
      sessionStart: e.sessionStart,
      dayStart: e.dayStart,
      peak: e.peak,
      last: e.last,
      dailyPnl: e.dailyPnl(),
      drawdownPct: e.drawdown(),
    };
  }

  /** Book realized PnL net of fees (a fill) into the day's realized figure; the daily-loss rule sees it. */
  bookRealized(pnl: number, now: number): void {
    this.eq.book(pnl, now);
  }

  // ---------- snapshot / restore (persisted memory, docs/state.md) ----------

  /** The engine's memory as JSON (trading state excluded: see tradingState / strategyStatesSnapshot). */
  snapshot(now: number): RiskMemorySnapshot {
    const rates: RiskMemorySnapshot["rates"] = {};
    for (const [id, r] of this.rates) {
      const s = r.toJSON(now);
      if (s.approvals.length > 0 || s.breaches.length > 0) rates[id] = s;
    }
    return { v: 1, equity: this.eq.toJSON(), rates };
  }

  /**
   * Take over a snapshot's memory. `rates`: which strategies' rate windows to take ("all" by default); the
   * others keep this engine's own. Fires no state change (the trading state is restoreTradingState's).
   */
  restore(s: RiskMemorySnapshot, opts: { equity?: boolean; rates?: "all" | "none" | readonly string[] } = {}): void {
    if (opts.equity ?? true) this.eq.restore(s.equity);
    const which = opts.rates ?? "all";
    if (which === "none") return;
    const L = this.limitsValue;
    const ids = which === "all" ? Object.keys(s.rates) : which;
    if (which === "all") this.rates.clear();
    for (const id of ids) {
      const r = s.rates[id];
      if (r) this.rates.set(id, RateState.from(r, L.maxOrdersPerSecond, L.circuitBreakers.rateLimitBreachesToHalt));
      else this.rates.delete(id);
    }
  }

  /** Set the trading states as persisted (no history, no onStateChange: nothing changed, we learnt it). */
  restoreTradingState(global: TradingState, strategies: Readonly<Record<string, TradingState>>): void {
    this.globalState = global;
    this.strategyStates.clear();
    for (const [id, st] of Object.entries(strategies)) if (st !== "ACTIVE") this.strategyStates.set(id, st);
  }

  // ---------- pre-trade check ----------

  /** Check an intent (Decimal API). Cancels always pass. */
  check(intent: OrderIntent, ctx: RiskContext, now: number): RiskDecision {
    const o = this.scratch;
    o.strategyId = intent.strategyId;
    o.symbol = intent.symbol;
    o.side = intent.side;
    o.type = intent.type;
    o.quantity = intent.quantity.toNumber();
    o.limitPrice = intent.limitPrice === undefined ? undefined : intent.limitPrice.toNumber();
    o.isCancel = intent.cancelOrderId !== undefined;
    return this.checkOrder(o, ctx, now);
  }

  /** Numeric fast path. On approval the order counts towards the rate limit. */
  checkOrder(o: RiskOrder, ctx: RiskContext, now: number): RiskDecision {
    if (o.isCancel) return APPROVED;
    const L = this.limitsValue;
    this.eq.rollDay(now);
    const qty = o.quantity;
    if (!(qty > 0) || !Number.isFinite(qty))
      return this.deny(o, "invalid-order", "> 0", String(qty), "quantity must be a positive number");
    const dir = o.side === "BUY" ? 1 : -1;
    const sp = ctx.strategyPosition ?? ctx.position;
    // Reducing = shrinks this strategy's position without flipping it.
    const reducing = sp * dir < 0 && qty <= Math.abs(sp) + EPS;

    const state = this.effectiveState(o.strategyId);
    if (state === "HALTED")
      return this.deny(
        o,
        "trading-state",
        "HALTED",
        `${o.side} ${qty}`,
        "trading is HALTED: only cancels are accepted",
      );
    if (state === "REDUCING" && !reducing)
      return this.deny(
        o,
        "trading-state",
        "REDUCING",
        `${o.side} ${qty} vs position ${sp}`,
        "trading is REDUCING: only risk-reducing orders are accepted",
      );

    let rate = this.rates.get(o.strategyId);
    if (!rate) {
      rate = new RateState(L.maxOrdersPerSecond, L.circuitBreakers.rateLimitBreachesToHalt);
      this.rates.set(o.strategyId, rate);
    }
    if (rate.isFull(now)) {
      const d = this.deny(
        o,
        "order-rate",
        String(L.maxOrdersPerSecond),
        String(rate.inWindow(now) + 1),
        `more than ${L.maxOrdersPerSecond} orders/s for strategy ${o.strategyId}`,
      );
      if (rate.breach(now)) {
        this.trip(
          o.strategyId,
          "breaker-rate-limit",
          `${L.circuitBreakers.rateLimitBreachesToHalt} rate-limit denials within 1 s`,
          now,
          String(L.circuitBreakers.rateLimitBreachesToHalt),
          String(L.circuitBreakers.rateLimitBreachesToHalt),
        );
      }
      return d;
    }

    const il: InstrumentLimits | undefined = L.instruments[o.symbol];
    if (!il)
      return this.deny(
        o,
        "unknown-instrument",
        "configured instrument",
        o.symbol,
        `no risk limits configured for ${o.symbol}`,
      );
    if (qty > il.maxOrderQty + EPS)
      return this.deny(
        o,
        "max-order-qty",
        String(il.maxOrderQty),
        String(qty),
        `order quantity above max for ${o.symbol}`,
      );

    const mid = ctx.mid;
    if (!(mid > 0))
      return this.deny(o, "mark-price", "> 0", String(mid), `no mid price for ${o.symbol}; failing closed`);
    let price = mid;
    if (o.type === "LIMIT") {
      const lp = o.limitPrice;
      if (lp === undefined || !(lp > 0))
        return this.deny(o, "invalid-order", "> 0", String(lp), "LIMIT order needs a positive limit price");
      const dev = Math.abs(lp - mid) / mid;
      if (dev > L.priceBandPct + EPS)
        return this.deny(
          o,
          "price-band",
          String(L.priceBandPct),
          String(dev),
          `limit ${lp} is ${(dev * 100).toFixed(3)}% from mid ${mid}`,
        );
      price = lp;
    }
    const notional = qty * price;
    if (notional > L.maxOrderNotional + EPS)
      return this.deny(
        o,
        "max-order-notional",
        String(L.maxOrderNotional),
        String(notional),
        "order notional above max",
      );

    const pre = ctx.position;
    const post = pre + dir * qty;
    if (post > il.maxLong + EPS && post > pre)
      return this.deny(
        o,
        "max-position-long",
        String(il.maxLong),
        String(post),
        `position after order above max long for ${o.symbol}`,
      );
    if (post < -il.maxShort - EPS && post < pre)
      return this.deny(
        o,
        "max-position-short",
        String(-il.maxShort),
        String(post),
        `position after order below max short for ${o.symbol}`,
      );

    const sDelta = (Math.abs(sp + dir * qty) - Math.abs(sp)) * price;
    const sPost = ctx.strategyNotional + sDelta;
    if (sDelta > 0 && sPost > L.maxStrategyNotional + EPS)
      return this.deny(
        o,
        "max-strategy-notional",
        String(L.maxStrategyNotional),
        String(sPost),
        "strategy gross notional after order above max",
      );
    const pDelta = (Math.abs(post) - Math.abs(pre)) * price;
    const pPost = ctx.portfolioNotional + pDelta;
    if (pDelta > 0 && pPost > L.maxPortfolioNotional + EPS)
      return this.deny(
        o,
        "max-portfolio-notional",
        String(L.maxPortfolioNotional),
        String(pPost),
        "portfolio gross notional after order above max",
      );

    if (!reducing) {
      const daily = ctx.dailyPnl ?? this.eq.dailyPnl();
      if (daily <= L.dailyLossLimit + EPS)
        return this.deny(
          o,
          "daily-loss",
          String(L.dailyLossLimit),
          String(daily),
          "daily loss limit reached: only risk-reducing orders",
        );
      const dd = ctx.drawdownPct ?? this.eq.drawdown();
      if (dd >= L.maxDrawdownPct - EPS)
        return this.deny(
          o,
          "drawdown",
          String(L.maxDrawdownPct),
          String(dd),
          "drawdown limit reached: only risk-reducing orders",
        );
    }

    if (ctx.balanceUnavailable !== undefined) {
      // Unknown balance: nothing that adds risk; a reducing order (flattening) is not held hostage by it.
      if (!reducing)
        return this.deny(
          o,
          "balance",
          "known balance",
          "unavailable",
          `balance unavailable (fail-closed): only risk-reducing orders: ${ctx.balanceUnavailable}`.slice(0, 512),
        );
    } else if (dir > 0) {
      const need = notional * (1 + (ctx.feeRate ?? 0));
      if (need > ctx.availableQuote + EPS)
        return this.deny(o, "balance", String(ctx.availableQuote), String(need), "insufficient quote balance for buy");
    } else if (L.requireBaseForSells) {
      const have = ctx.availableBase ?? 0;
      if (qty > have + EPS)
        return this.deny(o, "balance", String(have), String(qty), "insufficient base balance for sell");
    }

    rate.record(now);
    return APPROVED;
  }

  private deny(o: RiskOrder, rule: RiskRule, limit: string, value: string, message: string): RiskDecision {
    return { approved: false, denial: { rule, limit, value, message, strategyId: o.strategyId, symbol: o.symbol } };
  }

  // ---------- headroom (for sizing) ----------

  /**
   * Max quantity each limit allows for a new order at `price` (no rate-limit consumption).
   * Binary rules (state, rate, daily loss, drawdown) allow only the reducing quantity when blocked.
   */
  headroom(
    o: { strategyId: string; symbol: string; side: Side },
    price: number,
    ctx: RiskContext,
    now: number,
  ): Headroom[] {
    const L = this.limitsValue;
    this.eq.rollDay(now);
    const out: Headroom[] = [];
    const dir = o.side === "BUY" ? 1 : -1;
    const sp = ctx.strategyPosition ?? ctx.position;
    const reducible = Math.max(0, -sp * dir);
    const state = this.effectiveState(o.strategyId);
    if (state === "HALTED") out.push({ constraint: "trading-state", quantity: 0 });
    else if (state === "REDUCING") out.push({ constraint: "trading-state", quantity: reducible });
    if (this.rates.get(o.strategyId)?.isFull(now)) out.push({ constraint: "order-rate", quantity: 0 });
    const il = L.instruments[o.symbol];
    if (!il) {
      out.push({ constraint: "unknown-instrument", quantity: 0 });
      return out;
    }
    if (!(price > 0)) {
      out.push({ constraint: "mark-price", quantity: 0 });
      return out;
    }
    out.push({ constraint: "max-order-qty", quantity: il.maxOrderQty });
    out.push({ constraint: "max-order-notional", quantity: L.maxOrderNotional / price });
    out.push(
      dir > 0
        ? { constraint: "max-position-long", quantity: Math.max(0, il.maxLong - ctx.position) }
        : { constraint: "max-position-short", quantity: Math.max(0, ctx.position + il.maxShort) },
    );
    out.push({
      constraint: "max-strategy-notional",
      quantity: 2 * reducible + Math.max(0, (L.maxStrategyNotional - ctx.strategyNotional) / price),
    });
    const pReducible = Math.max(0, -ctx.position * dir);
    out.push({
      constraint: "max-portfolio-notional",
      quantity: 2 * pReducible + Math.max(0, (L.maxPortfolioNotional - ctx.portfolioNotional) / price),
    });
    if ((ctx.dailyPnl ?? this.eq.dailyPnl()) <= L.dailyLossLimit + EPS)
      out.push({ constraint: "daily-loss", quantity: reducible });
    if ((ctx.drawdownPct ?? this.eq.drawdown()) >= L.maxDrawdownPct - EPS)
      out.push({ constraint: "drawdown", quantity: reducible });
    if (ctx.balanceUnavailable !== undefined) out.push({ constraint: "balance", quantity: reducible });
    else if (dir > 0)
      out.push({
        constraint: "balance",
        quantity: Math.max(0, ctx.availableQuote / (price * (1 + (ctx.feeRate ?? 0)))),
      });
    else if (L.requireBaseForSells) out.push({ constraint: "balance", quantity: Math.max(0, ctx.availableBase ?? 0) });
    return out;
  }
}
