// Exchange simulator over real gRPC on loopback: matching, fees, balances, dedup, replay, chaos, counters, liquidity.
import { status } from "@grpc/grpc-js";
import Decimal from "decimal.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ExchangeAdminServiceClient,
  ExchangeServiceClient,
  type Execution,
  Liquidity,
  OrderStatus,
  OrderType,
  type PlaceOrderRequest,
  Side,
  TimeInForce,
} from "../../gen/proto/tse/exchange/exchange";
import { type L1Quote, QuoteServiceClient, ScenarioType } from "../../gen/proto/tse/marketdata/quotes";
import { WireLatencyRecorder } from "../../sim/common/WireLatencyRecorder";
import { ExchangeSimulator } from "../../sim/exchange/ExchangeSimulator";
import { MarketDataSimulator } from "../../sim/market-data/MarketDataSimulator";
import { MarketSimulation } from "../../sim/market-data/MarketSimulation";
import { connect, rejectsWith, rpc, take } from "./rpc";

let n = 0;
function order(p: Partial<PlaceOrderRequest>): PlaceOrderRequest {
  return {
    clientOrderId: `c-${++n}-${Math.random().toString(36).slice(2, 8)}`,
    strategyId: "s1",
    accountId: "acct",
    venue: "venue-a",
    symbol: "BTC-USD",
    side: Side.BUY,
    type: OrderType.LIMIT,
    timeInForce: TimeInForce.GTC,
    postOnly: false,
    quantity: "1",
    price: "100.00",
    riskChecked: true,
    riskCheckId: "rc-1",
    triggerSequence: 0,
    triggerVenue: "",
    ...p,
  };
}

async function startExchange(opts: ConstructorParameters<typeof ExchangeSimulator>[0] = {}) {
  const sim = new ExchangeSimulator({ quiet: true, liquidity: false, shutdownTimeoutMs: 500, ...opts });
  const port = await sim.start(0);
  const address = `127.0.0.1:${port}`;
  const raw = connect(ExchangeServiceClient, address);
  const rawAdmin = connect(ExchangeAdminServiceClient, address);
  return { sim, raw, rawAdmin, ex: rpc(raw), admin: rpc(rawAdmin), address };
}

describe("exchange simulator: matching", () => {
  let h: Awaited<ReturnType<typeof startExchange>>;
  beforeAll(async () => {
    h = await startExchange();
  });
  afterAll(async () => {
    h.raw.close();
    h.rawAdmin.close();
    await h.sim.stop();
  });

  it("matches by price, then time, at the maker's price, with partial fills", async () => {
    const venue = "venue-b";
    const a = await h.ex.placeOrder(order({ venue, accountId: "m1", side: Side.SELL, price: "100.00", quantity: "1" }));
    const b = await h.ex.placeOrder(order({ venue, accountId: "m2", side: Side.SELL, price: "100.00", quantity: "1" }));
    const c = await h.ex.placeOrder(order({ venue, accountId: "m3", side: Side.SELL, price: "99.99", quantity: "1" }));
    expect([a, b, c].map((r) => r.order!.status)).toEqual([OrderStatus.NEW, OrderStatus.NEW, OrderStatus.NEW]);

    const t = await h.ex.placeOrder(order({ venue, accountId: "t", side: Side.BUY, price: "100.00", quantity: "2.5" }));
    expect(t.order!.status).toBe(OrderStatus.FILLED);
    const takerFills = t.executions.filter((e) => e.accountId === "t");
    expect(takerFills.map((e) => [e.price, e.quantity, e.liquidity])).toEqual([
      ["99.99", "1", Liquidity.TAKER],
      ["100", "1", Liquidity.TAKER],
      ["100", "0.5", Liquidity.TAKER],
    ]);
    const makerOrder = (acct: string) => t.executions.find((e) => e.accountId === acct);
    expect(makerOrder("m3")!.liquidity).toBe(Liquidity.MAKER);
    expect(makerOrder("m1")!.orderStatus).toBe(OrderStatus.FILLED);
    expect(makerOrder("m2")!.orderStatus).toBe(OrderStatus.PARTIALLY_FILLED);
    expect(t.order!.averageFillPrice).toBe("99.996");

    const m2 = await h.ex.getOrder({ orderId: b.order!.orderId, clientOrderId: "", accountId: "" });
    expect(m2.order!.status).toBe(OrderStatus.PARTIALLY_FILLED);
    expect(m2.order!.filledQuantity).toBe("0.5");
    expect(m2.order!.remainingQuantity).toBe("0.5");
    const book = await h.ex.getOrderBook({ venue, symbol: "BTC-USD", depth: 5 });
    expect(book.asks).toEqual([{ price: "100", quantity: "0.5", orders: 1 }]);
    expect(book.bids).toEqual([]);
  });

  it("charges maker and taker fees and moves balances", async () => {
    const venue = "venue-a";
    await h.admin.setBalance({ accountId: "fm", venue, asset: "USD", total: "1000" });
    await h.admin.setBalance({ accountId: "fm", venue, asset: "ETH", total: "10" });
    await h.admin.setBalance({ accountId: "ft", venue, asset: "USD", total: "1000" });
    await h.admin.setBalance({ accountId: "ft", venue, asset: "ETH", total: "0" });
    await h.ex.placeOrder(
      order({ venue, symbol: "ETH-USD", accountId: "fm", side: Side.SELL, price: "200.00", quantity: "2" }),
    );
    const bal0 = await h.ex.getBalances({ accountId: "fm", venue });
    expect(bal0.balances.find((b) => b.asset === "ETH")).toMatchObject({ total: "10", locked: "2", available: "8" });

    const t = await h.ex.placeOrder(
      order({ venue, symbol: "ETH-USD", accountId: "ft", side: Side.BUY, price: "200.00", quantity: "2" }),
    );
    const [takerExec] = t.executions.filter((e) => e.accountId === "ft");
    const [makerExec] = t.executions.filter((e) => e.accountId === "fm");
    expect(takerExec!.fee).toBe("0.2"); // 400 × 0.0005
    expect(makerExec!.fee).toBe("0.08"); // 400 × 0.0002
    expect(t.order!.feesPaid).toBe("0.2");
    const ft = await h.ex.getBalances({ accountId: "ft", venue });
    expect(ft.balances.find((b) => b.asset === "USD")).toMatchObject({ total: "599.8", locked: "0" });
    expect(ft.balances.find((b) => b.asset === "ETH")).toMatchObject({ total: "2", locked: "0" });
    const fm = await h.ex.getBalances({ accountId: "fm", venue });
    expect(fm.balances.find((b) => b.asset === "USD")).toMatchObject({ total: "1399.92", locked: "0" });
    expect(fm.balances.find((b) => b.asset === "ETH")).toMatchObject({ total: "8", locked: "0" });
  });

  it("rejects insufficient funds and leaves book and balances unchanged", async () => {
    const venue = "venue-a";
    await h.admin.setBalance({ accountId: "poor", venue, asset: "USD", total: "50" });
    const before = await h.ex.getBalances({ accountId: "poor", venue });
    const bookBefore = await h.ex.getOrderBook({ venue, symbol: "BTC-USD", depth: 50 });
    const r = await h.ex.placeOrder(order({ venue, accountId: "poor", price: "100.00", quantity: "1" }));
    expect(r.order!.status).toBe(OrderStatus.REJECTED);
    expect(r.order!.rejectReason).toMatch(/insufficient funds: need 100.05 USD, available 50/);
    expect(await h.ex.getBalances({ accountId: "poor", venue })).toEqual(before);
    expect((await h.ex.getOrderBook({ venue, symbol: "BTC-USD", depth: 50 })).bids).toEqual(bookBefore.bids);
    const sell = await h.ex.placeOrder(order({ venue, accountId: "poor", side: Side.SELL, quantity: "20" }));
    expect(sell.order!.rejectReason).toMatch(/insufficient funds: need 20 BTC/);
  });

  it("IOC fills what it can and expires the rest; FOK is all or nothing; market walks the book", async () => {
    const venue = "venue-b";
    const symbol = "ETH-USD";
    await h.ex.placeOrder(order({ venue, symbol, accountId: "mk", side: Side.SELL, price: "50.00", quantity: "1" }));
    await h.ex.placeOrder(order({ venue, symbol, accountId: "mk", side: Side.SELL, price: "51.00", quantity: "1" }));

    const ioc = await h.ex.placeOrder(
      order({ venue, symbol, accountId: "tk", price: "50.00", quantity: "3", timeInForce: TimeInForce.IOC }),
    );
    expect(ioc.order!.status).toBe(OrderStatus.EXPIRED);
    expect(ioc.order!.filledQuantity).toBe("1");
    expect((await h.ex.listOpenOrders({ accountId: "tk", venue: "", symbol: "", strategyId: "" })).orders).toEqual([]);

    const fokFail = await h.ex.placeOrder(
      order({ venue, symbol, accountId: "tk", price: "51.00", quantity: "2", timeInForce: TimeInForce.FOK }),
    );
    expect(fokFail.order!.status).toBe(OrderStatus.EXPIRED);
    expect(fokFail.executions).toEqual([]);
    const book = await h.ex.getOrderBook({ venue, symbol, depth: 5 });
    expect(book.asks).toEqual([{ price: "51", quantity: "1", orders: 1 }]);

    const fok = await h.ex.placeOrder(
      order({ venue, symbol, accountId: "tk", price: "51.00", quantity: "1", timeInForce: TimeInForce.FOK }),
    );
    expect(fok.order!.status).toBe(OrderStatus.FILLED);

    await h.ex.placeOrder(order({ venue, symbol, accountId: "mk", side: Side.BUY, price: "48.00", quantity: "1" }));
    await h.ex.placeOrder(order({ venue, symbol, accountId: "mk", side: Side.BUY, price: "47.00", quantity: "1" }));
    const mkt = await h.ex.placeOrder(
      order({ venue, symbol, accountId: "tk", side: Side.SELL, type: OrderType.MARKET, price: "", quantity: "2" }),
    );
    expect(mkt.order!.status).toBe(OrderStatus.FILLED);
    expect(mkt.order!.averageFillPrice).toBe("47.5");
    const none = await h.ex.placeOrder(
      order({ venue, symbol, accountId: "tk", side: Side.SELL, type: OrderType.MARKET, price: "", quantity: "1" }),
    );
    expect(none.order!.status).toBe(OrderStatus.EXPIRED);
    expect(none.order!.filledQuantity).toBe("0");
  });

  it("post-only rejects when it would cross and rests otherwise", async () => {
    const venue = "venue-a";
    const symbol = "ETH-USD";
    await h.ex.placeOrder(order({ venue, symbol, accountId: "pm", side: Side.SELL, price: "300.00", quantity: "1" }));
    const cross = await h.ex.placeOrder(order({ venue, symbol, accountId: "pp", price: "300.00", postOnly: true }));
    expect(cross.order!.status).toBe(OrderStatus.REJECTED);
    expect(cross.order!.rejectReason).toMatch(/post-only/);
    const rest = await h.ex.placeOrder(order({ venue, symbol, accountId: "pp", price: "299.99", postOnly: true }));
    expect(rest.order!.status).toBe(OrderStatus.NEW);
    const c = await h.ex.cancelOrder({ orderId: rest.order!.orderId, clientOrderId: "", accountId: "" });
    expect(c.canceled).toBe(true);
    expect(c.order!.status).toBe(OrderStatus.CANCELED);
    const again = await h.ex.cancelOrder({ orderId: "", clientOrderId: rest.order!.clientOrderId, accountId: "pp" });
    expect(again.canceled).toBe(false);
    const bal = await h.ex.getBalances({ accountId: "pp", venue });
    expect(bal.balances.find((b) => b.asset === "USD")!.locked).toBe("0");
  });

  it("a repeated client order id returns the same order, never a second", async () => {
    const req = order({ venue: "venue-b", accountId: "dup", price: "10.00", quantity: "1" });
    const first = await h.ex.placeOrder(req);
    const second = await h.ex.placeOrder(req);
    const third = await h.ex.placeOrder({ ...req, price: "11.00" });
    expect(second.duplicate).toBe(true);
    expect(third.duplicate).toBe(true);
    expect(second.order!.orderId).toBe(first.order!.orderId);
    expect(third.order!.orderId).toBe(first.order!.orderId);
    const open = await h.ex.listOpenOrders({ accountId: "dup", venue: "", symbol: "", strategyId: "" });
    expect(open.orders).toHaveLength(1);
    const bal = await h.ex.getBalances({ accountId: "dup", venue: "venue-b" });
    expect(bal.balances.find((b) => b.asset === "USD")!.locked).toBe("10.005");
  });

  it("counts orders, orders without a risk check and duplicates, per strategy", async () => {
    const before = await h.admin.getCounters({});
    await h.ex.placeOrder(order({ strategyId: "no-risk", accountId: "cnt", riskChecked: false, riskCheckId: "" }));
    await h.ex.placeOrder(order({ strategyId: "no-risk", accountId: "cnt", riskChecked: false, riskCheckId: "" }));
    await h.ex.placeOrder(order({ strategyId: "with-risk", accountId: "cnt" }));
    const after = await h.admin.getCounters({});
    expect(after.ordersReceived - before.ordersReceived).toBe(3);
    expect(after.ordersWithoutRiskCheck - before.ordersWithoutRiskCheck).toBe(2);
    expect(after.strategies.find((s) => s.strategyId === "no-risk")).toMatchObject({
      ordersReceived: 2,
      ordersWithoutRiskCheck: 2,
    });
    expect(after.strategies.find((s) => s.strategyId === "with-risk")).toMatchObject({ ordersWithoutRiskCheck: 0 });
  });
});

describe("exchange simulator: execution stream", () => {
  it("replays from a sequence, then streams live, exactly once and in order (also across a reconnect)", async () => {
    const h = await startExchange();
    try {
      const venue = "venue-a";
      for (let i = 0; i < 3; i++) {
        await h.ex.placeOrder(order({ venue, accountId: "rm", side: Side.SELL, price: "100.00", quantity: "1" }));
        await h.ex.placeOrder(order({ venue, accountId: "rt", side: Side.BUY, price: "100.00", quantity: "1" }));
      }
      // 3 crosses × 2 sides = sequences 1..6
      const replay = await take(
        h.raw.streamExecutions({ fromSequence: 3, liveOnly: false, accountId: "", strategyId: "" }),
        4,
      );
      expect(replay.map((e) => e.sequence)).toEqual([3, 4, 5, 6]);

      const seen: Execution[] = [];
      const stream = h.raw.streamExecutions({ fromSequence: 5, liveOnly: false, accountId: "", strategyId: "" });
      stream.on("data", (e: Execution) => seen.push(e));
      const gone = new Promise<number>((resolve) => stream.on("error", (e: { code: number }) => resolve(e.code)));
      await expect.poll(() => seen.length, { timeout: 3_000 }).toBe(2);
      await h.ex.placeOrder(order({ venue, accountId: "rm", side: Side.SELL, price: "100.00", quantity: "1" }));
      await h.ex.placeOrder(order({ venue, accountId: "rt", side: Side.BUY, price: "100.00", quantity: "1" }));
      await expect.poll(() => seen.length, { timeout: 3_000 }).toBe(4);

      // Outage drops the stream; executions happen meanwhile (engine-level); reconnect from last+1.
      await h.admin.setChaos({ latencyMs: 0, rejectionRate: 0, downUntilMs: 0, downtimeMs: 300, spreadMultiplier: 1 });
      expect(await gone).toBe(status.UNAVAILABLE);
      h.sim.engine.placeOrder(order({ venue, accountId: "rm", side: Side.SELL, price: "100.00", quantity: "1" }));
      h.sim.engine.placeOrder(order({ venue, accountId: "rt", side: Side.BUY, price: "100.00", quantity: "1" }));
      await new Promise((r) => setTimeout(r, 350));
      const last = seen[seen.length - 1]!.sequence;
      const resumed = await take(
        h.raw.streamExecutions({ fromSequence: last + 1, liveOnly: false, accountId: "", strategyId: "" }),
        2,
      );
      const all = [...seen, ...resumed].map((e) => e.sequence);
      expect(all).toEqual([5, 6, 7, 8, 9, 10]);
    } finally {
      h.raw.close();
      h.rawAdmin.close();
      await h.sim.stop();
    }
  });
});

describe("exchange simulator: chaos", () => {
  it("adds latency, rejects at a rate, goes down for a window and widens the spread", async () => {
    const feed = new MarketSimulation({ seed: 3, startTimeMs: 0 });
    const h = await startExchange({ liquidity: feed });
    try {
      const spread = async () => {
        const b = await h.ex.getOrderBook({ venue: "venue-a", symbol: "BTC-USD", depth: 1 });
        return Number(b.asks[0]!.price) - Number(b.bids[0]!.price);
      };
      const normal = await spread();
      await h.admin.setChaos({ latencyMs: 0, rejectionRate: 0, downUntilMs: 0, downtimeMs: 0, spreadMultiplier: 2 });
      feed.step(100);
      const wide = await spread();
      expect(wide).toBeGreaterThan(normal * 1.5);

      await h.admin.setChaos({ latencyMs: 200, rejectionRate: 1, downUntilMs: 0, downtimeMs: 0, spreadMultiplier: 1 });
      const t0 = performance.now();
      const r = await h.ex.placeOrder(order({ accountId: "chaos", price: "1.00" }));
      expect(performance.now() - t0).toBeGreaterThanOrEqual(195);
      expect(r.order!.status).toBe(OrderStatus.REJECTED);
      expect(r.order!.rejectReason).toBe("chaos: random rejection");

      await h.admin.setChaos({ latencyMs: 0, rejectionRate: 0.2, downUntilMs: 0, downtimeMs: 0, spreadMultiplier: 1 });
      let rejected = 0;
      for (let i = 0; i < 200; i++) {
        const x = await h.ex.placeOrder(order({ accountId: "chaos", price: "1.00", quantity: "0.0001" }));
        if (x.order!.rejectReason.startsWith("chaos")) rejected++;
      }
      expect(rejected).toBeGreaterThan(20);
      expect(rejected).toBeLessThan(70);

      const c = await h.admin.setChaos({
        latencyMs: 0,
        rejectionRate: 0,
        downUntilMs: 0,
        downtimeMs: 300,
        spreadMultiplier: 1,
      });
      expect(c.downtimeMs).toBeGreaterThan(0);
      await rejectsWith(h.ex.placeOrder(order({ accountId: "chaos" })), status.UNAVAILABLE);
      await new Promise((res) => setTimeout(res, 350));
      const ok = await h.ex.placeOrder(order({ accountId: "chaos", price: "1.00" }));
      expect(ok.order!.status).toBe(OrderStatus.NEW);

      const bad = await rejectsWith(
        h.admin.setChaos({ latencyMs: 0, rejectionRate: 1.5, downUntilMs: 0, downtimeMs: 0, spreadMultiplier: 1 }),
        status.INVALID_ARGUMENT,
      );
      expect(bad.details).toContain("rejection_rate=1.5");
    } finally {
      h.raw.close();
      h.rawAdmin.close();
      await h.sim.stop();
    }
  });
});

describe("exchange simulator: background liquidity", () => {
  it("fills a resting bid when the simulated market falls through it", async () => {
    const feed = new MarketSimulation({ seed: 11, startTimeMs: 0 });
    const h = await startExchange({ liquidity: feed });
    try {
      const q = feed.quote("venue-a", "BTC-USD")!;
      const px = (Number(q.bid) * 0.998).toFixed(2);
      const placed = await h.ex.placeOrder(order({ accountId: "mm", price: px, quantity: "0.1" }));
      expect(placed.order!.status).toBe(OrderStatus.NEW);
      const fills = take(
        h.raw.streamExecutions({ fromSequence: 1, liveOnly: false, accountId: "mm", strategyId: "" }),
        1,
      );
      feed.setScenario(ScenarioType.CRASH);
      for (let i = 0; i < 600; i++) {
        feed.step(100);
        const o = await h.ex.getOrder({ orderId: placed.order!.orderId, clientOrderId: "", accountId: "" });
        if (o.order!.status === OrderStatus.FILLED) break;
      }
      const [fill] = await fills;
      expect(fill!.liquidity).toBe(Liquidity.MAKER);
      expect(new Decimal(fill!.price).eq(px)).toBe(true);
    } finally {
      h.raw.close();
      h.rawAdmin.close();
      await h.sim.stop();
    }
  });

  it("follows a remote market-data simulator's L1 stream", async () => {
    const md = new MarketDataSimulator({ quiet: true, seed: 4, tickMs: 10, shutdownTimeoutMs: 500 });
    const mdPort = await md.start(0);
    const h = await startExchange({
      liquidity: undefined,
      marketDataAddress: `127.0.0.1:${mdPort}`,
      liquidityTickMs: 10,
    });
    try {
      await expect
        .poll(async () => (await h.ex.getOrderBook({ venue: "venue-b", symbol: "ETH-USD", depth: 3 })).bids.length, {
          timeout: 5_000,
        })
        .toBe(3);
      const book = await h.ex.getOrderBook({ venue: "venue-b", symbol: "ETH-USD", depth: 1 });
      const q = md.simulation.quote("venue-b", "ETH-USD")!;
      // Within a few ticks of the market (the feed moves every 10 ms).
      expect(Math.abs(Number(book.bids[0]!.price) / Number(q.bid) - 1)).toBeLessThan(0.005);
    } finally {
      h.raw.close();
      h.rawAdmin.close();
      await h.sim.stop();
      await md.stop();
    }
  });
});

describe("exchange simulator: positions and tick-to-order latency", () => {
  it("reports net positions per account, strategy, venue and symbol from the fills", async () => {
    const h = await startExchange();
    try {
      await h.ex.placeOrder(
        order({ accountId: "pa", strategyId: "arb", side: Side.SELL, price: "100.00", quantity: "0.3" }),
      );
      await h.ex.placeOrder(
        order({ accountId: "pb", strategyId: "mm", side: Side.BUY, price: "101.00", quantity: "0.5" }),
      );
      await h.ex.placeOrder(
        order({ accountId: "pa", strategyId: "arb", side: Side.SELL, price: "101.00", quantity: "0.1" }),
      );
      const pa = await h.ex.getPositions({ accountId: "pa", strategyId: "", venue: "", symbol: "" });
      expect(pa.positions).toEqual([
        {
          accountId: "pa",
          strategyId: "arb",
          venue: "venue-a",
          symbol: "BTC-USD",
          netQuantity: "-0.4",
          boughtQuantity: "0",
          soldQuantity: "0.4",
          boughtNotional: "0",
          soldNotional: "40.1",
          fees: "0.01105",
          fills: 2,
        },
      ]);
      const all = await h.ex.getPositions({ accountId: "", strategyId: "", venue: "venue-a", symbol: "BTC-USD" });
      const net = all.positions.reduce((sum, p) => sum + Number(p.netQuantity), 0);
      expect(net).toBeCloseTo(0, 12);
    } finally {
      h.raw.close();
      h.rawAdmin.close();
      await h.sim.stop();
    }
  });

  it("measures tick-to-order latency for orders naming their trigger tick", async () => {
    const wire = new WireLatencyRecorder();
    const market = new MarketSimulation({ seed: 2, startTimeMs: Date.now() });
    const md = new MarketDataSimulator({ quiet: true, simulation: market, wire, shutdownTimeoutMs: 500 });
    const mdAddress = `127.0.0.1:${await md.start(0)}`;
    const h = await startExchange({ liquidity: market, wire });
    const mdClient = connect(QuoteServiceClient, mdAddress);
    try {
      const [q] = await take<L1Quote>(
        mdClient.streamQuotes({ symbols: ["BTC-USD"], venues: ["venue-b"], updateIntervalMs: 5 }),
        1,
      );
      const far = (Number(q!.bid) * 0.9).toFixed(2);
      await h.ex.placeOrder(
        order({ venue: "venue-a", price: far, triggerSequence: q!.sequence, triggerVenue: q!.venue }),
      );
      await h.ex.placeOrder(
        order({ venue: "venue-a", price: far, triggerSequence: 999_999_999, triggerVenue: "venue-b" }),
      );
      const c = await h.admin.getCounters({});
      expect(c.wireLatencyCount).toBe(1);
      expect(c.wireLatencyP50Us).toBeGreaterThan(0);
      expect(c.wireLatencyP50Us).toBeLessThan(2_000_000);
      expect(wire.unmatchedOrders).toBe(1);
    } finally {
      mdClient.close();
      h.raw.close();
      h.rawAdmin.close();
      await h.sim.stop();
      await md.stop();
    }
  });
});
