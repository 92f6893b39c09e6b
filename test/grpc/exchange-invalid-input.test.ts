// Bad input to the exchange simulator: INVALID_ARGUMENT naming the field and the value; book and balances unchanged.
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ExchangeAdminServiceClient,
  ExchangeServiceClient,
  OrderType,
  type PlaceOrderRequest,
  Side,
  TimeInForce,
} from "../../gen/proto/tse/exchange/exchange";
import { ExchangeSimulator } from "../../sim/exchange/ExchangeSimulator";
import { connect, rejectsWith, rpc } from "./rpc";

const base: PlaceOrderRequest = {
  clientOrderId: "ok-1",
  strategyId: "s",
  accountId: "bad",
  venue: "venue-a",
  symbol: "BTC-USD",
  side: Side.BUY,
  type: OrderType.LIMIT,
  timeInForce: TimeInForce.GTC,
  postOnly: false,
  quantity: "1",
  price: "100.00",
  riskChecked: true,
  riskCheckId: "r",
  triggerSequence: 0,
  triggerVenue: "",
};

const cases: Array<[string, Partial<PlaceOrderRequest>, string]> = [
  ["negative quantity", { quantity: "-1" }, 'quantity="-1"'],
  ["zero quantity", { quantity: "0" }, 'quantity="0"'],
  ["NaN quantity", { quantity: "NaN" }, 'quantity="NaN"'],
  ["non-numeric quantity", { quantity: "lots" }, 'quantity="lots"'],
  ["quantity off the lot size", { quantity: "0.00001" }, 'quantity="0.00001"'],
  ["price off the tick", { price: "100.001" }, 'price="100.001"'],
  ["absurdly large quantity", { quantity: "1e20" }, 'quantity="1e20"'],
  ["absurdly large price", { price: "1e30" }, 'price="1e30"'],
  ["NaN price", { price: "NaN" }, 'price="NaN"'],
  ["Infinity price", { price: "Infinity" }, 'price="Infinity"'],
  ["negative price", { price: "-5" }, 'price="-5"'],
  ["limit without price", { price: "" }, 'price=""'],
  ["unknown symbol", { symbol: "DOGE-USD" }, 'symbol="DOGE-USD"'],
  ["unknown venue", { venue: "venue-z" }, 'venue="venue-z"'],
  ["empty client order id", { clientOrderId: "" }, 'client_order_id=""'],
  ["blank client order id", { clientOrderId: "  " }, 'client_order_id="  "'],
  ["unspecified side", { side: Side.UNSPECIFIED }, "side=0"],
  ["unspecified type", { type: OrderType.UNSPECIFIED }, "type=0"],
  ["post-only market", { type: OrderType.MARKET, price: "", postOnly: true }, "post_only=true"],
];

describe("exchange simulator: bad input", () => {
  let sim: ExchangeSimulator;
  let raw: InstanceType<typeof ExchangeServiceClient>;
  let rawAdmin: InstanceType<typeof ExchangeAdminServiceClient>;
  let ex: ReturnType<typeof rpc<InstanceType<typeof ExchangeServiceClient>>>;
  let admin: ReturnType<typeof rpc<InstanceType<typeof ExchangeAdminServiceClient>>>;

  beforeAll(async () => {
    sim = new ExchangeSimulator({ quiet: true, liquidity: false, shutdownTimeoutMs: 500 });
    const port = await sim.start(0);
    raw = connect(ExchangeServiceClient, `127.0.0.1:${port}`);
    rawAdmin = connect(ExchangeAdminServiceClient, `127.0.0.1:${port}`);
    ex = rpc(raw);
    admin = rpc(rawAdmin);
    // Something resting so "book unchanged" is meaningful.
    await ex.placeOrder({ ...base, clientOrderId: "resting-bid", price: "90.00" });
    await ex.placeOrder({ ...base, clientOrderId: "resting-ask", side: Side.SELL, price: "110.00" });
  });
  afterAll(async () => {
    raw.close();
    rawAdmin.close();
    await sim.stop();
  });

  const snapshot = async () => ({
    book: await ex.getOrderBook({ venue: "venue-a", symbol: "BTC-USD", depth: 50 }),
    balances: await ex.getBalances({ accountId: "bad", venue: "" }),
    open: await ex.listOpenOrders({ accountId: "bad", venue: "", symbol: "", strategyId: "" }),
  });

  it.each(cases)("%s → INVALID_ARGUMENT naming it, nothing changed", async (_name, patch, named) => {
    const before = await snapshot();
    const countersBefore = await admin.getCounters({});
    const err = await rejectsWith(
      ex.placeOrder({ ...base, clientOrderId: `x-${_name}`, ...patch }),
      status.INVALID_ARGUMENT,
    );
    expect(err.details).toContain(named);
    expect(`${err.metadata.get("field")[0]}=${err.metadata.get("value")[0]}`).toBe(named);
    const after = await snapshot();
    after.book.timestampMs = before.book.timestampMs;
    expect(after).toEqual(before);
    const countersAfter = await admin.getCounters({});
    expect(countersAfter.invalidRequests).toBe(countersBefore.invalidRequests + 1);
    expect(countersAfter.ordersReceived).toBe(countersBefore.ordersReceived);
  });

  it("an invalid request does not reserve its client order id", async () => {
    await rejectsWith(ex.placeOrder({ ...base, clientOrderId: "later-ok", quantity: "0" }), status.INVALID_ARGUMENT);
    const ok = await ex.placeOrder({ ...base, clientOrderId: "later-ok", price: "80.00" });
    expect(ok.duplicate).toBe(false);
  });

  it("cancel/get with empty ids, unknown ids and bad admin input", async () => {
    const e1 = await rejectsWith(
      ex.cancelOrder({ orderId: "", clientOrderId: "", accountId: "" }),
      status.INVALID_ARGUMENT,
    );
    expect(e1.details).toContain('order_id=""');
    await rejectsWith(ex.getOrder({ orderId: "", clientOrderId: "", accountId: "" }), status.INVALID_ARGUMENT);
    await rejectsWith(ex.cancelOrder({ orderId: "ord-nope", clientOrderId: "", accountId: "" }), status.NOT_FOUND);
    const e2 = await rejectsWith(
      ex.getOrderBook({ venue: "venue-a", symbol: "XRP-USD", depth: 1 }),
      status.INVALID_ARGUMENT,
    );
    expect(e2.details).toContain('symbol="XRP-USD"');
    const e3 = await rejectsWith(
      admin.setBalance({ accountId: "bad", venue: "venue-a", asset: "USD", total: "-1" }),
      status.INVALID_ARGUMENT,
    );
    expect(e3.details).toContain('total="-1"');
    const e4 = await rejectsWith(ex.getBalances({ accountId: "bad", venue: "nowhere" }), status.INVALID_ARGUMENT);
    expect(e4.details).toContain('venue="nowhere"');
  });
});
