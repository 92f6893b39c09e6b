// Property test of the exchange simulator's accounting: money and coins are conserved up to fees,
// locks never go negative or exceed totals, and nothing stays locked once every order is closed.
import Decimal from "decimal.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { OrderStatus, OrderType, Side, TimeInForce } from "../../gen/proto/tse/exchange/exchange";
import { ExchangeEngine } from "../../sim/exchange/ExchangeEngine";

const ACCOUNTS = ["a", "b", "c"];
const orderArb = fc.record({
  account: fc.constantFrom(...ACCOUNTS),
  side: fc.constantFrom(Side.BUY, Side.SELL),
  type: fc.constantFrom(OrderType.LIMIT, OrderType.LIMIT, OrderType.MARKET),
  tif: fc.constantFrom(TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK),
  postOnly: fc.boolean(),
  priceCents: fc.integer({ min: 9_900, max: 10_100 }),
  lots: fc.integer({ min: 1, max: 5_000 }),
});

describe("ExchangeEngine accounting", () => {
  it("conserves balances up to fees and releases every lock", () => {
    fc.assert(
      fc.property(fc.array(orderArb, { maxLength: 80 }), (orders) => {
        const engine = new ExchangeEngine({ initialBalances: { USD: "50000", BTC: "3" }, now: () => 0 });
        let fees = new Decimal(0);
        orders.forEach((o, i) => {
          const market = o.type === OrderType.MARKET;
          const r = engine.placeOrder({
            clientOrderId: `c${i}`,
            strategyId: "p",
            accountId: o.account,
            venue: "venue-a",
            symbol: "BTC-USD",
            side: o.side,
            type: o.type,
            timeInForce: o.tif,
            postOnly: market ? false : o.postOnly,
            quantity: new Decimal(o.lots).mul("0.0001").toFixed(),
            price: market ? "" : new Decimal(o.priceCents).div(100).toFixed(),
            riskChecked: true,
            riskCheckId: "x",
            triggerSequence: 0,
            triggerVenue: "",
          });
          for (const e of r.executions) fees = fees.plus(e.fee);
          for (const acct of ACCOUNTS) {
            for (const b of engine.getBalances(acct, "venue-a")) {
              expect(new Decimal(b.locked).gte(0), `${acct} ${b.asset} locked ${b.locked}`).toBe(true);
              expect(new Decimal(b.available).gte(0), `${acct} ${b.asset} available ${b.available}`).toBe(true);
            }
          }
        });
        const sum = (asset: string) =>
          ACCOUNTS.flatMap((a) => engine.getBalances(a, "venue-a"))
            .filter((b) => b.asset === asset)
            .reduce((s, b) => s.plus(b.total), new Decimal(0));
        expect(sum("BTC").toFixed()).toBe("9");
        expect(sum("USD").plus(fees).toFixed()).toBe("150000");
        for (const acct of ACCOUNTS) {
          for (const o of engine.listOpenOrders({ accountId: acct })) {
            expect(engine.cancelOrder(o.orderId, "", acct).order.status).toBe(OrderStatus.CANCELED);
          }
          for (const b of engine.getBalances(acct, "venue-a")) expect(b.locked).toBe("0");
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe("ExchangeEngine execution log", () => {
  it("is bounded: past maxExecutionLog the oldest executions are dropped, replay by sequence still works", () => {
    const engine = new ExchangeEngine({
      initialBalances: { USD: "1000000", BTC: "100" },
      now: () => 0,
      maxExecutionLog: 20,
    });
    const order = (i: number, account: string, side: Side) =>
      engine.placeOrder({
        clientOrderId: `log-${i}-${account}`,
        strategyId: "p",
        accountId: account,
        venue: "venue-a",
        symbol: "BTC-USD",
        side,
        type: OrderType.LIMIT,
        timeInForce: TimeInForce.GTC,
        postOnly: false,
        quantity: "0.01",
        price: "100",
        riskChecked: true,
        riskCheckId: "x",
        triggerSequence: 0,
        triggerVenue: "",
      });
    for (let i = 0; i < 100; i++) {
      order(i, "maker", Side.SELL);
      order(i, "taker", Side.BUY); // crosses: two executions (taker and maker)
    }
    expect(engine.lastSequence).toBe(200);
    expect(engine.executionLogSize).toBeLessThanOrEqual(22); // the bound plus a tenth of slack
    const tail = engine.executionsFrom(195);
    expect(tail.map((e) => e.sequence)).toEqual([195, 196, 197, 198, 199, 200]);
    const all = engine.executionsFrom(1);
    expect(all.length).toBe(engine.executionLogSize);
    expect(all.at(-1)?.sequence).toBe(200);
    expect(all[0]!.sequence).toBe(200 - all.length + 1);
  });
});
