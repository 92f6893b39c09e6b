// Typed market-data client: unary price/quote, and L1/price streams that reconnect and detect sequence gaps
// (sequence is strictly increasing per venue+symbol; a gap means updates were missed, e.g. across a reconnect).
import Decimal from "decimal.js";
import {
  type HealthResponse,
  type L1Quote,
  MarketDataServiceService,
  type PriceUpdate,
  QuoteRequest,
  StreamQuotesRequest,
  StreamRequest,
} from "../../gen/proto/marketdata/market_data";
import type { L1Quote as DomainL1Quote } from "../domain/types";
import type { CallOptions, ClientManager, ServiceSpec } from "./ClientManager";
import { ResumableStream, type ResumableStreamOptions } from "./ResumableStream";

export type { L1Quote, PriceUpdate } from "../../gen/proto/marketdata/market_data";

export const MARKET_DATA_SPEC: ServiceSpec<typeof MarketDataServiceService> = {
  name: "market-data",
  definition: MarketDataServiceService,
  defaultDeadlineMs: 1_000,
  methods: {
    getPrice: { idempotent: true },
    getQuote: { idempotent: true },
    healthCheck: { idempotent: true },
    generateSimulation: { idempotent: true, deadlineMs: 10_000 },
    setScenario: { idempotent: true },
  },
};

export interface SequenceGap {
  venue: string;
  symbol: string;
  expected: number;
  received: number;
  missed: number;
}

export interface MarketStreamOptions extends ResumableStreamOptions {
  symbols: string[];
  venues?: string[];
  /** Server push interval, ms (down to 1). */
  updateIntervalMs?: number;
  /** Called for every detected gap (the update is still delivered: it is the newest state). */
  onGap?: (gap: SequenceGap) => void;
}

/** A market stream with per venue+symbol sequence tracking. */
export class SequencedStream<T extends { venue: string; symbol: string; sequence: number }> extends ResumableStream<T> {
  readonly lastSequence = new Map<string, number>();
  gaps = 0;
  missed = 0;
}

function sequenced<T extends { venue: string; symbol: string; sequence: number }>(
  method: string,
  open: () => ReturnType<ClientManager["serverStream"]>,
  opts: MarketStreamOptions,
): SequencedStream<T> {
  const s: SequencedStream<T> = new SequencedStream<T>(
    MARKET_DATA_SPEC.name,
    method,
    open as never,
    (u) => {
      const key = `${u.venue}|${u.symbol}`;
      const last = s.lastSequence.get(key);
      if (last !== undefined) {
        if (u.sequence <= last) return false; // stale or duplicate
        if (u.sequence > last + 1) {
          s.gaps++;
          s.missed += u.sequence - last - 1;
          opts.onGap?.({
            venue: u.venue,
            symbol: u.symbol,
            expected: last + 1,
            received: u.sequence,
            missed: u.sequence - last - 1,
          });
        }
      }
      s.lastSequence.set(key, u.sequence);
      return true;
    },
    opts,
  );
  return s;
}

/** Generated L1Quote → domain L1Quote (Decimal prices/sizes). */
export function toDomainQuote(q: L1Quote): DomainL1Quote {
  return {
    ts: q.timestamp,
    venue: q.venue,
    symbol: q.symbol,
    bid: new Decimal(q.bid || 0),
    ask: new Decimal(q.ask || 0),
    bidSize: new Decimal(q.bidSize || 0),
    askSize: new Decimal(q.askSize || 0),
  };
}

export class MarketDataClient {
  constructor(private readonly manager: ClientManager) {}

  async getPrice(symbol: string, venue = "", opts?: CallOptions): Promise<PriceUpdate | undefined> {
    const res = await this.manager.unary(MARKET_DATA_SPEC, "getPrice", { symbol, venue }, opts);
    return res.price;
  }

  /** The upstream HealthCheck RPC: status plus the symbols and venues served. */
  healthCheck(opts?: CallOptions): Promise<HealthResponse> {
    return this.manager.unary(MARKET_DATA_SPEC, "healthCheck", {}, opts);
  }

  getQuote(symbol: string, venue: string, opts?: CallOptions): Promise<L1Quote> {
    return this.manager.unary(MARKET_DATA_SPEC, "getQuote", QuoteRequest.fromPartial({ symbol, venue }), opts);
  }

  /** L1 per venue; reconnects; drops stale updates; reports gaps. */
  streamQuotes(opts: MarketStreamOptions): SequencedStream<L1Quote> {
    const req = StreamQuotesRequest.fromPartial({
      symbols: opts.symbols,
      venues: opts.venues ?? [],
      updateIntervalMs: opts.updateIntervalMs ?? 100,
    });
    return sequenced<L1Quote>(
      "StreamQuotes",
      () => this.manager.serverStream(MARKET_DATA_SPEC, "streamQuotes", req) as never,
      opts,
    );
  }

  /** Upstream-shaped price stream (PriceUpdate carries venue L1 and a per venue+symbol sequence). */
  streamPrices(opts: MarketStreamOptions): SequencedStream<PriceUpdate> {
    const req = StreamRequest.fromPartial({
      symbols: opts.symbols,
      venues: opts.venues ?? [],
      updateIntervalMs: opts.updateIntervalMs ?? 100,
    });
    return sequenced<PriceUpdate>(
      "StreamPrices",
      () => this.manager.serverStream(MARKET_DATA_SPEC, "streamPrices", req) as never,
      opts,
    );
  }
}
