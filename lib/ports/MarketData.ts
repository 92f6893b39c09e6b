// The market-data port: L1 quotes with exact decimal strings and a per venue+symbol sequence. The gRPC
// adapter passes the generated messages through (they have these fields), so the tick path allocates nothing
// for the port; the quoter parses the numbers once per tick.

/** One top-of-book quote. Prices and sizes are exact decimal strings ("" for an unknown size). */
export interface MarketQuote {
  venue: string;
  symbol: string;
  bid: string;
  ask: string;
  bidSize: string;
  askSize: string;
  sequence: number;
  /** Epoch ms at the source. */
  timestamp: number;
}

export interface QuoteGap {
  venue: string;
  symbol: string;
  expected: number;
  received: number;
  missed: number;
}

export interface QuoteFeedOptions {
  symbols: string[];
  venues?: string[];
  /** Push interval requested from the source, ms. */
  updateIntervalMs?: number;
  initialDelayMs?: number;
  maxDelayMs?: number;
  onGap?: (gap: QuoteGap) => void;
  onDisconnect?: (err: Error | undefined) => void;
}

/** Quotes, newest state per venue+symbol, stale and duplicate sequences dropped. */
export interface QuoteFeed extends AsyncIterable<MarketQuote> {
  close(): void;
  /** Forget the sequence baselines (a restarted source numbers its quotes again). */
  resetSequences(): void;
  /**
   * Optional push form of the same feed: each quote to `onQuote` as it arrives, no promise per quote. Resolves
   * when the feed is closed; rejects as the iterator would throw (or with what `onQuote` threw).
   */
  run?(onQuote: (q: MarketQuote) => void): Promise<void>;
}

export interface MarketDataPort {
  streamQuotes(opts: QuoteFeedOptions): QuoteFeed;
}
