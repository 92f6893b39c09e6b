// CHAOS strategies — for testing the risk layer ONLY. They misbehave on purpose. None runs unless it is
// named explicitly (they are never in a default strategy list) and listStrategies() marks them chaos.
import * as z from "zod";
import { type Decimal, ZERO } from "../decimal";
import type { L1Quote, OrderIntent, Side } from "../types";
import { PositiveDecimal, ScopeList } from "./config";
import { askTicks, bidTicks, priceFromTicks, quoteNums, tickInfo } from "./quoteMath";
import {
  type FillView,
  marketIocIntent,
  type OrderEventView,
  type Rng,
  type Strategy,
  type StrategyContext,
  seededRng,
} from "./Strategy";

function limit(
  id: string,
  q: L1Quote,
  side: Side,
  qty: Decimal,
  price: Decimal,
  tag: string,
  tif: "GTC" | "IOC" = "GTC",
): OrderIntent {
  return {
    strategyId: id,
    venue: q.venue,
    symbol: q.symbol,
    side,
    type: "LIMIT",
    timeInForce: tif,
    postOnly: false,
    quantity: qty,
    limitPrice: price,
    tag,
  };
}

/** Price at our side of the touch, in ticks → Decimal. */
function touch(q: L1Quote, side: Side, ctx: StrategyContext): Decimal | undefined {
  const inst = ctx.instrument(q.symbol);
  if (!inst) return undefined;
  const n = quoteNums(q);
  const ti = tickInfo(inst);
  const tick = ti.tick;
  return side === "BUY" ? priceFromTicks(bidTicks(n.bid, tick), ti) : priceFromTicks(askTicks(n.ask, tick), ti);
}

const noop = (): OrderIntent[] => [];

/** The scope every strategy accepts (the quoter passes its shard's symbols and venues). */
const ChaosScope = { symbols: ScopeList, venues: ScopeList };
/** A chaos strategy floods on purpose, but within a bound (the control API may start one). */
export const MAX_CHAOS_ORDERS_PER_TICK = 200;

// ---------- runaway: floods orders ----------
export const ChaosRunawayConfigSchema = z.strictObject({
  ...ChaosScope,
  ordersPerTick: z.number().int().positive().max(MAX_CHAOS_ORDERS_PER_TICK).default(100),
  orderQuantity: PositiveDecimal.prefault("0.001"),
});
export type ChaosRunawayConfig = z.output<typeof ChaosRunawayConfigSchema>;

export class ChaosRunawayStrategy implements Strategy {
  readonly name = "chaos-runaway";
  private n = 0;
  constructor(
    readonly id: string,
    readonly config: ChaosRunawayConfig,
  ) {}
  onMarket(q: L1Quote, ctx: StrategyContext): OrderIntent[] {
    const px = touch(q, "BUY", ctx);
    if (!px) return [];
    const out: OrderIntent[] = [];
    for (let i = 0; i < this.config.ordersPerTick; i++)
      out.push(limit(this.id, q, "BUY", this.config.orderQuantity, px, `chaos-runaway:${++this.n}`));
    return out;
  }
  onFill = noop;
  onTimer = noop;
}

// ---------- risk-ignorant: doubles down on every denial ----------
export const ChaosRiskIgnorantConfigSchema = z.strictObject({
  ...ChaosScope,
  symbol: z.string().min(1).default("BTC-USD"),
  orderQuantity: PositiveDecimal.prefault("1"),
  side: z.enum(["BUY", "SELL"]).default("BUY"),
  /** Stop doubling at this multiple (keeps numbers finite). */
  maxMultiplier: z
    .number()
    .int()
    .positive()
    .max(1 << 20)
    .default(1 << 20),
});
export type ChaosRiskIgnorantConfig = z.output<typeof ChaosRiskIgnorantConfigSchema>;

export class ChaosRiskIgnorantStrategy implements Strategy {
  readonly name = "chaos-risk-ignorant";
  multiplier = 1;
  private lastVenue: string | undefined;
  private n = 0;
  constructor(
    readonly id: string,
    readonly config: ChaosRiskIgnorantConfig,
  ) {}
  private order(venue: string): OrderIntent {
    const c = this.config;
    return marketIocIntent(
      this.id,
      venue,
      c.symbol,
      c.side,
      c.orderQuantity.times(this.multiplier),
      `chaos-ri:${++this.n}`,
    );
  }
  onMarket(q: L1Quote, _ctx: StrategyContext): OrderIntent[] {
    if (q.symbol !== this.config.symbol) return [];
    this.lastVenue = q.venue;
    return [this.order(q.venue)];
  }
  onOrderEvent(ev: OrderEventView, _ctx: StrategyContext): OrderIntent[] {
    if (ev.kind !== "DENIED" && ev.kind !== "REJECTED") return [];
    // A breach: ignore it and double down.
    this.multiplier = Math.min(this.multiplier * 2, this.config.maxMultiplier);
    return [this.order(this.lastVenue ?? ev.venue)];
  }
  onFill = noop;
  onTimer = noop;
}

// ---------- volatility amplifier: 2x size on moves over 1 % ----------
export const ChaosVolatilityAmplifierConfigSchema = z.strictObject({
  ...ChaosScope,
  orderQuantity: PositiveDecimal.prefault("0.01"),
  /** Move since the last trade, percent, that triggers the amplified size. */
  movePct: z.number().positive().default(1),
  multiplier: z.number().positive().default(2),
  /** Trade at 1x every this many ms otherwise. */
  intervalMs: z.number().int().positive().default(1000),
});
export type ChaosVolatilityAmplifierConfig = z.output<typeof ChaosVolatilityAmplifierConfigSchema>;

export class ChaosVolatilityAmplifierStrategy implements Strategy {
  readonly name = "chaos-volatility-amplifier";
  private readonly ref = new Map<string, { mid: number; ts: number }>();
  private n = 0;
  constructor(
    readonly id: string,
    readonly config: ChaosVolatilityAmplifierConfig,
  ) {}
  onMarket(q: L1Quote, _ctx: StrategyContext): OrderIntent[] {
    const n = quoteNums(q);
    const mid = (n.bid + n.ask) / 2;
    if (!(mid > 0)) return [];
    const key = `${q.venue}|${q.symbol}`;
    const r = this.ref.get(key);
    if (!r) {
      this.ref.set(key, { mid, ts: q.ts });
      return [];
    }
    const move = (mid / r.mid - 1) * 100;
    const amplified = Math.abs(move) > this.config.movePct;
    if (!amplified && q.ts - r.ts < this.config.intervalMs) return [];
    this.ref.set(key, { mid, ts: q.ts });
    if (move === 0) return [];
    // Chase the move: buy rallies, sell drops; 2x when the move is large.
    const qty = amplified ? this.config.orderQuantity.times(this.config.multiplier) : this.config.orderQuantity;
    return [
      marketIocIntent(
        this.id,
        q.venue,
        q.symbol,
        move > 0 ? "BUY" : "SELL",
        qty,
        `chaos-va:${++this.n}:${amplified ? "2x" : "1x"}`,
      ),
    ];
  }
  onFill = noop;
  onTimer = noop;
}

// ---------- correlation breaker: BTC up > 2 % → fully short ETH ----------
export const ChaosCorrelationBreakerConfigSchema = z.strictObject({
  ...ChaosScope,
  leaderSymbol: z.string().min(1).default("BTC-USD"),
  targetSymbol: z.string().min(1).default("ETH-USD"),
  triggerPct: z.number().positive().default(2),
  /** "Fully short": the short position it aims for, base units of targetSymbol (default = ETH short limit). */
  fullShortQuantity: PositiveDecimal.prefault("100"),
});
export type ChaosCorrelationBreakerConfig = z.output<typeof ChaosCorrelationBreakerConfigSchema>;

export class ChaosCorrelationBreakerStrategy implements Strategy {
  readonly name = "chaos-correlation-breaker";
  private leaderRef: number | undefined;
  triggered = false;
  constructor(
    readonly id: string,
    readonly config: ChaosCorrelationBreakerConfig,
  ) {}
  onMarket(q: L1Quote, ctx: StrategyContext): OrderIntent[] {
    const c = this.config;
    if (q.symbol !== c.leaderSymbol || this.triggered) return [];
    const n = quoteNums(q);
    const mid = (n.bid + n.ask) / 2;
    this.leaderRef ??= mid;
    if ((mid / this.leaderRef - 1) * 100 <= c.triggerPct) return [];
    let venue: string | undefined;
    for (const t of ctx.quotes()) if (t.symbol === c.targetSymbol) venue = t.venue;
    if (!venue) return [];
    this.triggered = true;
    const qty = ctx.position(c.targetSymbol).plus(c.fullShortQuantity);
    if (!qty.gt(ZERO)) return [];
    return [marketIocIntent(this.id, venue, c.targetSymbol, "SELL", qty, "chaos-cb:short")];
  }
  onFill = noop;
  onTimer = noop;
}

// ---------- slow leak: error probability min(0.5, n·0.001) ----------
export const ChaosSlowLeakConfigSchema = z.strictObject({
  ...ChaosScope,
  orderQuantity: PositiveDecimal.prefault("0.01"),
  /** Per-order increase of the error probability. */
  errorStep: z.number().nonnegative().default(0.001),
  maxErrorProbability: z.number().min(0).max(1).default(0.5),
  /** Seed of the PRNG used when none is injected. */
  seed: z.number().int().default(1),
  /** A bad order is priced this far through the market (fat finger), percent. */
  fatFingerPct: z.number().positive().default(10),
});
export type ChaosSlowLeakConfig = z.output<typeof ChaosSlowLeakConfigSchema>;

/** Probability that the n-th order (1-based) is erroneous. */
export function slowLeakErrorProbability(n: number, step = 0.001, max = 0.5): number {
  return Math.min(max, n * step);
}

export class ChaosSlowLeakStrategy implements Strategy {
  readonly name = "chaos-slow-leak";
  private n = 0;
  errors = 0;
  private readonly rng: Rng;
  constructor(
    readonly id: string,
    readonly config: ChaosSlowLeakConfig,
    rng?: Rng,
  ) {
    this.rng = rng ?? seededRng(config.seed);
  }
  onMarket(q: L1Quote, ctx: StrategyContext): OrderIntent[] {
    const inst = ctx.instrument(q.symbol);
    if (!inst) return [];
    const c = this.config;
    this.n++;
    const side: Side = this.n % 2 === 0 ? "BUY" : "SELL";
    const p = slowLeakErrorProbability(this.n, c.errorStep, c.maxErrorProbability);
    const n = quoteNums(q);
    const ti = tickInfo(inst);
    const tick = ti.tick;
    if (this.rng() < p) {
      this.errors++;
      // Fat finger: a limit far through the market that would sweep the book.
      const f = c.fatFingerPct / 100;
      const px = side === "BUY" ? askTicks(n.ask * (1 + f), tick) : bidTicks(n.bid * (1 - f), tick);
      return [limit(this.id, q, side, c.orderQuantity, priceFromTicks(px, ti), `chaos-sl:${this.n}:error`, "IOC")];
    }
    const px = side === "BUY" ? bidTicks(n.bid, tick) : askTicks(n.ask, tick);
    return [limit(this.id, q, side, c.orderQuantity, priceFromTicks(px, ti), `chaos-sl:${this.n}`, "IOC")];
  }
  onFill(_f: FillView, _ctx: StrategyContext): OrderIntent[] {
    return [];
  }
  onTimer = noop;
}
