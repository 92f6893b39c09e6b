// ExchangePort over the gRPC ExchangeClient: requests pass through (the client already takes domain words),
// answers and executions are mapped by the wire module.
import type { CancelOrderResponse } from "../../gen/proto/tse/exchange/exchange";
import type { ExchangeClient, PlaceOrderResponse } from "../grpc/ExchangeClient";
import type {
  CancelOrderResult,
  ExchangePort,
  ExecutionFeed,
  ExecutionFeedOptions,
  ExecutionReport,
  OrderRef,
  PlaceOrderArgs,
  PlaceOrderResult,
  VenueOrder,
} from "../ports/Exchange";
import { executionReportOf, venueOrderOf } from "./exchangeWire";

const placeResultOf = (res: PlaceOrderResponse): PlaceOrderResult => ({
  order: res.order ? venueOrderOf(res.order) : undefined,
  duplicate: res.duplicate,
});
const cancelResultOf = (res: CancelOrderResponse): CancelOrderResult => ({
  canceled: res.canceled,
  order: res.order ? venueOrderOf(res.order) : undefined,
});

export class GrpcExchange implements ExchangePort {
  constructor(readonly client: ExchangeClient) {}

  // The quoter's hot path: the call's promise mapped once (no async frame per order).
  placeOrder(args: PlaceOrderArgs): Promise<PlaceOrderResult> {
    return this.client.placeOrder(args).then(placeResultOf);
  }

  cancelOrder(ref: OrderRef): Promise<CancelOrderResult> {
    return this.client.cancelOrder(ref).then(cancelResultOf);
  }

  async getOrder(ref: OrderRef): Promise<VenueOrder | undefined> {
    const o = await this.client.getOrder(ref);
    return o ? venueOrderOf(o) : undefined;
  }

  async listOpenOrders(filter: { accountId?: string; venue?: string; symbol?: string; strategyId?: string } = {}) {
    return (await this.client.listOpenOrders(filter)).map(venueOrderOf);
  }

  streamExecutions(opts: ExecutionFeedOptions = {}): ExecutionFeed {
    const stream = this.client.streamExecutions(opts);
    return {
      get lastSequence() {
        return stream.lastSequence;
      },
      get isClosed() {
        return stream.isClosed;
      },
      get connects() {
        return stream.stats.connects;
      },
      close: () => stream.close(),
      async *[Symbol.asyncIterator](): AsyncIterator<ExecutionReport> {
        for await (const e of stream) yield executionReportOf(e);
      },
    };
  }
}
