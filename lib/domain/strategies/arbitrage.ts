// Cross-venue spread arbitrage: when venue A's best bid beats venue B's best ask by more than
// minSpreadBps after both taker fees, buy on B and sell on A with IOC limits at those prices.
// Leg risk: when both legs are done and their filled quantities differ, a market IOC hedge
// flattens the difference on the venue with the best price.

import * as z from "zod";
import { Decimal } from "../decimal";
import { UnknownVenueError } from "../errors";
import type { L1Quote, OrderIntent, Side, Venue } from "../types";
import { NonNegativeDecimal, PositiveDecimal, ScopeList } from "./config";
import type { FillView, OrderEventView, Strategy, StrategyContext } from "./Strategy";

export const ArbitrageConfigSchema = z.strictObject({
  symbols: ScopeList,
  venues: ScopeList,
  /** Net edge (after both taker fees) needed to trade, bps of the buy price. */
  minSpreadBps: z.number().nonnegative().default(10),
  /** Cap per signal, base units. */
  maxQuantity: PositiveDecimal.prefault("1"),
  /** Signals smaller than this are dropped. */
  minQuantity: NonNegativeDecimal.prefault("0"),
  /** Do not fire again on a symbol for this long after a signal (ms). */
  cooldownMs: z.number().int().nonnegative().default(1000),
});
export type ArbitrageConfig = z.output<typeof ArbitrageConfigSchema>;

export interface ArbitrageSignal {
  symbol: string;
  buyVenue: string;
  sellVenue: string;
  /** Best ask on the buy venue. */
  buyPrice: Decimal;
  /** Best bid on the sell venue. */
  sellPrice: Decimal;
  /** min(ask size on buy venue, bid size on sell venue, maxQuantity), rounded down to lotSize when given. */
  quantity: Decimal;
  /** (sellPrice − buyPrice) / buyPrice in bps. */
  grossSpreadBps: number;
  /** (sellPrice·(1−takerSell) − buyPrice·(1+takerBuy)) / buyPrice in bps. */
  netSpreadBps: number;
}

export interface DetectArbitrageConfig {
  minSpreadBps: number;
  maxQuantity?: Decimal;
  lotSize?: Decimal;
}

type VenueLookup = readonly Venue[] | ReadonlyMap<string, Venue> | Readonly<Record<string, Venue>>;

function findVenue(venues: VenueLookup, id: string): Venue | undefined {
  if (Array.isArray(venues)) return (venues as readonly Venue[]).find((v) => v.id === id);
  if (venues instanceof Map) return venues.get(id);
  return (venues as Readonly<Record<string, Venue>>)[id];
}

const BPS = new Decimal(10_000);

function oneWay(buy: L1Quote, sell: L1Quote, fb: Venue, fs: Venue, cfg: DetectArbitrageConfig): ArbitrageSignal | null {
  if (!buy.ask.gt(0) || !sell.bid.gt(0)) return null;
  const net = sell.bid
    .times(new Decimal(1).minus(fs.takerFee))
    .minus(buy.ask.times(fb.takerFee.plus(1)))
    .div(buy.ask)
    .times(BPS);
  if (!net.gt(cfg.minSpreadBps)) return null;
  let qty = Decimal.min(buy.askSize, sell.bidSize);
  if (cfg.maxQuantity) qty = Decimal.min(qty, cfg.maxQuantity);
  if (cfg.lotSize?.gt(0)) qty = qty.div(cfg.lotSize).floor().times(cfg.lotSize);
  if (!qty.gt(0)) return null;
  return {
    symbol: buy.symbol,
    buyVenue: buy.venue,
    sellVenue: sell.venue,
    buyPrice: buy.ask,
    sellPrice: sell.bid,
    quantity: qty,
    grossSpreadBps: sell.bid.minus(buy.ask).div(buy.ask).times(BPS).toNumber(),
    netSpreadBps: net.toNumber(),
  };
}

/**
 * Pure detection over two quotes of the same symbol on two venues; checks both directions and
 * returns the better one, or null. Used by the arbitrage strategy and the serverless signal function.
 */
export function detectArbitrage(
  quoteA: L1Quote,
  quoteB: L1Quote,
  venues: VenueLookup,
  cfg: DetectArbitrageConfig,
): ArbitrageSignal | null {
  if (quoteA.symbol !== quoteB.symbol || quoteA.venue === quoteB.venue) return null;
  const va = findVenue(venues, quoteA.venue);
  if (!va) throw new UnknownVenueError(quoteA.venue);
  const vb = findVenue(venues, quoteB.venue);
  if (!vb) throw new UnknownVenueError(quoteB.venue);
  const ab = oneWay(quoteB, quoteA, vb, va, cfg); // buy on B, sell on A
  const ba = oneWay(quoteA, quoteB, va, vb, cfg); // buy on A, sell on B
  if (ab && ba) return ab.netSpreadBps >= ba.netSpreadBps ? ab : ba;
  return ab ?? ba;
}

interface LegState {
  venue: string;
  filled: Decimal;
  done: boolean;
}
interface OpenSignal {
  id: string;
  symbol: string;
  buy: LegState;
  sell: LegState;
  hedged: boolean;
}

export class ArbitrageStrategy implements Strategy {
  readonly name = "arbitrage";
  private seq = 0;
  private readonly open = new Map<string, OpenSignal>();
  private readonly lastSignalAt = new Map<string, number>();
  /** Every signal fired, most recent last (for reports/tests). */
  readonly signals: ArbitrageSignal[] = [];

  constructor(
    readonly id: string,
    readonly config: ArbitrageConfig,
  ) {}

  private symbolBusy(symbol: string): boolean {
    for (const s of this.open.values()) if (s.symbol === symbol) return true;
    return false;
  }

  onMarket(q: L1Quote, ctx: StrategyContext): OrderIntent[] {
    const c = this.config;
    if (c.symbols?.length && !c.symbols.includes(q.symbol)) return [];
    if (c.venues?.length && !c.venues.includes(q.venue)) return [];
    if (this.symbolBusy(q.symbol)) return [];
    const last = this.lastSignalAt.get(q.symbol);
    if (last !== undefined && q.ts - last < c.cooldownMs) return [];
    const inst = ctx.instrument(q.symbol);
    let best: ArbitrageSignal | null = null;
    for (const other of ctx.quotes()) {
      if (other.symbol !== q.symbol || other.venue === q.venue) continue;
      if (c.venues?.length && !c.venues.includes(other.venue)) continue;
      const sig = detectArbitrage(q, other, ctx.venues(), {
        minSpreadBps: c.minSpreadBps,
        maxQuantity: c.maxQuantity,
        ...(inst ? { lotSize: inst.lotSize } : {}),
      });
      if (sig && (!best || sig.netSpreadBps > best.netSpreadBps)) best = sig;
    }
    if (!best) return [];
    let qty = best.quantity;
    const hb = ctx.headroom?.(q.symbol, "BUY");
    const hs = ctx.headroom?.(q.symbol, "SELL");
    if (hb) qty = Decimal.min(qty, hb);
    if (hs) qty = Decimal.min(qty, hs);
    if (inst?.lotSize.gt(0)) qty = qty.div(inst.lotSize).floor().times(inst.lotSize);
    if (!qty.gt(0) || qty.lt(c.minQuantity)) return [];
    const signal = { ...best, quantity: qty };
    this.signals.push(signal);
    this.lastSignalAt.set(q.symbol, q.ts);
    const sid = `s${++this.seq}`;
    this.open.set(sid, {
      id: sid,
      symbol: q.symbol,
      buy: { venue: signal.buyVenue, filled: new Decimal(0), done: false },
      sell: { venue: signal.sellVenue, filled: new Decimal(0), done: false },
      hedged: false,
    });
    return arbitrageLegs(this.id, sid, signal);
  }

  private legOf(tag: string | undefined): { sig: OpenSignal; leg: LegState } | undefined {
    if (!tag?.startsWith("arb:")) return undefined;
    const [, sid, which] = tag.split(":");
    const sig = sid ? this.open.get(sid) : undefined;
    if (!sig) return undefined;
    if (which === "BUY") return { sig, leg: sig.buy };
    if (which === "SELL") return { sig, leg: sig.sell };
    return undefined;
  }

  onFill(fill: FillView, ctx: StrategyContext): OrderIntent[] {
    if (fill.tag?.endsWith(":HEDGE")) {
      const sid = fill.tag.split(":")[1];
      if (sid && fill.remainingQuantity.lte(0)) this.open.delete(sid);
      return [];
    }
    const hit = this.legOf(fill.tag);
    if (!hit) return [];
    hit.leg.filled = hit.leg.filled.plus(fill.quantity);
    if (fill.remainingQuantity.lte(0)) hit.leg.done = true;
    return this.maybeHedge(hit.sig, ctx);
  }

  onOrderEvent(ev: OrderEventView, ctx: StrategyContext): OrderIntent[] {
    if (ev.tag?.endsWith(":HEDGE")) {
      const sid = ev.tag.split(":")[1];
      if (sid) this.open.delete(sid); // hedge failed: nothing more this strategy can do safely; risk sees the position
      return [];
    }
    const hit = this.legOf(ev.tag);
    if (!hit) return [];
    hit.leg.done = true;
    if (ev.filledQuantity.gt(hit.leg.filled)) hit.leg.filled = ev.filledQuantity;
    return this.maybeHedge(hit.sig, ctx);
  }

  private maybeHedge(sig: OpenSignal, ctx: StrategyContext): OrderIntent[] {
    if (!sig.buy.done || !sig.sell.done || sig.hedged) return [];
    const diff = sig.buy.filled.minus(sig.sell.filled);
    if (diff.isZero()) {
      this.open.delete(sig.id);
      return [];
    }
    sig.hedged = true;
    const side: Side = diff.gt(0) ? "SELL" : "BUY";
    const venue = this.bestHedgeVenue(sig, side, ctx);
    return [
      {
        strategyId: this.id,
        venue,
        symbol: sig.symbol,
        side,
        type: "MARKET",
        timeInForce: "IOC",
        postOnly: false,
        quantity: diff.abs(),
        tag: `arb:${sig.id}:HEDGE`,
      },
    ];
  }

  private bestHedgeVenue(sig: OpenSignal, side: Side, ctx: StrategyContext): string {
    let venue = side === "SELL" ? sig.buy.venue : sig.sell.venue;
    let best: Decimal | undefined;
    for (const q of ctx.quotes()) {
      if (q.symbol !== sig.symbol) continue;
      const px = side === "SELL" ? q.bid : q.ask;
      if (!px.gt(0)) continue;
      if (!best || (side === "SELL" ? px.gt(best) : px.lt(best))) {
        best = px;
        venue = q.venue;
      }
    }
    return venue;
  }

  onTimer(_now: number, _ctx: StrategyContext): OrderIntent[] {
    return [];
  }
}

/** The two IOC limit legs of a signal, tagged arb:<signalId>:BUY / :SELL. */
export function arbitrageLegs(strategyId: string, signalId: string, s: ArbitrageSignal): OrderIntent[] {
  const leg = (side: Side, venue: string, price: Decimal): OrderIntent => ({
    strategyId,
    venue,
    symbol: s.symbol,
    side,
    type: "LIMIT",
    timeInForce: "IOC",
    postOnly: false,
    quantity: s.quantity,
    limitPrice: price,
    tag: `arb:${signalId}:${side}`,
  });
  return [leg("BUY", s.buyVenue, s.buyPrice), leg("SELL", s.sellVenue, s.sellPrice)];
}
