// Typed exchange client. Thin: domain words/decimals in, generated messages (exact decimal strings) out.
import Decimal from "decimal.js";
import {
  CancelOrderRequest,
  type CancelOrderResponse,
  ExchangeServiceService,
  type Execution,
  type GetBalancesResponse,
  GetOrderBookRequest,
  GetOrderRequest,
  type ListInstrumentsResponse,
  ListOpenOrdersRequest,
  type Order,
  type OrderBookSnapshot,
  OrderType,
  PlaceOrderRequest,
  type PlaceOrderResponse,
  Side,
  TimeInForce,
} from "../../gen/proto/tse/exchange/exchange";
import type {
  OrderType as DomainOrderType,
  Side as DomainSide,
  TimeInForce as DomainTif,
  OrderIntent,
} from "../domain/types";
import type { CallOptions, ClientManager, ServiceSpec } from "./ClientManager";
import { InvalidArgumentError } from "./errors";
import { ResumableStream, type ResumableStreamOptions } from "./ResumableStream";

export type { Execution, Order, PlaceOrderResponse } from "../../gen/proto/tse/exchange/exchange";

export const EXCHANGE_SPEC: ServiceSpec<typeof ExchangeServiceService> = {
  name: "exchange",
  definition: ExchangeServiceService,
  defaultDeadlineMs: 2_000,
  methods: {
    // Idempotent BECAUSE the client order id is the exchange's dedup key.
    placeOrder: { idempotent: true, deadlineMs: 2_000 },
    cancelOrder: { idempotent: true, deadlineMs: 2_000 },
    getOrder: { idempotent: true, deadlineMs: 1_000 },
    listOpenOrders: { idempotent: true, deadlineMs: 2_000 },
    getBalances: { idempotent: true, deadlineMs: 1_000 },
    getOrderBook: { idempotent: true, deadlineMs: 1_000 },
    listInstruments: { idempotent: true, deadlineMs: 2_000 },
  },
};

export type { PlaceOrderArgs } from "../ports/Exchange";

import type { PlaceOrderArgs } from "../ports/Exchange";

const SIDE: Record<DomainSide, Side> = { BUY: Side.BUY, SELL: Side.SELL };
const TYPE: Record<DomainOrderType, OrderType> = { MARKET: OrderType.MARKET, LIMIT: OrderType.LIMIT };
const TIF: Record<DomainTif, TimeInForce> = { GTC: TimeInForce.GTC, IOC: TimeInForce.IOC, FOK: TimeInForce.FOK };

export const toDomainSide = (s: Side): DomainSide | undefined =>
  s === Side.BUY ? "BUY" : s === Side.SELL ? "SELL" : undefined;

const dec = (v: Decimal | string | undefined): string =>
  v === undefined ? "" : Decimal.isDecimal(v) ? v.toFixed() : v;

export interface ExecutionStreamOptions extends ResumableStreamOptions {
  /** First sequence to deliver (inclusive). Default 1 = whole replayable log. */
  fromSequence?: number;
  /** Skip the replay and deliver only new executions (only for the first connect; reconnects always resume). */
  liveOnly?: boolean;
  accountId?: string;
  strategyId?: string;
}

/** Executions in sequence order, each exactly once across reconnects. `lastSequence` is the resume point. */
export class ExecutionStream extends ResumableStream<Execution> {
  lastSequence = 0;
}

export class ExchangeClient {
  private readonly spec: ServiceSpec<typeof ExchangeServiceService>;
  constructor(
    private readonly manager: ClientManager,
    opts: { serviceName?: string } = {},
  ) {
    this.spec = opts.serviceName ? { ...EXCHANGE_SPEC, name: opts.serviceName } : EXCHANGE_SPEC;
  }

  // Not async (one promise and one await fewer per order); a bad argument still rejects, never throws.
  placeOrder(args: PlaceOrderArgs, opts?: CallOptions): Promise<PlaceOrderResponse> {
    let req: PlaceOrderRequest;
    try {
      if (!args.clientOrderId || args.clientOrderId.trim() === "") {
        throw new InvalidArgumentError(
          `exchange.PlaceOrder: clientOrderId is required (got ${JSON.stringify(args.clientOrderId)})`,
          this.spec.name,
          "PlaceOrder",
          undefined,
          "clientOrderId",
        );
      }
      req = PlaceOrderRequest.fromPartial({
        clientOrderId: args.clientOrderId,
        venue: args.venue,
        symbol: args.symbol,
        side: SIDE[args.side],
        type: TYPE[args.type],
        timeInForce: args.timeInForce ? TIF[args.timeInForce] : TimeInForce.GTC,
        postOnly: args.postOnly ?? false,
        quantity: dec(args.quantity),
        price: dec(args.price),
        strategyId: args.strategyId ?? "",
        accountId: args.accountId ?? "",
        riskChecked: args.riskChecked ?? false,
        riskCheckId: args.riskCheckId ?? "",
      });
    } catch (e) {
      return Promise.reject(e);
    }
    return this.manager.unary(this.spec, "placeOrder", req, opts);
  }

  /** Maps a domain OrderIntent (place, not cancel) to PlaceOrder. */
  placeIntent(
    intent: OrderIntent,
    clientOrderId: string,
    extra: Pick<PlaceOrderArgs, "accountId" | "riskChecked" | "riskCheckId"> = {},
    opts?: CallOptions,
  ): Promise<PlaceOrderResponse> {
    return this.placeOrder(
      {
        clientOrderId,
        venue: intent.venue,
        symbol: intent.symbol,
        side: intent.side,
        type: intent.type,
        quantity: intent.quantity,
        price: intent.limitPrice,
        timeInForce: intent.timeInForce,
        postOnly: intent.postOnly,
        strategyId: intent.strategyId,
        ...extra,
      },
      opts,
    );
  }

  cancelOrder(
    ref: { orderId?: string; clientOrderId?: string; accountId?: string },
    opts?: CallOptions,
  ): Promise<CancelOrderResponse> {
    return this.manager.unary(this.spec, "cancelOrder", CancelOrderRequest.fromPartial(ref), opts);
  }

  async getOrder(
    ref: { orderId?: string; clientOrderId?: string; accountId?: string },
    opts?: CallOptions,
  ): Promise<Order | undefined> {
    const res = await this.manager.unary(this.spec, "getOrder", GetOrderRequest.fromPartial(ref), opts);
    return res.order;
  }

  async listOpenOrders(
    filter: { accountId?: string; venue?: string; symbol?: string; strategyId?: string } = {},
    opts?: CallOptions,
  ): Promise<Order[]> {
    const res = await this.manager.unary(this.spec, "listOpenOrders", ListOpenOrdersRequest.fromPartial(filter), opts);
    return res.orders;
  }

  getBalances(filter: { accountId?: string; venue?: string } = {}, opts?: CallOptions): Promise<GetBalancesResponse> {
    return this.manager.unary(
      this.spec,
      "getBalances",
      { accountId: filter.accountId ?? "", venue: filter.venue ?? "" },
      opts,
    );
  }

  getOrderBook(venue: string, symbol: string, depth = 10, opts?: CallOptions): Promise<OrderBookSnapshot> {
    return this.manager.unary(
      this.spec,
      "getOrderBook",
      GetOrderBookRequest.fromPartial({ venue, symbol, depth }),
      opts,
    );
  }

  listInstruments(opts?: CallOptions): Promise<ListInstrumentsResponse> {
    return this.manager.unary(this.spec, "listInstruments", {}, opts);
  }

  /**
   * Executions from `fromSequence`, reconnecting after failures and resuming from the sequence after the last
   * delivered one, dropping any replayed duplicates: every execution exactly once, in sequence order.
   */
  streamExecutions(opts: ExecutionStreamOptions = {}): ExecutionStream {
    const from = opts.fromSequence ?? 1;
    if (!Number.isInteger(from) || from < 0) {
      throw new InvalidArgumentError(
        `exchange.StreamExecutions: fromSequence must be a non-negative integer (got ${String(from)})`,
        this.spec.name,
        "StreamExecutions",
        undefined,
        "fromSequence",
      );
    }
    let first = true;
    const stream: ExecutionStream = new ExecutionStream(
      this.spec.name,
      "StreamExecutions",
      () => {
        // Resume strictly after what was delivered; the first connect honours fromSequence/liveOnly.
        const resumeFrom = stream.lastSequence > 0 ? stream.lastSequence + 1 : from;
        const liveOnly = first && (opts.liveOnly ?? false);
        first = false;
        return this.manager.serverStream(this.spec, "streamExecutions", {
          fromSequence: resumeFrom,
          liveOnly,
          accountId: opts.accountId ?? "",
          strategyId: opts.strategyId ?? "",
        });
      },
      (ex) => {
        if (ex.sequence <= stream.lastSequence) return false; // replay overlap
        stream.lastSequence = ex.sequence;
        return true;
      },
      { logger: undefined, ...opts },
    );
    return stream;
  }
}
