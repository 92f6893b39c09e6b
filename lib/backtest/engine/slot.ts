// A strategy as the backtester hosts it: the strategy host's slot and the strategy's read-only context in one
// object (no allocation per callback). With latency it answers from what the strategy could have seen.
import { type Decimal, ZERO } from "../../domain/decimal";
import type { Portfolio } from "../../domain/portfolio";
import type { OpenOrderView, Strategy, StrategyContext } from "../../domain/strategies/Strategy";
import type { Instrument, L1Quote, Side, Venue } from "../../domain/types";
import type { StrategySlot } from "../../engine/StrategyHost";
import type { DelayQueue } from "./latency";
import type { Resting } from "./venue";

/** What a slot reads from the engine that runs it. */
export interface SlotHost {
  readonly delayed: DelayQueue | undefined;
  readonly portfolio: Portfolio;
  readonly instruments: ReadonlyMap<string, Instrument>;
  readonly venues: ReadonlyMap<string, Venue>;
  readonly venueList: readonly Venue[];
  seenQuote(venue: string, symbol: string): L1Quote | undefined;
  latestQuotes(): Iterable<L1Quote>;
  headroom(strategyId: string, symbol: string, side: Side): Decimal | undefined;
}

export class BacktestSlot implements StrategyContext, StrategySlot {
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
    private readonly engine: SlotHost,
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
