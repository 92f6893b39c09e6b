// The exchange simulator of bench/quoter.bench.ts, on its own thread: its V8 heap and its GC pauses are its own,
// so they no longer stop the bench thread that writes the feeds (the exchange keeps every order it has seen, and
// its collections had paused the feed writes for up to ~270 ms). Each PlaceOrder of a bench account is stamped
// on arrival (process.hrtime: CLOCK_MONOTONIC, one clock for every thread of the process) and reported to the
// bench thread, which attributes it to its tick.
import { parentPort } from "node:worker_threads";
import { OrderStatus, type PlaceOrderRequest } from "../../gen/proto/tse/exchange/exchange";
import { ExchangeSimulator } from "../../sim/exchange/ExchangeSimulator";

/** One PlaceOrder of a bench account as the exchange saw it. */
export interface Arrival {
  at: bigint;
  accountId: string;
  clientOrderId: string;
  price: string;
  side: number;
  /** Refused post-only (on the bench's book, only the quoter's own resting orders can cause it). */
  postOnlyRejected: boolean;
}

const port = parentPort!;
const exchange = new ExchangeSimulator({ quiet: true, liquidity: false });
const engine = exchange.engine;
const place = engine.placeOrder.bind(engine);
engine.placeOrder = ((req: PlaceOrderRequest, opts?: { chaosReject?: boolean }) => {
  const at = process.hrtime.bigint();
  const res = place(req, opts);
  if (req.accountId.startsWith("bench-")) {
    const arrival: Arrival = {
      at,
      accountId: req.accountId,
      clientOrderId: req.clientOrderId,
      price: req.price,
      side: req.side,
      postOnlyRejected: res.order.status === OrderStatus.REJECTED && /post-only/i.test(res.order.rejectReason ?? ""),
    };
    port.postMessage(arrival);
  }
  return res;
}) as typeof engine.placeOrder;

port.on("message", (m: { stop?: boolean }) => {
  if (m.stop) void exchange.stop().then(() => port.close());
});
port.postMessage({ port: await exchange.start(0) });
