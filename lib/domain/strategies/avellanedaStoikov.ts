// Avellaneda–Stoikov (2008) market making.
// Units: prices in quote currency, time in seconds, q = signed inventory in base units.
//   finite horizon:   r = s − q·γ·σ²·(T−t);  total spread δa+δb = γσ²(T−t) + (2/γ)·ln(1+γ/κ)
//                     bid = r − spread/2, ask = r + spread/2.
//                     T−t runs down over rolling sessions of `horizonSeconds` from the first quote seen.
//   infinite horizon (A–S §2.3, discount ω = ½·γ²·σ²·(qMax+1)²):
//                     r_ask = s + (1/γ)·ln(1 + (1−2q)·γ²σ² / (2ω − γ²q²σ²))
//                     r_bid = s + (1/γ)·ln(1 + (−1−2q)·γ²σ² / (2ω − γ²q²σ²))
//                     bid = r_bid − (1/γ)·ln(1+γ/κ), ask = r_ask + (1/γ)·ln(1+γ/κ).
//                     γ²σ² cancels in both fractions: 1 + (±1−2q) / ((qMax+1)² − q²), so σ² = 0 is fine.
//                     The model holds for |q| ≤ qMax only (past it the ask's log goes negative → NaN,
//                     and past qMax+1 the quotes cross), so q is clamped to ±qMax. At q = +qMax the
//                     bid's log is ln 0: bid = −∞, i.e. do not buy; for |q| ≤ qMax, r_bid < r_ask.
//   σ² is an online EWMA of (Δmid)²/Δt (price² per second).
//   κ is configured, or estimated as 1/EWMA(depth of our fills from mid) — the MLE of κ for fill
//   intensity A·e^(−κδ) — once `kappaMinFills` fills were seen (the configured κ is used until then).
import * as z from "zod";
import type { L1Quote, OrderIntent, Side } from "../types";
import { PositiveDecimal, ScopeList } from "./config";
import { askTicks, bidTicks, DecimalNumberCache, priceFromTicks, quoteNums, tickInfo } from "./quoteMath";
import { cancelIntent, type FillView, type OpenOrderView, type Strategy, type StrategyContext } from "./Strategy";

export const AvellanedaStoikovConfigSchema = z.strictObject({
  symbols: ScopeList,
  venues: ScopeList,
  orderQuantity: PositiveDecimal.prefault("0.01"),
  /** Risk aversion γ (1 / (price·qty)). */
  gamma: z.number().positive().default(0.01),
  /** Order-book liquidity κ (1/price). Used until estimated when estimateKappa. */
  kappa: z.number().positive().default(1.5),
  estimateKappa: z.boolean().default(false),
  kappaMinFills: z.number().int().positive().default(20),
  horizonSeconds: z.number().positive().default(60),
  infiniteHorizon: z.boolean().default(false),
  /** EWMA weight of the past for σ² (per tick). */
  sigmaLambda: z.number().gt(0).lt(1).default(0.97),
  /** Ticks before quoting, so σ has an estimate. */
  warmupTicks: z.number().int().nonnegative().default(20),
  /** |q| at which the side adding inventory stops quoting; qMax of the infinite-horizon ω. */
  maxPosition: PositiveDecimal.prefault("1"),
  minSpreadBps: z.number().nonnegative().default(2),
  refreshToleranceBps: z.number().nonnegative().default(2),
});
export type AvellanedaStoikovConfig = z.output<typeof AvellanedaStoikovConfigSchema>;

export interface AsQuote {
  reservation: number;
  bid: number;
  ask: number;
  spread: number;
}

/** Finite horizon A–S quotes. tau = T − t in seconds, sigma2 in price²/s. */
export function asFiniteHorizon(
  s: number,
  q: number,
  gamma: number,
  sigma2: number,
  tau: number,
  kappa: number,
): AsQuote {
  const reservation = s - q * gamma * sigma2 * tau;
  const spread = gamma * sigma2 * tau + (2 / gamma) * Math.log(1 + gamma / kappa);
  return { reservation, bid: reservation - spread / 2, ask: reservation + spread / 2, spread };
}

/** Infinite-horizon A–S quotes (formulas in the file header). Never NaN; bid = −∞ means "do not buy". */
export function asInfiniteHorizon(
  s: number,
  q: number,
  gamma: number,
  _sigma2: number, // cancels (see the header); kept so both horizons take the same arguments
  kappa: number,
  qMax: number,
): AsQuote {
  const qc = Math.min(qMax, Math.max(-qMax, q));
  const denom = (qMax + 1) ** 2 - qc * qc; // >= 2·qMax + 1 > 0
  const rAsk = s + (1 / gamma) * Math.log(Math.max(0, 1 + (1 - 2 * qc) / denom));
  const rBid = s + (1 / gamma) * Math.log(Math.max(0, 1 + (-1 - 2 * qc) / denom)); // ln 0 = −∞ at qc = qMax
  const d = (1 / gamma) * Math.log(1 + gamma / kappa);
  const bid = rBid - d;
  const ask = rAsk + d;
  const reservation = Number.isFinite(rBid) ? (rAsk + rBid) / 2 : rAsk;
  return { reservation, bid, ask, spread: ask - bid };
}

interface SymbolState {
  lastMid: number;
  lastTs: number;
  sigma2: number;
  ticks: number;
}

export class AvellanedaStoikovStrategy implements Strategy {
  readonly name = "avellaneda-stoikov";
  private readonly state = new Map<string, SymbolState>();
  private readonly placedTicks = new Map<string, number>();
  private readonly posCache = new Map<string, DecimalNumberCache>();
  private readonly maxPos: number;
  private sessionStart: number | undefined;
  private fillDepthEwma: number | undefined;
  private fillCount = 0;

  constructor(
    readonly id: string,
    readonly config: AvellanedaStoikovConfig,
  ) {
    this.maxPos = config.maxPosition.toNumber();
  }

  /** κ in use: estimated from fill depths once enough fills were seen, else configured. */
  currentKappa(): number {
    if (this.config.estimateKappa && this.fillCount >= this.config.kappaMinFills && this.fillDepthEwma)
      return 1 / this.fillDepthEwma;
    return this.config.kappa;
  }

  sigma2(venue: string, symbol: string): number | undefined {
    return this.state.get(`${venue}|${symbol}`)?.sigma2;
  }

  onMarket(q: L1Quote, ctx: StrategyContext): OrderIntent[] {
    const c = this.config;
    if (c.symbols?.length && !c.symbols.includes(q.symbol)) return [];
    if (c.venues?.length && !c.venues.includes(q.venue)) return [];
    const inst = ctx.instrument(q.symbol);
    if (!inst) return [];
    const n = quoteNums(q);
    if (!(n.bid > 0) || !(n.ask > n.bid)) return [];
    const mid = (n.bid + n.ask) / 2;
    const key = `${q.venue}|${q.symbol}`;
    let st = this.state.get(key);
    if (!st) {
      st = { lastMid: mid, lastTs: q.ts, sigma2: 0, ticks: 0 };
      this.state.set(key, st);
    } else {
      const dt = (q.ts - st.lastTs) / 1000;
      if (dt > 0) {
        const obs = (mid - st.lastMid) ** 2 / dt;
        st.sigma2 = st.ticks === 0 ? obs : c.sigmaLambda * st.sigma2 + (1 - c.sigmaLambda) * obs;
        st.ticks++;
        st.lastMid = mid;
        st.lastTs = q.ts;
      }
    }
    this.sessionStart ??= q.ts;
    if (st.ticks < c.warmupTicks) return [];

    let pc = this.posCache.get(q.symbol);
    if (!pc) {
      pc = new DecimalNumberCache();
      this.posCache.set(q.symbol, pc);
    }
    const pos = pc.get(ctx.position(q.symbol));
    const kappa = this.currentKappa();
    let quote: AsQuote;
    if (c.infiniteHorizon) {
      quote = asInfiniteHorizon(mid, pos, c.gamma, st.sigma2, kappa, this.maxPos);
    } else {
      const horizonMs = c.horizonSeconds * 1000;
      const tau = (horizonMs - ((q.ts - this.sessionStart) % horizonMs)) / 1000;
      quote = asFiniteHorizon(mid, pos, c.gamma, st.sigma2, tau, kappa);
    }
    let { bid, ask } = quote;
    const minHalf = (mid * c.minSpreadBps) / 20_000;
    if (ask - bid < 2 * minHalf) {
      const centre = (bid + ask) / 2;
      bid = centre - minHalf;
      ask = centre + minHalf;
    }
    const ti = tickInfo(inst);
    const tick = ti.tick;
    const want: { side: Side; ticks: number }[] = [];
    if (pos < this.maxPos) want.push({ side: "BUY", ticks: Math.min(bidTicks(bid, tick), askTicks(n.ask, tick) - 1) });
    if (pos > -this.maxPos)
      want.push({ side: "SELL", ticks: Math.max(askTicks(ask, tick), bidTicks(n.bid, tick) + 1) });

    const prefix = `as:${q.venue}:${q.symbol}:`;
    const live = new Map<string, OpenOrderView>();
    for (const o of ctx.openOrders()) if (!o.pendingCancel && o.tag?.startsWith(prefix)) live.set(o.tag, o);
    const tolTicks = (mid * c.refreshToleranceBps) / 10_000 / tick;
    const out: OrderIntent[] = [];
    const wanted = new Set<string>();
    for (const w of want) {
      const tag = `${prefix}${w.side}`;
      wanted.add(tag);
      const existing = live.get(tag);
      if (existing) {
        const placed = this.placedTicks.get(tag);
        if (placed !== undefined && Math.abs(placed - w.ticks) <= tolTicks) continue;
        out.push(cancelIntent(this.id, existing));
      }
      if (w.ticks <= 0) continue;
      this.placedTicks.set(tag, w.ticks);
      out.push({
        strategyId: this.id,
        venue: q.venue,
        symbol: q.symbol,
        side: w.side,
        type: "LIMIT",
        timeInForce: "GTC",
        postOnly: true,
        quantity: c.orderQuantity,
        limitPrice: priceFromTicks(w.ticks, ti),
        tag,
      });
    }
    for (const [tag, o] of live) if (!wanted.has(tag)) out.push(cancelIntent(this.id, o));
    return out;
  }

  onFill(fill: FillView, ctx: StrategyContext): OrderIntent[] {
    const q = ctx.quote(fill.venue, fill.symbol);
    if (q && this.config.estimateKappa) {
      const n = quoteNums(q);
      const depth = Math.abs(fill.price.toNumber() - (n.bid + n.ask) / 2);
      if (depth > 0) {
        this.fillDepthEwma = this.fillDepthEwma === undefined ? depth : 0.9 * this.fillDepthEwma + 0.1 * depth;
        this.fillCount++;
      }
    }
    return [];
  }

  onTimer(_now: number, _ctx: StrategyContext): OrderIntent[] {
    return [];
  }
}
