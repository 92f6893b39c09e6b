// Market making: post-only limit quotes on both sides of mid, several levels, skewed against inventory.
// Quotes are only cancelled/replaced when the desired price moved more than the refresh tolerance.

import * as z from "zod";
import type { Instrument, L1Quote, OrderIntent, Side } from "../types";
import { PositiveDecimal, ScopeList } from "./config";
import {
  askTicks,
  bidTicks,
  DecimalNumberCache,
  priceFromTicks,
  quoteNums,
  type TickInfo,
  tickInfo,
} from "./quoteMath";
import {
  cancelIntent,
  type FillView,
  type OpenOrderView,
  type OrderEventView,
  type Strategy,
  type StrategyContext,
} from "./Strategy";

export const MarketMakingConfigSchema = z.strictObject({
  symbols: ScopeList,
  venues: ScopeList,
  /** Quantity per order per level, base units. */
  orderQuantity: PositiveDecimal.prefault("0.01"),
  /** Total quoted spread (ask - bid) at level 0, in bps of mid. */
  spreadBps: z.number().positive().default(10),
  /** Floor on the total spread, bps of mid; wins over spreadBps. */
  minSpreadBps: z.number().nonnegative().default(4),
  levels: z.number().int().min(1).max(20).default(1),
  /** Extra distance of each further level, bps of mid. */
  levelSpacingBps: z.number().nonnegative().default(5),
  /** Inventory at which skew is full and the side that adds to it stops quoting (base units). */
  maxPosition: PositiveDecimal.prefault("1"),
  /** Shift of the quote centre at full inventory, bps of mid (centre moves against the position). */
  inventorySkewBps: z.number().nonnegative().default(5),
  /** Keep a resting quote if the desired price moved by at most this many bps of mid. */
  refreshToleranceBps: z.number().nonnegative().default(2),
  /** After a quote is denied by risk or rejected, leave that slot empty this long (ms). */
  denialBackoffMs: z.number().int().nonnegative().default(1000),
});
export type MarketMakingConfig = z.output<typeof MarketMakingConfigSchema>;

export interface DesiredQuote {
  side: Side;
  level: number;
  /** Price in integer ticks. */
  ticks: number;
}

/**
 * Pure quote maths (numbers): returns desired prices in ticks for each level and side.
 * mid/position in numbers; inventory ratio is clamped to [-1, 1].
 */
export function mmDesiredQuotes(
  cfg: MarketMakingConfig,
  bid: number,
  ask: number,
  tick: number,
  position: number,
  maxPosition: number,
): DesiredQuote[] {
  const mid = (bid + ask) / 2;
  const spreadBps = Math.max(cfg.spreadBps, cfg.minSpreadBps);
  const half = (mid * spreadBps) / 20_000;
  const ratio = Math.max(-1, Math.min(1, position / maxPosition));
  const centre = mid * (1 - (ratio * cfg.inventorySkewBps) / 10_000);
  const bidCap = askTicks(ask, tick) - 1; // post-only: never cross the market
  const askFloor = bidTicks(bid, tick) + 1;
  const out: DesiredQuote[] = [];
  for (let l = 0; l < cfg.levels; l++) {
    const off = (mid * cfg.levelSpacingBps * l) / 10_000;
    if (ratio < 1)
      out.push({ side: "BUY", level: l, ticks: Math.min(bidTicks(centre - half - off, tick), bidCap - l) });
    if (ratio > -1)
      out.push({ side: "SELL", level: l, ticks: Math.max(askTicks(centre + half + off, tick), askFloor + l) });
  }
  return out;
}

/** Per venue+symbol quoting state: interned tags and the last price placed per slot. */
interface BookSlots {
  /** slot = level * 2 + (SELL ? 1 : 0) */
  tags: string[];
  placedTicks: Float64Array;
  /** Per slot: no new quote before this ts (after a denial/rejection). */
  retryAt: Float64Array;
  /** Position Decimal→number, per symbol (identity-cached). */
  pos: DecimalNumberCache;
  ti: TickInfo;
}

export class MarketMakingStrategy implements Strategy {
  readonly name = "market-making";
  private readonly maxPos: number;
  private readonly symbols: Set<string> | undefined;
  private readonly venues: Set<string> | undefined;
  private readonly books = new Map<string, Map<string, BookSlots>>();
  // Scratch: open order per slot for the current tick.
  private readonly found: (OpenOrderView | undefined)[];

  constructor(
    readonly id: string,
    readonly config: MarketMakingConfig,
  ) {
    this.maxPos = config.maxPosition.toNumber();
    this.symbols = config.symbols?.length ? new Set(config.symbols) : undefined;
    this.venues = config.venues?.length ? new Set(config.venues) : undefined;
    this.found = new Array(config.levels * 2).fill(undefined);
  }

  private slots(venue: string, symbol: string, inst: Instrument): BookSlots {
    let bySymbol = this.books.get(venue);
    if (!bySymbol) {
      bySymbol = new Map();
      this.books.set(venue, bySymbol);
    }
    let b = bySymbol.get(symbol);
    if (!b) {
      const tags: string[] = [];
      for (let l = 0; l < this.config.levels; l++)
        tags.push(`mm:${venue}:${symbol}:BUY:${l}`, `mm:${venue}:${symbol}:SELL:${l}`);
      b = {
        tags,
        placedTicks: new Float64Array(tags.length).fill(Number.NaN),
        retryAt: new Float64Array(tags.length),
        pos: new DecimalNumberCache(),
        ti: tickInfo(inst),
      };
      bySymbol.set(symbol, b);
    }
    return b;
  }

  onMarket(q: L1Quote, ctx: StrategyContext): OrderIntent[] {
    if (this.symbols && !this.symbols.has(q.symbol)) return [];
    if (this.venues && !this.venues.has(q.venue)) return [];
    let book = this.books.get(q.venue)?.get(q.symbol);
    if (!book) {
      const inst = ctx.instrument(q.symbol);
      if (!inst) return NONE;
      book = this.slots(q.venue, q.symbol, inst);
    }
    const n = quoteNums(q);
    if (!(n.bid > 0) || !(n.ask > n.bid)) return NONE;
    const ti = book.ti;
    const tick = ti.tick;
    const c = this.config;
    const pos = book.pos.get(ctx.position(q.symbol));
    const tags = book.tags;
    const found = this.found;
    found.fill(undefined);
    // Match this book's open orders to slots by (interned) tag.
    const open = ctx.openOrders();
    for (let i = 0; i < open.length; i++) {
      const o = open[i]!;
      if (o.pendingCancel || o.venue !== q.venue || o.symbol !== q.symbol || o.tag === undefined) continue;
      const k = tags.indexOf(o.tag);
      if (k >= 0) found[k] = o;
    }
    // Same maths as mmDesiredQuotes, without allocating per tick.
    const mid = (n.bid + n.ask) / 2;
    const half = (mid * Math.max(c.spreadBps, c.minSpreadBps)) / 20_000;
    const ratio = Math.max(-1, Math.min(1, pos / this.maxPos));
    const centre = mid * (1 - (ratio * c.inventorySkewBps) / 10_000);
    const bidCap = askTicks(n.ask, tick) - 1;
    const askFloor = bidTicks(n.bid, tick) + 1;
    const tolTicks = (mid * c.refreshToleranceBps) / 10_000 / tick;
    let out: OrderIntent[] | undefined;
    for (let l = 0; l < c.levels; l++) {
      const off = (mid * c.levelSpacingBps * l) / 10_000;
      for (let sideIdx = 0; sideIdx < 2; sideIdx++) {
        const slot = l * 2 + sideIdx;
        const existing = found[slot];
        const wanted = sideIdx === 0 ? ratio < 1 : ratio > -1;
        if (!wanted) {
          if (existing) out = append(out, cancelIntent(this.id, existing));
          continue;
        }
        const ticks =
          sideIdx === 0
            ? Math.min(bidTicks(centre - half - off, tick), bidCap - l)
            : Math.max(askTicks(centre + half + off, tick), askFloor + l);
        if (existing) {
          if (Math.abs(book.placedTicks[slot]! - ticks) <= tolTicks) continue;
          out = append(out, cancelIntent(this.id, existing));
        }
        if (ticks <= 0 || q.ts < book.retryAt[slot]!) continue;
        book.placedTicks[slot] = ticks;
        out = append(out, {
          strategyId: this.id,
          venue: q.venue,
          symbol: q.symbol,
          side: sideIdx === 0 ? "BUY" : "SELL",
          type: "LIMIT",
          timeInForce: "GTC",
          postOnly: true,
          quantity: c.orderQuantity,
          limitPrice: priceFromTicks(ticks, ti),
          tag: tags[slot]!,
        });
      }
    }
    return out ?? NONE;
  }

  onFill(_fill: FillView, _ctx: StrategyContext): OrderIntent[] {
    return NONE; // the next quote re-centres with the new inventory
  }

  /** A quote denied by risk (or rejected) backs off instead of retrying on every tick. */
  onOrderEvent(ev: OrderEventView, _ctx: StrategyContext): OrderIntent[] {
    if ((ev.kind !== "DENIED" && ev.kind !== "REJECTED") || ev.tag === undefined) return NONE;
    const b = this.books.get(ev.venue)?.get(ev.symbol);
    const k = b ? b.tags.indexOf(ev.tag) : -1;
    if (b && k >= 0) b.retryAt[k] = ev.ts + this.config.denialBackoffMs;
    return NONE;
  }

  onTimer(_now: number, _ctx: StrategyContext): OrderIntent[] {
    return NONE;
  }
}

/** Shared empty result (callers must not mutate what strategies return). */
const NONE: OrderIntent[] = [];

function append(list: OrderIntent[] | undefined, x: OrderIntent): OrderIntent[] {
  if (!list) return [x];
  list.push(x);
  return list;
}
