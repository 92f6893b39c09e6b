// A plain in-memory StrategyContext for strategy unit tests.
import { Decimal, ZERO } from "../../../lib/domain/decimal";
import { DEFAULT_INSTRUMENTS, DEFAULT_VENUES } from "../../../lib/domain/instruments";
import type { OpenOrderView, StrategyContext } from "../../../lib/domain/strategies/Strategy";
import type { Instrument, L1Quote, Side, Venue } from "../../../lib/domain/types";

export class TestContext implements StrategyContext {
  now = 0;
  readonly positions = new Map<string, Decimal>();
  orders: OpenOrderView[] = [];
  readonly latest = new Map<string, L1Quote>();
  headroomBySide = new Map<string, Decimal>();
  constructor(
    readonly instrumentList: readonly Instrument[] = DEFAULT_INSTRUMENTS,
    readonly venueList: readonly Venue[] = DEFAULT_VENUES,
  ) {}
  position(symbol: string): Decimal {
    return this.positions.get(symbol) ?? ZERO;
  }
  openOrders(): readonly OpenOrderView[] {
    return this.orders;
  }
  quote(venue: string, symbol: string): L1Quote | undefined {
    return this.latest.get(`${venue}|${symbol}`);
  }
  quotes(): Iterable<L1Quote> {
    return this.latest.values();
  }
  instrument(symbol: string): Instrument | undefined {
    return this.instrumentList.find((i) => i.symbol === symbol);
  }
  venue(id: string): Venue | undefined {
    return this.venueList.find((v) => v.id === id);
  }
  venues(): readonly Venue[] {
    return this.venueList;
  }
  headroom(symbol: string, side: Side): Decimal | undefined {
    return this.headroomBySide.get(`${symbol}|${side}`);
  }
  /** Record a quote as the latest and return it. */
  see(q: L1Quote): L1Quote {
    this.now = q.ts;
    this.latest.set(`${q.venue}|${q.symbol}`, q);
    return q;
  }
}

export function quote(
  venue: string,
  symbol: string,
  bid: string | number,
  ask: string | number,
  ts = 0,
  size: string | number = 10,
): L1Quote {
  return {
    ts,
    venue,
    symbol,
    bid: new Decimal(bid),
    ask: new Decimal(ask),
    bidSize: new Decimal(size),
    askSize: new Decimal(size),
  };
}
