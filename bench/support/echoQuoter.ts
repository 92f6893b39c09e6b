// The echo floor for bench/quoter.bench.ts: a minimal grpc-js client that answers every market-data tick with a
// fixed PlaceOrder immediately (no strategy, no risk, no client layer). Run as its own process, like the quoter.
import { credentials } from "@grpc/grpc-js";
import {
  ExchangeServiceClient,
  OrderType,
  PlaceOrderRequest,
  Side,
  TimeInForce,
} from "../../gen/proto/tse/exchange/exchange";
import { type L1Quote, QuoteServiceClient, StreamQuotesRequest } from "../../gen/proto/tse/marketdata/quotes";
import { startRuntimeStats } from "../../quoter/runtimeStats";

const md = new QuoteServiceClient(
  process.env.TSE_MARKET_DATA_ENDPOINT ?? "127.0.0.1:50055",
  credentials.createInsecure(),
);
const ex = new ExchangeServiceClient(
  process.env.TSE_EXCHANGE_ENDPOINT ?? "127.0.0.1:50054",
  credentials.createInsecure(),
);
const account = process.env.TSE_QUOTER_ACCOUNT ?? "bench-echo";
// Allocation of this bare client, the bench's same-run floor per call (asked for over the IPC channel).
const stats = startRuntimeStats();
let calls = 0;
process.on("message", () => {
  const s = stats.snapshot();
  process.send?.({ allocatedBytes: s.allocatedBytes, promotedBytes: s.promotedBytes, calls });
});

const stream = md.streamQuotes(
  StreamQuotesRequest.fromPartial({ symbols: ["BTC-USD"], venues: ["venue-a"], updateIntervalMs: 1 }),
);
stream.on("data", (q: L1Quote) => {
  const req = PlaceOrderRequest.fromPartial({
    clientOrderId: `echo-${q.sequence}`,
    accountId: account,
    venue: "venue-a",
    symbol: "BTC-USD",
    side: Side.BUY,
    type: OrderType.LIMIT,
    timeInForce: TimeInForce.IOC,
    quantity: "0.0001",
    price: "1000.00",
    riskChecked: true,
  });
  calls++;
  ex.placeOrder(req, () => {});
});
stream.on("error", () => {});
process.stdout.write(`${JSON.stringify({ event: "echo-listening", pid: process.pid })}\n`);
process.on("SIGTERM", () => {
  stream.cancel();
  md.close();
  ex.close();
  process.exit(0);
});
