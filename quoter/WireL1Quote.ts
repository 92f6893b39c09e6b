// Domain view of a market-data quote: the numbers are parsed once; the Decimals are built only if a strategy
// reads them (the market-making strategies read the numeric mirror `n`), keeping the tick path free of decimal
// parsing.
import { Decimal, ZERO } from "../lib/domain/decimal";
import type { FastL1Quote } from "../lib/domain/strategies/quoteMath";
import type { MarketQuote } from "../lib/ports/MarketData";

export class WireL1Quote implements FastL1Quote {
  readonly ts: number;
  readonly venue: string;
  readonly symbol: string;
  readonly n: { bid: number; ask: number; bidSize: number; askSize: number };
  private d: { bid?: Decimal; ask?: Decimal; bidSize?: Decimal; askSize?: Decimal } = {};
  constructor(
    private readonly w: MarketQuote,
    bid: number,
    ask: number,
  ) {
    this.ts = w.timestamp;
    this.venue = w.venue;
    this.symbol = w.symbol;
    this.n = { bid, ask, bidSize: +w.bidSize || 0, askSize: +w.askSize || 0 };
  }
  get bid(): Decimal {
    this.d.bid ??= new Decimal(this.w.bid);
    return this.d.bid;
  }
  get ask(): Decimal {
    this.d.ask ??= new Decimal(this.w.ask);
    return this.d.ask;
  }
  get bidSize(): Decimal {
    this.d.bidSize ??= this.w.bidSize ? new Decimal(this.w.bidSize) : ZERO;
    return this.d.bidSize;
  }
  get askSize(): Decimal {
    this.d.askSize ??= this.w.askSize ? new Decimal(this.w.askSize) : ZERO;
    return this.d.askSize;
  }
}
