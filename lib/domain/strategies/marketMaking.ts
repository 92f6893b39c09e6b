// Market making: post-only limit quotes on both sides of mid, several levels, skewed against inventory.
// Quotes are only cancelled/replaced when the desired price moved more than the refresh tolerance.

import { z } from "zod";
import type { Decimal } from "../decimal";
import type { L1Quote, OrderIntent, Side } from "../types";
import { PositiveDecimal, ScopeList } from "./config";
import { askTicks, bidTicks, DecimalNumberCache, fromUnits, quoteNums, tickInfo } from "./quoteMath";
import { cancelIntent, type FillView, type OpenOrderView, type Strategy, type StrategyContext } from "./Strategy";

export const MarketMakingConfigSchema = z.object({
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

export class MarketMakingStrategy implements Strategy {
  readonly name = "market-making";
  private readonly posCache = new DecimalNumberCache();
  private readonly maxPos: number;
  /** Last price (ticks) we placed per tag; lets us compare without reading Decimals back. */
  private readonly placedTicks = new Map<string, number>();
  private readonly symbols: Set<string> | undefined;
  private readonly venues: Set<string> | undefined;
  private readonly tagPrefix = new Map<string, string>();

  constructor(
    readonly id: string,
    readonly config: MarketMakingConfig,
  ) {
    this.maxPos = config.maxPosition.toNumber();
    this.symbols = config.symbols?.length ? new Set(config.symbols) : undefined;
    this.venues = config.venues?.length ? new Set(config.venues) : undefined;
  }

  private prefix(venue: string, symbol: string): string {
    const k = `${venue}|${symbol}`;
    let p = this.tagPrefix.get(k);
    if (p === undefined) {
      p = `mm:${venue}:${symbol}:`;
      this.tagPrefix.set(k, p);
    }
    return p;
  }

  onMarket(q: L1Quote, ctx: StrategyContext): OrderIntent[] {
    if (this.symbols && !this.symbols.has(q.symbol)) return [];
    if (this.venues && !this.venues.has(q.venue)) return [];
    const inst = ctx.instrument(q.symbol);
    if (!inst) return [];
    const n = quoteNums(q);
    if (!(n.bid > 0) || !(n.ask > n.bid)) return [];
    const { tick, tickD } = tickInfo(inst);
    const pos = this.posCache.get(ctx.position(q.symbol));
    const desired = mmDesiredQuotes(this.config, n.bid, n.ask, tick, pos, this.maxPos);
    const mid = (n.bid + n.ask) / 2;
    const tolTicks = (mid * this.config.refreshToleranceBps) / 10_000 / tick;
    const prefix = this.prefix(q.venue, q.symbol);

    const live = new Map<string, OpenOrderView>();
    for (const o of ctx.openOrders()) {
      if (o.pendingCancel || o.tag === undefined || !o.tag.startsWith(prefix)) continue;
      live.set(o.tag, o);
    }
    const out: OrderIntent[] = [];
    const wanted = new Set<string>();
    for (const d of desired) {
      const tag = `${prefix}${d.side}:${d.level}`;
      wanted.add(tag);
      const existing = live.get(tag);
      if (existing) {
        const placed = this.placedTicks.get(tag);
        if (placed !== undefined && Math.abs(placed - d.ticks) <= tolTicks) continue;
        out.push(cancelIntent(this.id, existing));
      }
      this.placedTicks.set(tag, d.ticks);
      out.push(this.quoteIntent(q, d, tag, fromUnits(d.ticks, tickD)));
    }
    // Levels no longer wanted (inventory limit reached on that side): pull them.
    for (const [tag, o] of live) if (!wanted.has(tag)) out.push(cancelIntent(this.id, o));
    return out;
  }

  private quoteIntent(q: L1Quote, d: DesiredQuote, tag: string, price: Decimal): OrderIntent {
    return {
      strategyId: this.id,
      venue: q.venue,
      symbol: q.symbol,
      side: d.side,
      type: "LIMIT",
      timeInForce: "GTC",
      postOnly: true,
      quantity: this.config.orderQuantity,
      limitPrice: price,
      tag,
    };
  }

  onFill(_fill: FillView, _ctx: StrategyContext): OrderIntent[] {
    return []; // the next quote re-centres with the new inventory
  }

  onTimer(_now: number, _ctx: StrategyContext): OrderIntent[] {
    return [];
  }
}
