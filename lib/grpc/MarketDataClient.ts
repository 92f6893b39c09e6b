// Typed market-data client over both contracts on the "market-data" peer: upstream's marketdata.MarketDataService
// (double prices; GetPrice, StreamPrices, HealthCheck) and our tse.marketdata.QuoteService (venue L1 as exact
// decimals with a per venue+symbol sequence). Streams reconnect, detect sequence gaps, and count (and log) every
// update they cannot use. A server without QuoteService (UNIMPLEMENTED) is not retried in a loop: streamQuotes
// either falls back to upstream StreamPrices with synthesized L1 (priceOnlyFallback), or ends once with a clear error.
import { status } from "@grpc/grpc-js";
import Decimal from "decimal.js";
import type { Timestamp } from "../../gen/proto/google/protobuf/timestamp";
import {
  HealthStatus,
  MarketDataServiceService,
  type PriceUpdate,
  StreamPricesRequest,
} from "../../gen/proto/marketdata/marketdata";
import {
  type L1Quote,
  QuoteRequest,
  QuoteServiceService,
  StreamQuotesRequest,
} from "../../gen/proto/tse/marketdata/quotes";
import type { L1Quote as DomainL1Quote } from "../domain/types";
import type { CallOptions, ClientManager, ServiceSpec } from "./ClientManager";
import type { GrpcClientError } from "./errors";
import {
  defaultFailureDecision,
  type FailureDecision,
  type OpenedStream,
  ResumableStream,
  type ResumableStreamOptions,
} from "./ResumableStream";

export type { PriceUpdate } from "../../gen/proto/marketdata/marketdata";
export type { L1Quote } from "../../gen/proto/tse/marketdata/quotes";

/** Upstream's contract (the ecosystem's market-data service). */
export const MARKET_DATA_SPEC: ServiceSpec<typeof MarketDataServiceService> = {
  name: "market-data",
  definition: MarketDataServiceService,
  defaultDeadlineMs: 1_000,
  methods: {
    getPrice: { idempotent: true },
    healthCheck: { idempotent: true },
    generateSimulation: { idempotent: true, deadlineMs: 10_000 },
  },
};

/** Our additions, on the same peer (same channel, breaker and discovery entry). */
export const QUOTE_SERVICE_SPEC: ServiceSpec<typeof QuoteServiceService> = {
  name: "market-data",
  definition: QuoteServiceService,
  defaultDeadlineMs: 1_000,
  methods: {
    getQuote: { idempotent: true },
    getPriceTick: { idempotent: true },
    generatePath: { idempotent: true, deadlineMs: 10_000 },
    setScenario: { idempotent: true },
  },
};

/**
 * A double from upstream as an exact decimal string: the shortest decimal that reads back as the same double
 * (ECMAScript Number#toString is shortest-round-trip), written without an exponent. NaN/±Infinity → undefined.
 */
export function decimalFromDouble(x: number): string | undefined {
  if (!Number.isFinite(x)) return undefined;
  return new Decimal(String(x)).toFixed();
}

export function msFromTimestamp(t: Timestamp | undefined): number | undefined {
  return t ? t.seconds * 1000 + Math.floor(t.nanos / 1e6) : undefined;
}

export interface SequenceGap {
  venue: string;
  symbol: string;
  expected: number;
  received: number;
  missed: number;
}

export interface MalformedUpdate {
  method: string;
  reason: string;
  symbol: string;
  venue: string;
}

/** L1 synthesized from a price-only feed (upstream StreamPrices): bid/ask = price ∓ halfSpreadBps. */
export interface SyntheticL1Options {
  halfSpreadBps: number;
  /** Size on both sides (base units). Default "1". */
  size?: string;
  /** Round bid down / ask up to this tick per symbol (default: no rounding). */
  tickSizes?: Readonly<Record<string, string>>;
}

export interface MarketStreamOptions extends ResumableStreamOptions {
  symbols: string[];
  venues?: string[];
  /** Server push interval, ms (down to 1 on QuoteService; upstream StreamPrices floors it at 100). */
  updateIntervalMs?: number;
  /** Called for every detected gap (the update is still delivered: it is the newest state). */
  onGap?: (gap: SequenceGap) => void;
  /** Called for every update that cannot be used; it is counted in stats.malformed and not delivered. */
  onMalformed?: (m: MalformedUpdate) => void;
  /** streamQuotes only: on UNIMPLEMENTED, synthesize L1 from upstream StreamPrices instead of failing. */
  priceOnlyFallback?: SyntheticL1Options;
}

const MALFORMED_LOG_EVERY_MS = 10_000;

/** A market stream with per venue+symbol sequence tracking and malformed-update accounting. */
export class SequencedStream<T extends { venue: string; symbol: string; sequence: number }> extends ResumableStream<T> {
  readonly lastSequence = new Map<string, number>();
  gaps = 0;
  missed = 0;
  /** True once the stream serves L1 synthesized from a price-only feed. */
  synthetic = false;

  /** Switches the RPC name used in errors and logs. */
  switchMethod(method: string): void {
    this.setMethod(method);
  }
}

/** Why an update cannot be used, or undefined if it can. */
export function l1Problem(q: L1Quote): string | undefined {
  if (!q.symbol || !q.venue) return "no venue or symbol";
  if (!(q.sequence > 0)) return "no sequence";
  if (!(Number(q.bid) > 0) || !(Number(q.ask) > 0)) return "no price";
  return undefined;
}

export function priceProblem(u: PriceUpdate): string | undefined {
  if (!u.symbol) return "no symbol";
  if (!(Number.isFinite(u.price) && u.price > 0)) return "no price";
  return undefined;
}

/** Items a price-only wrapper found unusable, with the reason (classified by accept, counted once). */
const UNUSABLE = new WeakMap<object, string>();

function sequenced<T extends { venue: string; symbol: string; sequence: number }>(
  method: string,
  open: (s: SequencedStream<T>) => Promise<OpenedStream<T>>,
  problem: (item: T) => string | undefined,
  opts: MarketStreamOptions,
  decide?: (s: SequencedStream<T>, err: GrpcClientError) => FailureDecision,
): SequencedStream<T> {
  let loggedAt = Number.NEGATIVE_INFINITY;
  let sinceLog = 0;
  const s: SequencedStream<T> = new SequencedStream<T>(
    MARKET_DATA_SPEC.name,
    method,
    () => open(s),
    (u) => {
      const why = UNUSABLE.get(u) ?? problem(u);
      if (why !== undefined) {
        const m = { method: s.method, reason: why, symbol: u.symbol, venue: u.venue };
        opts.onMalformed?.(m);
        sinceLog++;
        const now = Date.now();
        if (now - loggedAt >= MALFORMED_LOG_EVERY_MS) {
          opts.logger?.warn("market-data update unusable; counted as malformed", {
            ...m,
            sinceLastLog: sinceLog,
            totalMalformed: s.stats.malformed + 1,
          });
          loggedAt = now;
          sinceLog = 0;
        }
        return "malformed";
      }
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
    decide ? (err) => decide(s, err) : undefined,
  );
  return s;
}

/**
 * Upstream PriceUpdates → one L1 per venue around the price (exact decimal of the double), with a local
 * sequence per venue+symbol (upstream sends none). Unusable updates pass through as marked items.
 */
function synthesize(
  source: OpenedStream<PriceUpdate>,
  venues: readonly string[],
  cfg: SyntheticL1Options,
): OpenedStream<L1Quote> {
  const seq = new Map<string, number>();
  const h = new Decimal(cfg.halfSpreadBps).div(10_000);
  const size = cfg.size ?? "1";
  return {
    cancel: () => source.cancel(),
    async *[Symbol.asyncIterator]() {
      for await (const u of source) {
        const why = priceProblem(u);
        const price = why === undefined ? decimalFromDouble(u.price) : undefined;
        const ts = msFromTimestamp(u.timestamp) ?? Date.now();
        if (price === undefined) {
          const marker: L1Quote = {
            venue: venues[0] ?? "",
            symbol: u.symbol,
            bid: "",
            ask: "",
            bidSize: "",
            askSize: "",
            sequence: 0,
            timestamp: ts,
            lastPrice: "",
          };
          UNUSABLE.set(marker, why ?? "no price");
          yield marker;
          continue;
        }
        const p = new Decimal(price);
        const tick = cfg.tickSizes?.[u.symbol];
        let bid = p.times(Decimal.sub(1, h));
        let ask = p.times(h.plus(1));
        if (tick) {
          bid = bid.toNearest(tick, Decimal.ROUND_DOWN);
          ask = ask.toNearest(tick, Decimal.ROUND_UP);
          if (ask.lte(bid)) ask = bid.plus(tick);
        }
        for (const venue of venues) {
          const key = `${venue}|${u.symbol}`;
          const n = (seq.get(key) ?? 0) + 1;
          seq.set(key, n);
          yield {
            venue,
            symbol: u.symbol,
            bid: bid.toFixed(),
            ask: ask.toFixed(),
            bidSize: size,
            askSize: size,
            sequence: n,
            timestamp: ts,
            lastPrice: price,
          };
        }
      }
    },
  };
}

/** Generated L1Quote → domain L1Quote (Decimal prices/sizes). */
/** The latest L1 per venue+symbol of every quote the followed MarketDataClient's streams deliver, with listeners. */
export class QuoteMirror {
  private readonly latest = new Map<string, L1Quote>();
  private readonly listeners = new Set<(quotes: L1Quote[]) => void>();

  /** Mirror this client's quote streams from now on; returns the detach function. */
  follow(client: MarketDataClient): () => void {
    return client.onQuote((q) => {
      this.latest.set(`${q.venue}|${q.symbol}`, q);
      for (const l of this.listeners) l([q]);
    });
  }

  quote(venue: string, symbol: string): L1Quote | undefined {
    return this.latest.get(`${venue}|${symbol}`);
  }

  quotes(): L1Quote[] {
    return [...this.latest.values()];
  }

  onQuotes(listener: (quotes: L1Quote[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

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

export interface MarketPrice {
  symbol: string;
  /** Exact decimal of upstream's double (see decimalFromDouble). */
  price: string;
  timestampMs: number | undefined;
  source: string;
}

export interface MarketDataHealth {
  status: keyof typeof HealthStatus;
  message: string;
  timestampMs: number | undefined;
  details: Record<string, string>;
  /** From details.symbols / details.venues (comma-separated) when the server lists them; else empty. */
  symbols: string[];
  venues: string[];
}

const list = (s: string | undefined) => (s ? s.split(",").filter((x) => x !== "") : []);

export interface MarketDataClientOptions {
  /** Default of every streamQuotes call that does not set its own (e.g. a session on a price-only feed). */
  priceOnlyFallback?: SyntheticL1Options;
}

export class MarketDataClient {
  private readonly quoteListeners = new Set<(q: L1Quote) => void>();
  private readonly opened: SequencedStream<L1Quote>[] = [];

  constructor(
    private readonly manager: ClientManager,
    private readonly defaults: MarketDataClientOptions = {},
  ) {}

  /** Upstream GetPrice; the double is returned as its exact shortest decimal. */
  async getPrice(symbol: string, opts?: CallOptions): Promise<MarketPrice> {
    const res = await this.manager.unary(MARKET_DATA_SPEC, "getPrice", { symbol }, opts);
    return {
      symbol: res.symbol,
      price: decimalFromDouble(res.price) ?? "",
      timestampMs: msFromTimestamp(res.timestamp),
      source: res.source,
    };
  }

  /** Upstream HealthCheck: the status enum and the details map. */
  async healthCheck(service = "", opts?: CallOptions): Promise<MarketDataHealth> {
    const res = await this.manager.unary(MARKET_DATA_SPEC, "healthCheck", { service }, opts);
    return {
      status: (HealthStatus[res.status] ?? "UNKNOWN") as keyof typeof HealthStatus,
      message: res.message,
      timestampMs: msFromTimestamp(res.timestamp),
      details: res.details,
      symbols: list(res.details.symbols),
      venues: list(res.details.venues),
    };
  }

  getQuote(symbol: string, venue: string, opts?: CallOptions): Promise<L1Quote> {
    return this.manager.unary(QUOTE_SERVICE_SPEC, "getQuote", QuoteRequest.fromPartial({ symbol, venue }), opts);
  }

  /** Every quote any streamQuotes of this client delivers (e.g. to mirror the engine's feed elsewhere). */
  onQuote(listener: (q: L1Quote) => void): () => void {
    this.quoteListeners.add(listener);
    return () => this.quoteListeners.delete(listener);
  }

  /** The quote streams this client opened (their stats, and whether they are synthetic). */
  quoteStreams(): readonly SequencedStream<L1Quote>[] {
    return this.opened;
  }

  /**
   * L1 per venue (QuoteService.StreamQuotes); reconnects; drops stale updates; reports gaps; counts malformed.
   * Without QuoteService on the server: priceOnlyFallback synthesizes L1 from upstream StreamPrices, else the
   * stream ends once with the UNIMPLEMENTED error.
   */
  streamQuotes(opts: MarketStreamOptions): SequencedStream<L1Quote> {
    const req = StreamQuotesRequest.fromPartial({
      symbols: opts.symbols,
      venues: opts.venues ?? [],
      updateIntervalMs: opts.updateIntervalMs ?? 100,
    });
    const fallback = opts.priceOnlyFallback ?? this.defaults.priceOnlyFallback;
    const venues = fallback && opts.venues && opts.venues.length > 0 ? opts.venues : ["composite"];
    const listeners = this.quoteListeners;
    const open = async (s: SequencedStream<L1Quote>): Promise<OpenedStream<L1Quote>> => {
      const inner: OpenedStream<L1Quote> = s.synthetic
        ? synthesize(await this.priceStream(opts), venues, fallback!)
        : ((await this.manager.serverStream(QUOTE_SERVICE_SPEC, "streamQuotes", req)) as OpenedStream<L1Quote>);
      if (listeners.size === 0) return inner;
      return {
        cancel: () => inner.cancel(),
        async *[Symbol.asyncIterator]() {
          for await (const q of inner) {
            if (!UNUSABLE.has(q) && l1Problem(q) === undefined) for (const l of listeners) l(q);
            yield q;
          }
        },
      };
    };
    const s = sequenced<L1Quote>("StreamQuotes", open, l1Problem, opts, (stream, err) => {
      if (err.code === status.UNIMPLEMENTED && !stream.synthetic && fallback) {
        stream.synthetic = true;
        stream.switchMethod("StreamPrices");
        opts.logger?.warn("market-data server has no tse.marketdata.QuoteService; L1 synthesized from StreamPrices", {
          halfSpreadBps: fallback.halfSpreadBps,
          venues,
        });
        return "reconnect";
      }
      if (err.code === status.UNIMPLEMENTED && !stream.synthetic) {
        err.message = `${err.message} (the server does not offer tse.marketdata.QuoteService; set a price-only fallback half-spread to synthesize L1 from marketdata.MarketDataService/StreamPrices)`;
      }
      return defaultFailureDecision(err);
    });
    this.opened.push(s);
    return s;
  }

  /** Upstream StreamPrices as it comes (doubles, no sequence); unusable updates are counted as malformed. */
  streamPrices(
    opts: Omit<MarketStreamOptions, "venues" | "onGap" | "priceOnlyFallback">,
  ): ResumableStream<PriceUpdate> {
    let loggedAt = Number.NEGATIVE_INFINITY;
    const s: ResumableStream<PriceUpdate> = new ResumableStream<PriceUpdate>(
      MARKET_DATA_SPEC.name,
      "StreamPrices",
      () => this.priceStream(opts),
      (u) => {
        const why = priceProblem(u);
        if (why === undefined) return true;
        opts.onMalformed?.({ method: "StreamPrices", reason: why, symbol: u.symbol, venue: "" });
        if (Date.now() - loggedAt >= MALFORMED_LOG_EVERY_MS) {
          loggedAt = Date.now();
          opts.logger?.warn("market-data update unusable; counted as malformed", {
            reason: why,
            symbol: u.symbol,
            totalMalformed: s.stats.malformed + 1,
          });
        }
        return "malformed";
      },
      opts,
    );
    return s;
  }

  private async priceStream(opts: {
    symbols: string[];
    updateIntervalMs?: number;
  }): Promise<OpenedStream<PriceUpdate>> {
    const req = StreamPricesRequest.fromPartial({
      symbols: opts.symbols,
      updateIntervalMs: opts.updateIntervalMs ?? 100,
    });
    return (await this.manager.serverStream(MARKET_DATA_SPEC, "streamPrices", req)) as OpenedStream<PriceUpdate>;
  }
}
