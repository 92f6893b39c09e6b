import { describe, expect, it } from "vitest";
import { Decimal } from "../../lib/domain/decimal";
import {
  AvellanedaStoikovStrategy,
  asFiniteHorizon,
  asInfiniteHorizon,
  type ChaosSlowLeakStrategy,
  createStrategy,
  listStrategies,
  StrategyConfigError,
  seededRng,
  slowLeakErrorProbability,
  UnknownStrategyError,
} from "../../lib/domain/strategies";
import type { OrderIntent } from "../../lib/domain/types";
import { quote, TestContext } from "./support/strategyContext";

const places = (xs: OrderIntent[]) => xs.filter((i) => !i.cancelOrderId);
const px = (xs: OrderIntent[], side: "BUY" | "SELL") =>
  places(xs)
    .filter((i) => i.side === side)
    .map((i) => i.limitPrice!.toFixed());

/** Turn placed intents into the context's open orders, as an engine would. */
function rest(ctx: TestContext, xs: OrderIntent[]) {
  let n = ctx.orders.length;
  for (const i of xs) {
    if (i.cancelOrderId) ctx.orders = ctx.orders.filter((o) => o.orderId !== i.cancelOrderId);
    else
      ctx.orders.push({
        orderId: `o${++n}`,
        venue: i.venue,
        symbol: i.symbol,
        side: i.side,
        limitPrice: i.limitPrice!,
        quantity: i.quantity,
        remainingQuantity: i.quantity,
        ...(i.tag ? { tag: i.tag } : {}),
      });
  }
}

describe("strategy registry", () => {
  it("registers every required name", () => {
    const names = listStrategies().map((s) => s.name);
    for (const n of [
      "market-making",
      "avellaneda-stoikov",
      "arbitrage",
      "chaos-runaway",
      "chaos-risk-ignorant",
      "chaos-volatility-amplifier",
      "chaos-correlation-breaker",
      "chaos-slow-leak",
    ])
      expect(names).toContain(n);
    expect(
      listStrategies()
        .filter((s) => s.chaos)
        .map((s) => s.name),
    ).toHaveLength(5);
  });
  it("bad config names the field and the value", () => {
    expect(() => createStrategy("market-making", "mm", { levels: 0 })).toThrow(StrategyConfigError);
    try {
      createStrategy("market-making", "mm", { spreadBps: -3 });
    } catch (e) {
      expect(e).toBeInstanceOf(StrategyConfigError);
      expect((e as StrategyConfigError).field).toBe("spreadBps");
      expect((e as StrategyConfigError).value).toBe(-3);
      expect((e as Error).message).toContain("market-making");
      expect((e as Error).message).toContain("spreadBps=-3");
    }
    expect(() => createStrategy("arbitrage", "a", { maxQuantity: "abc" })).toThrow(/maxQuantity="abc"/);
    expect(() => createStrategy("nope", "x")).toThrow(UnknownStrategyError);
  });
  it("defaults apply", () => {
    const s = createStrategy("arbitrage", "a") as unknown as { config: { minSpreadBps: number } };
    expect(s.config.minSpreadBps).toBe(10);
  });
});

describe("market making", () => {
  const q = quote("venue-a", "BTC-USD", "29990", "30010"); // mid 30000
  it("is symmetric around mid when flat", () => {
    const mm = createStrategy("market-making", "mm", { spreadBps: 10 });
    const out = mm.onMarket(q, new TestContext());
    // half spread = 30000 * 10 / 20000 = 15
    expect(px(out, "BUY")).toEqual(["29985"]);
    expect(px(out, "SELL")).toEqual(["30015"]);
    expect(out.every((i) => i.postOnly && i.type === "LIMIT" && i.timeInForce === "GTC")).toBe(true);
  });
  it("skews against inventory", () => {
    const mm = createStrategy("market-making", "mm", { spreadBps: 10, maxPosition: "1", inventorySkewBps: 5 });
    const ctx = new TestContext();
    ctx.positions.set("BTC-USD", new Decimal("0.5"));
    // ratio 0.5 -> centre = 30000 * (1 - 0.5*5/10000) = 29992.5 ; +-15
    const out = mm.onMarket(q, ctx);
    expect(px(out, "BUY")).toEqual(["29977.5"]);
    expect(px(out, "SELL")).toEqual(["30007.5"]);
    ctx.positions.set("BTC-USD", new Decimal("-0.5"));
    const mm2 = createStrategy("market-making", "mm2", { spreadBps: 10, maxPosition: "1", inventorySkewBps: 5 });
    const out2 = mm2.onMarket(q, ctx);
    expect(px(out2, "BUY")).toEqual(["29992.5"]);
    expect(px(out2, "SELL")).toEqual(["30022.5"]);
  });
  it("stops adding to a full position", () => {
    const mm = createStrategy("market-making", "mm", { maxPosition: "1" });
    const ctx = new TestContext();
    ctx.positions.set("BTC-USD", new Decimal("1"));
    const out = mm.onMarket(q, ctx);
    expect(px(out, "BUY")).toEqual([]);
    expect(px(out, "SELL")).toHaveLength(1);
  });
  it("quotes several levels", () => {
    const mm = createStrategy("market-making", "mm", { spreadBps: 10, levels: 3, levelSpacingBps: 5 });
    const out = mm.onMarket(q, new TestContext());
    // level offset = 30000 * 5 / 10000 = 15 per level
    expect(px(out, "BUY")).toEqual(["29985", "29970", "29955"]);
    expect(px(out, "SELL")).toEqual(["30015", "30030", "30045"]);
    expect(new Set(out.map((i) => i.tag)).size).toBe(6);
  });
  it("enforces the minimum spread", () => {
    const mm = createStrategy("market-making", "mm", { spreadBps: 2, minSpreadBps: 6 });
    const out = mm.onMarket(q, new TestContext());
    // half = 30000 * 6 / 20000 = 9
    expect(px(out, "BUY")).toEqual(["29991"]);
    expect(px(out, "SELL")).toEqual(["30009"]);
  });
  it("never crosses the market (post-only)", () => {
    // Short 0.99 of max 1 with a 50 bps skew pushes the centre ~150 USD above a 2-cent market:
    // the bid is capped one tick under the market ask instead of crossing it.
    const mm = createStrategy("market-making", "mm", { spreadBps: 2, maxPosition: "1", inventorySkewBps: 50 });
    const ctx = new TestContext();
    ctx.positions.set("BTC-USD", new Decimal("-0.99"));
    const out = mm.onMarket(quote("venue-a", "BTC-USD", "30000", "30000.02"), ctx);
    expect(px(out, "BUY")).toEqual(["30000.01"]);
    expect(new Decimal(px(out, "SELL")[0]!).gt("30000.02")).toBe(true);
  });
  it("keeps quotes within the refresh tolerance, replaces beyond it", () => {
    const mm = createStrategy("market-making", "mm", { spreadBps: 10, refreshToleranceBps: 2 });
    const ctx = new TestContext();
    const first = mm.onMarket(q, ctx);
    expect(places(first)).toHaveLength(2);
    rest(ctx, first);
    // mid +1 bps (3 USD) <= 2 bps tolerance: nothing to do
    expect(mm.onMarket(quote("venue-a", "BTC-USD", "29993", "30013"), ctx)).toEqual([]);
    // mid +3 bps (9 USD) > tolerance: cancel + replace both sides
    // mid 30009, half = 30009*10/20000 = 15.0045 -> bid floor(29993.9955) = 29993.99, ask ceil(30024.0045) = 30024.01
    const moved = mm.onMarket(quote("venue-a", "BTC-USD", "29999", "30019"), ctx);
    expect(moved.filter((i) => i.cancelOrderId)).toHaveLength(2);
    expect(px(moved, "BUY")).toEqual(["29993.99"]);
    expect(px(moved, "SELL")).toEqual(["30024.01"]);
  });
});

describe("Avellaneda–Stoikov", () => {
  it("finite horizon formulas match hand values", () => {
    // r = 100 - 2*0.1*4*0.5 = 99.6
    // spread = 0.1*4*0.5 + (2/0.1)*ln(1 + 0.1/1.5) = 0.2 + 20*0.0645385211 = 1.4907704228
    const r = asFiniteHorizon(100, 2, 0.1, 4, 0.5, 1.5);
    expect(r.reservation).toBeCloseTo(99.6, 10);
    expect(r.spread).toBeCloseTo(1.4907704228, 9);
    expect(r.bid).toBeCloseTo(98.8546147886, 9);
    expect(r.ask).toBeCloseTo(100.3453852114, 9);
  });
  it("infinite horizon formulas match hand values", () => {
    // g2s2 = 0.01*4 = 0.04 ; omega = 0.5*0.04*(2+1)^2 = 0.18 ; denom = 0.36 - 0.04*1 = 0.32
    // rAsk = 100 + 10 ln(1 - 0.04/0.32) = 100 + 10 ln 0.875 = 100 - 1.3353139263 = 98.6646860737
    // rBid = 100 + 10 ln(1 - 0.12/0.32) = 100 + 10 ln 0.625 = 100 - 4.7000362925 = 95.2999637075
    // d = 10 ln(16/15) = 0.6453852114 -> bid 94.6545784962, ask 99.3100712851
    const r = asInfiniteHorizon(100, 1, 0.1, 4, 1.5, 2);
    expect(r.bid).toBeCloseTo(94.6545784962, 8);
    expect(r.ask).toBeCloseTo(99.3100712851, 8);
  });
  it("estimates sigma^2 online with an EWMA and quotes after warm-up", () => {
    const as = new AvellanedaStoikovStrategy(
      "as",
      (
        createStrategy("avellaneda-stoikov", "x", {
          sigmaLambda: 0.97,
          warmupTicks: 3,
          horizonSeconds: 1,
        }) as AvellanedaStoikovStrategy
      ).config,
    );
    const ctx = new TestContext();
    // mids 100 -> 101 -> 100 -> 102, one second apart: obs 1, 1, 4
    // sigma2 = 1 ; 0.97*1+0.03*1 = 1 ; 0.97*1+0.03*4 = 1.09
    expect(as.onMarket(quote("venue-a", "BTC-USD", "99.99", "100.01", 0), ctx)).toEqual([]);
    as.onMarket(quote("venue-a", "BTC-USD", "100.99", "101.01", 1000), ctx);
    expect(as.sigma2("venue-a", "BTC-USD")).toBeCloseTo(1, 12);
    as.onMarket(quote("venue-a", "BTC-USD", "99.99", "100.01", 2000), ctx);
    expect(as.sigma2("venue-a", "BTC-USD")).toBeCloseTo(1, 12);
    const out = as.onMarket(quote("venue-a", "BTC-USD", "101.99", "102.01", 3000), ctx);
    expect(as.sigma2("venue-a", "BTC-USD")).toBeCloseTo(1.09, 12);
    expect(places(out)).toHaveLength(2);
    // flat inventory: reservation = mid, bid < mid < ask
    expect(new Decimal(px(out, "BUY")[0]!).lt(102)).toBe(true);
    expect(new Decimal(px(out, "SELL")[0]!).gt(102)).toBe(true);
  });
  it("estimates kappa from fill depths once enough fills were seen", () => {
    const as = createStrategy("avellaneda-stoikov", "as", {
      estimateKappa: true,
      kappaMinFills: 2,
      kappa: 1.5,
    }) as AvellanedaStoikovStrategy;
    const ctx = new TestContext();
    ctx.see(quote("venue-a", "BTC-USD", "99.5", "100.5")); // mid 100
    const fill = (px: string) =>
      as.onFill(
        {
          ts: 0,
          orderId: "o",
          venue: "venue-a",
          symbol: "BTC-USD",
          side: "BUY",
          quantity: new Decimal("0.01"),
          price: new Decimal(px),
          fee: new Decimal(0),
          liquidity: "MAKER",
          remainingQuantity: new Decimal(0),
        },
        ctx,
      );
    fill("99.5"); // depth 0.5 -> EWMA 0.5, one fill: configured kappa still used
    expect(as.currentKappa()).toBe(1.5);
    fill("100.5"); // depth 0.5 -> EWMA 0.5 -> kappa = 1/0.5 = 2
    expect(as.currentKappa()).toBeCloseTo(2, 12);
    fill("101"); // depth 1 -> EWMA 0.9*0.5 + 0.1*1 = 0.55 -> kappa = 1.8181818
    expect(as.currentKappa()).toBeCloseTo(1 / 0.55, 12);
  });
  it("shifts the reservation price against inventory", () => {
    const mk = () =>
      createStrategy("avellaneda-stoikov", "as", { warmupTicks: 1, gamma: 0.1, kappa: 1.5, horizonSeconds: 10 });
    const run = (pos: string) => {
      const s = mk();
      const ctx = new TestContext();
      ctx.positions.set("BTC-USD", new Decimal(pos));
      s.onMarket(quote("venue-a", "BTC-USD", "99.99", "100.01", 0), ctx);
      return s.onMarket(quote("venue-a", "BTC-USD", "100.99", "101.01", 1000), ctx);
    };
    const flat = run("0");
    const long = run("0.5");
    expect(new Decimal(px(long, "BUY")[0]!).lt(px(flat, "BUY")[0]!)).toBe(true);
    expect(new Decimal(px(long, "SELL")[0]!).lt(px(flat, "SELL")[0]!)).toBe(true);
  });
});

describe("chaos strategies", () => {
  it("runaway emits 100 orders per tick", () => {
    const s = createStrategy("chaos-runaway", "cr");
    expect(s.onMarket(quote("venue-a", "BTC-USD", "30000", "30001"), new TestContext())).toHaveLength(100);
  });
  it("risk-ignorant doubles down on a denial", () => {
    const s = createStrategy("chaos-risk-ignorant", "ri", { orderQuantity: "1" });
    const ctx = new TestContext();
    const [first] = s.onMarket(quote("venue-a", "BTC-USD", "30000", "30001"), ctx);
    expect(first!.quantity.toFixed()).toBe("1");
    const base = { ts: 0, kind: "DENIED" as const, venue: "venue-a", symbol: "BTC-USD", side: "BUY" as const };
    const [second] = s.onOrderEvent!({ ...base, filledQuantity: new Decimal(0) }, ctx);
    expect(second!.quantity.toFixed()).toBe("2");
    const [third] = s.onOrderEvent!({ ...base, filledQuantity: new Decimal(0) }, ctx);
    expect(third!.quantity.toFixed()).toBe("4");
  });
  it("volatility amplifier trades 2x on a move over 1 %", () => {
    const s = createStrategy("chaos-volatility-amplifier", "va", { orderQuantity: "0.1" });
    const ctx = new TestContext();
    s.onMarket(quote("venue-a", "BTC-USD", "100", "100", 0), ctx);
    expect(s.onMarket(quote("venue-a", "BTC-USD", "100.5", "100.5", 10), ctx)).toEqual([]); // 0.5 %, within interval
    const [o] = s.onMarket(quote("venue-a", "BTC-USD", "101.2", "101.2", 20), ctx); // +1.2 %
    expect(o!.side).toBe("BUY");
    expect(o!.quantity.toFixed()).toBe("0.2");
  });
  it("correlation breaker shorts ETH fully when BTC rises over 2 %", () => {
    const s = createStrategy("chaos-correlation-breaker", "cb");
    const ctx = new TestContext();
    ctx.see(quote("venue-a", "ETH-USD", "2000", "2001"));
    expect(s.onMarket(ctx.see(quote("venue-a", "BTC-USD", "30000", "30000")), ctx)).toEqual([]);
    expect(s.onMarket(ctx.see(quote("venue-a", "BTC-USD", "30500", "30500")), ctx)).toEqual([]); // +1.67 %
    const [o] = s.onMarket(ctx.see(quote("venue-a", "BTC-USD", "30700", "30700")), ctx); // +2.33 %
    expect(o).toMatchObject({ symbol: "ETH-USD", side: "SELL" });
    expect(o!.quantity.toFixed()).toBe("100");
  });
  it("slow leak: error probability min(0.5, n*0.001), deterministic for a seed", () => {
    expect(slowLeakErrorProbability(1)).toBeCloseTo(0.001, 12);
    expect(slowLeakErrorProbability(300)).toBeCloseTo(0.3, 12);
    expect(slowLeakErrorProbability(5000)).toBe(0.5);
    const run = () => {
      const s = createStrategy("chaos-slow-leak", "sl", {}, { rng: seededRng(42) }) as ChaosSlowLeakStrategy;
      const ctx = new TestContext();
      for (let i = 0; i < 1000; i++) s.onMarket(quote("venue-a", "BTC-USD", "30000", "30001", i), ctx);
      return s.errors;
    };
    const a = run();
    expect(a).toBe(run());
    // expected errors = sum_{n=1}^{500} n*0.001 + 500*0.5 = 125.25 + 250 = 375.25 (sd ~ 14)
    expect(a).toBeGreaterThan(320);
    expect(a).toBeLessThan(430);
  });
});
