// Price-time-priority limit order book for one venue+symbol. Prices in integer ticks and
// quantities in integer lots, so matching arithmetic is exact in plain numbers.

export type BookSide = "BUY" | "SELL";

export interface RestingOrder {
  orderId: string;
  side: BookSide;
  priceTicks: number;
  /** Remaining lots. */
  lots: number;
  /** Arrival sequence (time priority). */
  seq: number;
}

export interface Fill {
  maker: RestingOrder;
  priceTicks: number;
  lots: number;
  /** Lots left on the maker after this fill. */
  makerRemaining: number;
}

interface Level {
  priceTicks: number;
  orders: RestingOrder[];
}

export class OrderBook {
  // bids: best (highest) first; asks: best (lowest) first.
  private readonly bids: Level[] = [];
  private readonly asks: Level[] = [];
  private readonly byId = new Map<string, RestingOrder>();
  private arrival = 0;

  constructor(
    readonly venue: string,
    readonly symbol: string,
  ) {}

  get size(): number {
    return this.byId.size;
  }

  has(orderId: string): boolean {
    return this.byId.has(orderId);
  }

  bestBid(): number | undefined {
    return this.bids[0]?.priceTicks;
  }

  bestAsk(): number | undefined {
    return this.asks[0]?.priceTicks;
  }

  /** Would an order at this limit (undefined = market) take liquidity? */
  crosses(side: BookSide, limitTicks: number | undefined): boolean {
    const best = side === "BUY" ? this.bestAsk() : this.bestBid();
    if (best === undefined) return false;
    if (limitTicks === undefined) return true;
    return side === "BUY" ? best <= limitTicks : best >= limitTicks;
  }

  /** Lots executable against the book up to the limit, and their cost in tick-lots (for funds checks). */
  executable(side: BookSide, limitTicks: number | undefined, maxLots: number): { lots: number; tickLots: number } {
    const levels = side === "BUY" ? this.asks : this.bids;
    let lots = 0;
    let tickLots = 0;
    for (const level of levels) {
      if (lots >= maxLots) break;
      if (limitTicks !== undefined && (side === "BUY" ? level.priceTicks > limitTicks : level.priceTicks < limitTicks))
        break;
      for (const o of level.orders) {
        const take = Math.min(o.lots, maxLots - lots);
        lots += take;
        tickLots += take * level.priceTicks;
        if (lots >= maxLots) break;
      }
    }
    return { lots, tickLots };
  }

  /** Match an incoming order against the opposite side; fills are at the maker's price, oldest first. */
  match(side: BookSide, limitTicks: number | undefined, lots: number): Fill[] {
    const levels = side === "BUY" ? this.asks : this.bids;
    const fills: Fill[] = [];
    let remaining = lots;
    while (remaining > 0 && levels.length > 0) {
      const level = levels[0]!;
      if (limitTicks !== undefined && (side === "BUY" ? level.priceTicks > limitTicks : level.priceTicks < limitTicks))
        break;
      while (remaining > 0 && level.orders.length > 0) {
        const maker = level.orders[0]!;
        const take = Math.min(maker.lots, remaining);
        maker.lots -= take;
        remaining -= take;
        fills.push({ maker, priceTicks: level.priceTicks, lots: take, makerRemaining: maker.lots });
        if (maker.lots === 0) {
          level.orders.shift();
          this.byId.delete(maker.orderId);
        }
      }
      if (level.orders.length === 0) levels.shift();
    }
    return fills;
  }

  /** Rest an order at the back of its price level. */
  add(orderId: string, side: BookSide, priceTicks: number, lots: number): RestingOrder {
    if (this.byId.has(orderId)) throw new Error(`order ${orderId} already resting`);
    const order: RestingOrder = { orderId, side, priceTicks, lots, seq: ++this.arrival };
    const levels = side === "BUY" ? this.bids : this.asks;
    const better = side === "BUY" ? (a: number, b: number) => a > b : (a: number, b: number) => a < b;
    // Binary search for the level position.
    let lo = 0;
    let hi = levels.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (better(levels[mid]!.priceTicks, priceTicks)) lo = mid + 1;
      else hi = mid;
    }
    const existing = levels[lo];
    if (existing && existing.priceTicks === priceTicks) existing.orders.push(order);
    else levels.splice(lo, 0, { priceTicks, orders: [order] });
    this.byId.set(orderId, order);
    return order;
  }

  /** Remove a resting order; returns it, or undefined when not resting. */
  remove(orderId: string): RestingOrder | undefined {
    const order = this.byId.get(orderId);
    if (!order) return undefined;
    const levels = order.side === "BUY" ? this.bids : this.asks;
    const idx = levels.findIndex((l) => l.priceTicks === order.priceTicks);
    const level = levels[idx];
    if (level) {
      level.orders = level.orders.filter((o) => o.orderId !== orderId);
      if (level.orders.length === 0) levels.splice(idx, 1);
    }
    this.byId.delete(orderId);
    return order;
  }

  /** Aggregated depth: best first. */
  depth(side: BookSide, maxLevels: number): Array<{ priceTicks: number; lots: number; orders: number }> {
    const levels = side === "BUY" ? this.bids : this.asks;
    return levels.slice(0, maxLevels).map((l) => ({
      priceTicks: l.priceTicks,
      lots: l.orders.reduce((s, o) => s + o.lots, 0),
      orders: l.orders.length,
    }));
  }

  /** Orders at one price level in time priority (tests, diagnostics). */
  ordersAt(side: BookSide, priceTicks: number): readonly RestingOrder[] {
    const levels = side === "BUY" ? this.bids : this.asks;
    return levels.find((l) => l.priceTicks === priceTicks)?.orders ?? [];
  }
}
