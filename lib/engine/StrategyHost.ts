// The strategy host: runs registered strategies, feeds them quotes, fills, timers and order events, and sends
// every intent they return through the intent throttle (when one is set) and the risk engine before the host's
// router acts on it. The quoter, the backtester and the signal function each supply a router (what a placed or
// cancelled order means there); the host owns the order of checks and the denial bookkeeping, so every host
// denies the same way.
// Hot path: no allocation per tick (one reused risk order; the router reuses its risk context).
import { ZERO } from "../domain/decimal";
import type { RiskContext, RiskEngine, RiskOrder } from "../domain/risk/RiskEngine";
import { decimalToNumber } from "../domain/strategies/quoteMath";
import type { FillView, OrderEventView, Strategy, StrategyContext } from "../domain/strategies/Strategy";
import type { L1Quote, OrderIntent } from "../domain/types";

/** Order-rate budget in front of the risk engine (lib/engine/IntentThrottle.ts implements it). */
export interface IntentThrottle {
  /** true: the intent may go on to the risk engine now; false: it is throttled (denied, rule "throttle"). */
  admit(strategyId: string, now: number): boolean;
}

/** A strategy as the host runs it; hosts extend it with what they keep per strategy. */
export interface StrategySlot {
  readonly id: string;
  readonly strategy: Strategy;
  /** The context passed to every callback; the host sets `now` before each one. */
  readonly ctx: StrategyContext & { now: number };
}

/** Why an intent did not become an order. */
export interface Refusal {
  kind: "DENIED" | "REJECTED";
  rule: string;
  reason: string;
}

export interface IntentRouter<S extends StrategySlot> {
  /** A cancel intent for one of the slot's orders. */
  cancel(slot: S, orderId: string, now: number): void;
  /** Checks before the throttle and the risk engine (market known, order shape, open-order cap). */
  precheck?(slot: S, intent: OrderIntent, now: number, mid: number): Refusal | undefined;
  /** The numeric risk context of this intent (hosts reuse one object); required when the host has a risk engine. */
  riskContext?(slot: S, intent: OrderIntent, mid: number): RiskContext;
  /** The intent passed every check: place it. */
  place(slot: S, intent: OrderIntent, now: number): void;
  /** Whether intents from fills, timers and order events are acted on now (default: always). */
  active?(slot: S): boolean;
  /** The intent was refused; the host has counted it and tells the strategy after this returns. */
  refused?(slot: S, intent: OrderIntent, now: number, refusal: Refusal): void;
}

export interface StrategyHostOptions<S extends StrategySlot> {
  /**
   * The pre-trade risk engine. Absent only where the router's output is checked downstream: the signal
   * function publishes its legs as a signal, and order-placement runs every rule on them against the persisted
   * risk state.
   */
  risk?: RiskEngine;
  router: IntentRouter<S>;
  throttle?: IntentThrottle;
  /** The reason a throttled intent's strategy hears (default: the budget is spent). */
  throttledReason?: string | undefined;
  /**
   * What a strategy returns from its refusal event. Without this hook the intents are dropped (the quoter: a
   * strategy backing off must not loop on its own denial); the backtester routes them (an arbitrage hedge).
   */
  onRefusalIntents?: (slot: S, intents: OrderIntent[], now: number) => void;
}

export class StrategyHost<S extends StrategySlot> {
  /** Denials (risk rules, throttle, prechecks) by rule name. */
  readonly denialsByRule = new Map<string, number>();
  riskDenials = 0;
  throttled = 0;
  private readonly risk: RiskEngine | undefined;
  private readonly router: IntentRouter<S>;
  private readonly throttle: IntentThrottle | undefined;
  private readonly throttledRefusal: Refusal;
  private readonly onRefusalIntents: ((slot: S, intents: OrderIntent[], now: number) => void) | undefined;
  private readonly riskOrder: RiskOrder = { strategyId: "", symbol: "", side: "BUY", type: "LIMIT", quantity: 0 };

  constructor(opts: StrategyHostOptions<S>) {
    if (opts.risk && !opts.router.riskContext) throw new TypeError("a router behind a risk engine needs riskContext");
    this.risk = opts.risk;
    this.router = opts.router;
    this.throttle = opts.throttle;
    this.throttledRefusal = opts.throttledReason ? { ...THROTTLED, reason: opts.throttledReason } : THROTTLED;
    this.onRefusalIntents = opts.onRefusalIntents;
  }

  onMarket(slot: S, q: L1Quote, now: number, mid: number): void {
    slot.ctx.now = now;
    const intents = slot.strategy.onMarket(q, slot.ctx);
    if (intents.length !== 0) this.route(slot, intents, now, mid);
  }

  onTimer(slot: S, now: number, midOf: (venue: string, symbol: string) => number): void {
    slot.ctx.now = now;
    const intents = slot.strategy.onTimer(now, slot.ctx);
    if (intents.length !== 0) this.routeEach(slot, intents, now, midOf);
  }

  onFill(slot: S, fill: FillView, now: number, midOf: (venue: string, symbol: string) => number): void {
    slot.ctx.now = now;
    const intents = slot.strategy.onFill(fill, slot.ctx);
    if (intents.length !== 0) this.routeEach(slot, intents, now, midOf);
  }

  onOrderEvent(slot: S, ev: OrderEventView, now: number, midOf: (venue: string, symbol: string) => number): void {
    if (!slot.strategy.onOrderEvent) return;
    slot.ctx.now = now;
    const intents = slot.strategy.onOrderEvent(ev, slot.ctx);
    if (intents.length !== 0) this.routeEach(slot, intents, now, midOf);
  }

  /** Intents of one tick, all on the quote's book (one mid). */
  route(slot: S, intents: readonly OrderIntent[], now: number, mid: number): void {
    for (let i = 0; i < intents.length; i++) this.routeOne(slot, intents[i]!, now, mid);
  }

  /** Intents that may span books: each priced at its own book's mid. */
  routeEach(slot: S, intents: readonly OrderIntent[], now: number, midOf: (v: string, s: string) => number): void {
    if (this.router.active && !this.router.active(slot)) return;
    for (let i = 0; i < intents.length; i++) {
      const it = intents[i]!;
      this.routeOne(slot, it, now, it.cancelOrderId === undefined ? midOf(it.venue, it.symbol) : 0);
    }
  }

  /** One intent: cancel, or precheck → throttle → risk → place. true when it became an order (or a cancel). */
  routeOne(slot: S, intent: OrderIntent, now: number, mid: number): boolean {
    if (intent.cancelOrderId !== undefined) {
      this.router.cancel(slot, intent.cancelOrderId, now);
      return true;
    }
    const pre = this.router.precheck?.(slot, intent, now, mid);
    if (pre) return this.refuse(slot, intent, now, pre);
    if (this.throttle && !this.throttle.admit(intent.strategyId, now)) {
      this.throttled++;
      return this.refuse(slot, intent, now, this.throttledRefusal);
    }
    const risk = this.risk;
    if (risk === undefined) {
      this.router.place(slot, intent, now);
      return true;
    }
    const ro = this.riskOrder;
    ro.strategyId = intent.strategyId;
    ro.symbol = intent.symbol;
    ro.side = intent.side;
    ro.type = intent.type;
    ro.quantity = decimalToNumber(intent.quantity);
    ro.limitPrice =
      intent.type === "LIMIT" && intent.limitPrice !== undefined ? decimalToNumber(intent.limitPrice) : undefined;
    ro.isCancel = false;
    const d = risk.checkOrder(ro, this.router.riskContext!(slot, intent, mid), now);
    if (!d.approved) {
      this.riskDenials++;
      const x = d.denial;
      return this.refuse(slot, intent, now, {
        kind: "DENIED",
        rule: x.rule,
        reason: `${x.rule}: limit ${x.limit}, value ${x.value}`,
      });
    }
    this.router.place(slot, intent, now);
    return true;
  }

  private refuse(slot: S, intent: OrderIntent, now: number, r: Refusal): false {
    if (r.kind === "DENIED") this.denialsByRule.set(r.rule, (this.denialsByRule.get(r.rule) ?? 0) + 1);
    this.router.refused?.(slot, intent, now, r);
    const strategy = slot.strategy;
    if (strategy.onOrderEvent) {
      const ev: OrderEventView = {
        ts: now,
        kind: r.kind,
        venue: intent.venue,
        symbol: intent.symbol,
        side: intent.side,
        filledQuantity: ZERO,
        reason: r.reason,
      };
      if (intent.tag !== undefined) ev.tag = intent.tag;
      slot.ctx.now = now;
      const out = strategy.onOrderEvent(ev, slot.ctx);
      if (out.length !== 0) this.onRefusalIntents?.(slot, out, now);
    }
    return false;
  }
}

/** A reusable numeric risk context (hosts fill it per intent instead of allocating one). */
export function newRiskContext(): RiskContext {
  return { mid: 0, position: 0, strategyNotional: 0, portfolioNotional: 0, availableQuote: 0 };
}

const THROTTLED: Refusal = { kind: "DENIED", rule: "throttle", reason: "order-rate budget spent (throttled)" };
