// What the quoter knows of the market: instruments and venues of the shard (validated), the latest quote per
// venue and symbol, the mids, and the portfolio's marks (refreshed off the tick path).
import type { Decimal } from "../lib/domain/decimal";
import { InvalidFieldError } from "../lib/domain/errors";
import { DEFAULT_INSTRUMENTS, DEFAULT_VENUES } from "../lib/domain/instruments";
import { Portfolio } from "../lib/domain/portfolio/Portfolio";
import type { FastL1Quote } from "../lib/domain/strategies/quoteMath";
import type { Instrument, L1Quote, Venue } from "../lib/domain/types";
import type { QuoterMarketView } from "./strategies";
import type { QuoterOptions } from "./types";

export class QuoterMarket implements QuoterMarketView {
  readonly portfolio: Portfolio;
  readonly venueList: readonly Venue[];
  private readonly instruments = new Map<string, Instrument>();
  private readonly venues = new Map<string, Venue>();
  private readonly takerFees = new Map<string, number>();
  private readonly quotesByVenue = new Map<string, Map<string, FastL1Quote>>();
  private readonly arrivedByVenue = new Map<string, Map<string, number>>();
  private readonly lastMarkAt = new Map<string, number>();

  constructor(opts: Pick<QuoterOptions, "symbols" | "venues" | "instruments" | "venueInfo" | "initialCash">) {
    for (const i of opts.instruments ?? DEFAULT_INSTRUMENTS) this.instruments.set(i.symbol, i);
    for (const v of opts.venueInfo ?? DEFAULT_VENUES) this.venues.set(v.id, v);
    this.venueList = [...this.venues.values()];
    for (const v of this.venueList) this.takerFees.set(v.id, v.takerFee.toNumber());
    for (const s of opts.symbols)
      if (!this.instruments.has(s)) throw new InvalidFieldError("symbols", s, "unknown instrument");
    for (const v of opts.venues) if (!this.venues.has(v)) throw new InvalidFieldError("venues", v, "unknown venue");
    this.portfolio = new Portfolio({
      instruments: [...this.instruments.values()],
      initialCash: opts.initialCash ?? { USD: "1000000" },
    });
  }

  /** The latest quote of its venue and symbol, and when it arrived (the staleness bound). */
  store(q: FastL1Quote, now: number): void {
    let byVenue = this.quotesByVenue.get(q.venue);
    if (!byVenue) {
      byVenue = new Map();
      this.quotesByVenue.set(q.venue, byVenue);
    }
    byVenue.set(q.symbol, q);
    let times = this.arrivedByVenue.get(q.venue);
    if (!times) {
      times = new Map();
      this.arrivedByVenue.set(q.venue, times);
    }
    times.set(q.symbol, now);
  }

  /** When the book's latest quote arrived (undefined: none yet). */
  quoteArrivedAt(venue: string, symbol: string): number | undefined {
    return this.arrivedByVenue.get(venue)?.get(symbol);
  }

  takerFee(venue: string): number | undefined {
    return this.takerFees.get(venue);
  }

  /** The book's mid from its latest quote, else the symbol's mark. */
  readonly midOf = (venue: string, symbol: string): number => {
    const q = this.quotesByVenue.get(venue)?.get(symbol);
    if (q?.n) return (q.n.bid + q.n.ask) / 2;
    return this.portfolio.markNumber(symbol);
  };

  /** Portfolio marks from the latest mids (throttled per symbol to one per 200 ms unless forced). */
  refreshMarks(force: boolean, now: number): void {
    for (const byVenue of this.quotesByVenue.values()) {
      for (const [symbol, q] of byVenue) {
        if (!force && now - (this.lastMarkAt.get(symbol) ?? 0) < 200) continue;
        this.portfolio.setMark(symbol, (q.bid as Decimal).plus(q.ask).div(2));
        this.lastMarkAt.set(symbol, now);
      }
    }
  }

  latestQuote(venue: string, symbol: string): L1Quote | undefined {
    return this.quotesByVenue.get(venue)?.get(symbol);
  }
  *allQuotes(): Iterable<L1Quote> {
    for (const m of this.quotesByVenue.values()) yield* m.values();
  }
  instrumentOf(symbol: string): Instrument | undefined {
    return this.instruments.get(symbol);
  }
  venueOf(id: string): Venue | undefined {
    return this.venues.get(id);
  }
}
