// gRPC exchange simulator: tse.exchange.ExchangeService (+ ExchangeAdminService for chaos and test controls)
// over ExchangeEngine, with background liquidity fed by a MarketSimulation's L1 quotes.

import { type ClientReadableStream, credentials, type ServerWritableStream, status } from "@grpc/grpc-js";
import {
  type CancelOrderRequest,
  type CancelOrderResponse,
  type ChaosSettings,
  type ExchangeAdminServiceServer,
  ExchangeAdminServiceService,
  type ExchangeCounters,
  type ExchangeServiceServer,
  ExchangeServiceService,
  type Execution,
  type GetBalancesRequest,
  type GetBalancesResponse,
  type GetOrderBookRequest,
  type GetOrderRequest,
  type GetOrderResponse,
  type GetPositionsRequest,
  type GetPositionsResponse,
  type ListInstrumentsResponse,
  type ListOpenOrdersRequest,
  type ListOpenOrdersResponse,
  type OrderBookSnapshot,
  type PlaceOrderRequest,
  type PlaceOrderResponse,
  type SetBalanceRequest,
  type StreamExecutionsRequest,
} from "../../gen/proto/tse/exchange/exchange";
import { type L1Quote, QuoteServiceClient } from "../../gen/proto/tse/marketdata/quotes";
import { activeTraceparent, serverSpan } from "../../lib/telemetry/spans";
import { tracing } from "../../lib/telemetry/tracing";
import { invalidArgument, unavailable } from "../common/grpcErrors";
import { StreamRegistry, streaming, unary } from "../common/handlers";
import { closeRemote } from "../common/remoteStream";
import { SeededRandom } from "../common/rng";
import { type ServiceEntry, SimServer, type SimServerOptions } from "../common/SimServer";
import type { WireLatencyRecorder } from "../common/WireLatencyRecorder";
import { MarketSimulation } from "../market-data/MarketSimulation";
import { DEFAULT_ACCOUNT, ExchangeEngine, type ExchangeEngineOptions } from "./ExchangeEngine";

export const EXCHANGE_SERVICE_NAME = "tse.exchange.ExchangeService";
export const EXCHANGE_ADMIN_SERVICE_NAME = "tse.exchange.ExchangeAdminService";
export const DEFAULT_EXCHANGE_PORT = 50054;

export interface ExchangeChaos {
  latencyMs: number;
  rejectionRate: number;
  downUntilMs: number;
  spreadMultiplier: number;
}

/** What background liquidity follows: a MarketSimulation, or any mirror of L1 quotes (e.g. an external feed). */
export interface LiquidityFeed {
  quotes(): L1Quote[];
  onQuotes(listener: (quotes: L1Quote[]) => void): () => void;
}

export interface ExchangeSimulatorOptions extends SimServerOptions, ExchangeEngineOptions {
  /**
   * Source of background liquidity. A MarketSimulation (shared with a MarketDataSimulator, or the
   * exchange's own when omitted), or false for an empty book (deterministic matching tests).
   */
  liquidity?: LiquidityFeed | false;
  /**
   * Drive background liquidity from a remote market-data simulator's StreamQuotes (host:port) instead of
   * an in-process simulation. Reconnects every second while it is unreachable.
   */
  marketDataAddress?: string;
  /** Seed for the exchange's own market simulation and chaos rejections. */
  seed?: number;
  /** How often the exchange's own market simulation advances, ms (default 100). */
  liquidityTickMs?: number;
  /** Minimum market time between two background-liquidity refreshes of one book, ms (default 10). */
  minRefreshMs?: number;
  chaos?: Partial<ExchangeChaos>;
  /** Shared with an in-process MarketDataSimulator to measure tick-to-order latency (orders with trigger_sequence). */
  wire?: WireLatencyRecorder;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class ExchangeSimulator extends SimServer {
  readonly engine: ExchangeEngine;
  readonly liquidity: LiquidityFeed | undefined;
  private readonly ownsLiquidity: boolean;
  private readonly liquidityTickMs: number;
  private readonly rng: SeededRandom;
  private readonly streams = new StreamRegistry();
  private readonly execStreams = new Set<ServerWritableStream<StreamExecutionsRequest, Execution>>();
  private chaos: ExchangeChaos = { latencyMs: 0, rejectionRate: 0, downUntilMs: 0, spreadMultiplier: 1 };
  private ticker: NodeJS.Timeout | undefined;
  private unsubscribeFeed: (() => void) | undefined;
  private readonly marketDataAddress: string | undefined;
  private readonly minRefreshMs: number;
  readonly wire: WireLatencyRecorder | undefined;
  private readonly lastRefresh = new Map<string, number>();
  private remote:
    | { client: QuoteServiceClient; stream?: ClientReadableStream<L1Quote>; retry?: NodeJS.Timeout }
    | undefined;

  constructor(opts: ExchangeSimulatorOptions = {}) {
    super("exchange-sim", opts);
    this.marketDataAddress = opts.marketDataAddress;
    this.minRefreshMs = opts.minRefreshMs ?? 10;
    this.wire = opts.wire;
    this.engine = new ExchangeEngine(opts);
    this.rng = new SeededRandom(opts.seed ?? 7);
    this.liquidityTickMs = opts.liquidityTickMs ?? 100;
    if (opts.liquidity === false || opts.marketDataAddress) {
      this.liquidity = undefined;
      this.ownsLiquidity = false;
    } else if (opts.liquidity) {
      this.liquidity = opts.liquidity;
      this.ownsLiquidity = false;
    } else {
      this.liquidity = new MarketSimulation({ seed: opts.seed ?? 7, startTimeMs: Date.now() });
      this.ownsLiquidity = true;
    }
    if (opts.chaos && Object.values(opts.chaos).some((v) => v !== undefined)) this.setChaos(opts.chaos);
  }

  private applyQuote(q: L1Quote): void {
    if (!this.engine.venues.has(q.venue) || !this.engine.instruments.has(q.symbol)) return;
    // Re-quoting synthetic liquidity costs ~0.1 ms per book: at most once per minRefreshMs of market time.
    const key = `${q.venue}|${q.symbol}`;
    const last = this.lastRefresh.get(key);
    if (last !== undefined && q.timestamp - last < this.minRefreshMs && q.timestamp >= last) return;
    this.lastRefresh.set(key, q.timestamp);
    this.engine.refreshLiquidity(q.venue, q.symbol, q.bid, q.ask, q.bidSize, q.askSize);
  }

  private connectRemote(address: string): void {
    this.remote ??= { client: new QuoteServiceClient(address, credentials.createInsecure()) };
    const remote = this.remote;
    const stream = remote.client.streamQuotes({ symbols: [], venues: [], updateIntervalMs: this.liquidityTickMs });
    remote.stream = stream;
    stream.on("data", (q: L1Quote) => this.applyQuote(q));
    const again = () => {
      if (remote.retry) clearTimeout(remote.retry);
      if (this.server && this.remote === remote) {
        remote.retry = setTimeout(() => this.connectRemote(address), 1_000);
      }
    };
    stream.on("error", (err: Error & { code?: number }) => {
      if (!this.server) return;
      if (err.code === status.UNIMPLEMENTED) {
        // Retrying cannot help: the peer lacks tse.marketdata.QuoteService (e.g. an upstream-only server).
        this.log.error("market-data feed has no tse.marketdata.QuoteService; background liquidity stays off", {
          address,
          error: err.message,
        });
        remote.client.close();
        this.remote = undefined;
        return;
      }
      this.log.warn("market-data feed lost; retrying", { address, error: err.message });
      again();
    });
    stream.on("end", again);
  }

  protected override onStart(): void {
    if (this.marketDataAddress) {
      this.connectRemote(this.marketDataAddress);
      return;
    }
    const feed = this.liquidity;
    if (!feed) return;
    const apply = (quotes: L1Quote[]) => {
      for (const q of quotes) this.applyQuote(q);
    };
    apply(feed.quotes());
    this.unsubscribeFeed = feed.onQuotes(apply);
    const own = this.ownsLiquidity ? (feed as MarketSimulation) : undefined;
    if (own) this.ticker = setInterval(() => own.advanceTo(Date.now()), this.liquidityTickMs);
  }

  protected override onStop(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.unsubscribeFeed?.();
    this.remote = closeRemote(this.remote);
    this.streams.endAll();
  }

  getChaos(): ChaosSettings {
    return {
      latencyMs: this.chaos.latencyMs,
      rejectionRate: this.chaos.rejectionRate,
      downUntilMs: this.chaos.downUntilMs,
      downtimeMs: Math.max(0, this.chaos.downUntilMs - Date.now()),
      spreadMultiplier: this.chaos.spreadMultiplier,
    };
  }

  /** Runtime chaos knobs (also via ExchangeAdminService.SetChaos). */
  setChaos(c: Partial<ExchangeChaos> & { downtimeMs?: number }): ChaosSettings {
    const check = (field: string, v: number | undefined, ok: (n: number) => boolean, reason: string) => {
      if (v !== undefined && (!Number.isFinite(v) || !ok(v))) throw invalidArgument(field, v, reason);
    };
    check("latency_ms", c.latencyMs, (n) => n >= 0 && n <= 600_000, "must be 0..600000");
    check("rejection_rate", c.rejectionRate, (n) => n >= 0 && n <= 1, "must be between 0 and 1");
    check("spread_multiplier", c.spreadMultiplier, (n) => n >= 0 && n <= 1000, "must be 0..1000 (0 = 1)");
    check("downtime_ms", c.downtimeMs, (n) => n >= 0, "must be >= 0");
    if (c.latencyMs !== undefined) this.chaos.latencyMs = c.latencyMs;
    if (c.rejectionRate !== undefined) this.chaos.rejectionRate = c.rejectionRate;
    if (c.spreadMultiplier !== undefined) {
      this.chaos.spreadMultiplier = c.spreadMultiplier === 0 ? 1 : c.spreadMultiplier;
      this.engine.spreadMultiplier = this.chaos.spreadMultiplier;
    }
    if (c.downUntilMs !== undefined) this.chaos.downUntilMs = c.downUntilMs;
    if (c.downtimeMs !== undefined && c.downtimeMs > 0) this.chaos.downUntilMs = Date.now() + c.downtimeMs;
    if (this.chaos.downUntilMs > Date.now()) {
      // An outage drops live execution streams; clients reconnect and replay from their last sequence.
      for (const s of [...this.execStreams]) s.emit("error", unavailable("exchange simulator: chaos downtime"));
      this.execStreams.clear();
    }
    this.log.info("chaos set", { ...this.chaos });
    return this.getChaos();
  }

  /** Chaos gate for every ExchangeService call: downtime, then added latency. */
  private async gate(): Promise<void> {
    if (Date.now() < this.chaos.downUntilMs) throw unavailable("exchange simulator: chaos downtime");
    if (this.chaos.latencyMs > 0) await sleep(this.chaos.latencyMs);
    if (Date.now() < this.chaos.downUntilMs) throw unavailable("exchange simulator: chaos downtime");
  }

  private async place(req: PlaceOrderRequest, traceparent: string | undefined) {
    await this.gate();
    const chaosReject = this.chaos.rejectionRate > 0 && this.rng.next() < this.chaos.rejectionRate;
    const r = this.engine.placeOrder(req, { chaosReject, ...(traceparent ? { traceparent } : {}) });
    this.log.debug("order", {
      orderId: r.order.orderId,
      clientOrderId: r.order.clientOrderId,
      status: r.order.status,
      duplicate: r.duplicate,
    });
    return r;
  }

  private requireVenueSymbol(venue: string, symbol: string): void {
    if (!this.engine.venues.has(venue)) throw invalidArgument("venue", venue, "unknown venue");
    if (!this.engine.instruments.has(symbol)) throw invalidArgument("symbol", symbol, "unknown symbol");
  }

  protected services(): ServiceEntry[] {
    const engine = this.engine;
    return [
      {
        name: EXCHANGE_SERVICE_NAME,
        definition: ExchangeServiceService,
        impl: {
          placeOrder: unary<PlaceOrderRequest, PlaceOrderResponse>(async (req, call) => {
            if (this.wire && req.triggerSequence > 0) {
              this.wire.orderArrived(req.triggerVenue || req.venue, req.symbol, req.triggerSequence);
            }
            if (!tracing().enabled) return this.place(req, undefined);
            return serverSpan("tse-sim-exchange", EXCHANGE_SERVICE_NAME, "PlaceOrder", call.metadata, (span) => {
              span?.setAttribute("tse.order.client_order_id", req.clientOrderId);
              return this.place(req, activeTraceparent());
            });
          }),
          cancelOrder: unary<CancelOrderRequest, CancelOrderResponse>(async (req) => {
            await this.gate();
            return engine.cancelOrder(req.orderId, req.clientOrderId, req.accountId);
          }),
          getOrder: unary<GetOrderRequest, GetOrderResponse>(async (req) => {
            await this.gate();
            return { order: engine.getOrder(req.orderId, req.clientOrderId, req.accountId) };
          }),
          listOpenOrders: unary<ListOpenOrdersRequest, ListOpenOrdersResponse>(async (req) => {
            await this.gate();
            if (req.venue && !engine.venues.has(req.venue)) throw invalidArgument("venue", req.venue, "unknown venue");
            if (req.symbol && !engine.instruments.has(req.symbol)) {
              throw invalidArgument("symbol", req.symbol, "unknown symbol");
            }
            return { orders: engine.listOpenOrders(req) };
          }),
          getBalances: unary<GetBalancesRequest, GetBalancesResponse>(async (req) => {
            await this.gate();
            const accountId = req.accountId || DEFAULT_ACCOUNT;
            return { accountId, balances: engine.getBalances(accountId, req.venue) };
          }),
          streamExecutions: streaming<StreamExecutionsRequest, Execution>(async (call) => {
            await this.gate();
            const req = call.request;
            const matches = (e: Execution) =>
              (!req.accountId || e.accountId === req.accountId) && (!req.strategyId || e.strategyId === req.strategyId);
            // Replay then subscribe in the same tick: nothing can be missed or duplicated in between.
            if (!req.liveOnly) {
              for (const e of engine.executionsFrom(Math.max(1, req.fromSequence))) if (matches(e)) call.write(e);
            }
            const floor = req.liveOnly ? engine.lastSequence + 1 : Math.max(1, req.fromSequence);
            const unsubscribe = engine.onExecution((e) => {
              if (e.sequence >= floor && matches(e)) call.write(e);
            });
            this.execStreams.add(call);
            this.streams.add(call, () => {
              unsubscribe();
              this.execStreams.delete(call);
            });
          }),
          getPositions: unary<GetPositionsRequest, GetPositionsResponse>(async (req) => {
            await this.gate();
            return { positions: engine.getPositions(req) };
          }),
          getOrderBook: unary<GetOrderBookRequest, OrderBookSnapshot>(async (req) => {
            await this.gate();
            this.requireVenueSymbol(req.venue, req.symbol);
            const depth = req.depth === 0 ? 10 : req.depth;
            const inst = engine.instruments.get(req.symbol)!;
            const book = engine.book(req.venue, req.symbol);
            const level = (l: { priceTicks: number; lots: number; orders: number }) => ({
              price: inst.tick.mul(l.priceTicks).toFixed(),
              quantity: inst.lot.mul(l.lots).toFixed(),
              orders: l.orders,
            });
            return {
              venue: req.venue,
              symbol: req.symbol,
              bids: book.depth("BUY", depth).map(level),
              asks: book.depth("SELL", depth).map(level),
              timestampMs: Date.now(),
            };
          }),
          listInstruments: unary<object, ListInstrumentsResponse>(async () => {
            await this.gate();
            return {
              instruments: [...engine.instruments.values()].map((i) => ({
                symbol: i.spec.symbol,
                baseAsset: i.spec.baseAsset,
                quoteAsset: i.spec.quoteAsset,
                tickSize: i.spec.tickSize,
                lotSize: i.spec.lotSize,
                minNotional: i.spec.minNotional,
              })),
              venues: [...engine.venues.values()].map((v) => ({
                venue: v.id,
                makerFee: v.makerFee,
                takerFee: v.takerFee,
              })),
            };
          }),
        } satisfies ExchangeServiceServer,
      },
      {
        name: EXCHANGE_ADMIN_SERVICE_NAME,
        definition: ExchangeAdminServiceService,
        impl: {
          setChaos: unary<ChaosSettings, ChaosSettings>((req) =>
            this.setChaos({
              latencyMs: req.latencyMs,
              rejectionRate: req.rejectionRate,
              spreadMultiplier: req.spreadMultiplier,
              downUntilMs: req.downtimeMs > 0 ? undefined : req.downUntilMs,
              downtimeMs: req.downtimeMs,
            }),
          ),
          getChaos: unary<object, ChaosSettings>(() => this.getChaos()),
          getCounters: unary<object, ExchangeCounters>(() => {
            const c = engine.getCounters();
            if (!this.wire) return c;
            const w = this.wire.stats();
            return {
              ...c,
              wireLatencyCount: w.count,
              wireLatencyP50Us: w.p50Us,
              wireLatencyP99Us: w.p99Us,
              wireLatencyMaxUs: w.maxUs,
            };
          }),
          setBalance: unary<SetBalanceRequest, GetBalancesResponse>((req) => {
            const accountId = req.accountId || DEFAULT_ACCOUNT;
            engine.setBalance(accountId, req.venue, req.asset, req.total);
            return { accountId, balances: engine.getBalances(accountId, req.venue) };
          }),
        } satisfies ExchangeAdminServiceServer,
      },
    ];
  }
}
