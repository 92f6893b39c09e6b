import { describe, expect, it } from "vitest";
import { dec } from "../../lib/domain/decimal";
import { InvalidFieldError } from "../../lib/domain/errors";
import { Portfolio } from "../../lib/domain/portfolio";
import {
  APPROVED,
  DEFAULT_RISK_LIMITS,
  parseRiskLimits,
  type RiskContext,
  type RiskDecision,
  RiskEngine,
  riskContextFromPortfolio,
  type TradingStateChange,
} from "../../lib/domain/risk";
import type { OrderIntent } from "../../lib/domain/types";

const T0 = 1_700_000_000_000; // 2023-11-14T22:13:20Z
const MIN = 60_000;

const intent = (o: Partial<OrderIntent> = {}): OrderIntent => ({
  strategyId: "s1",
  venue: "venue-a",
  symbol: "BTC-USD",
  side: "BUY",
  type: "LIMIT",
  timeInForce: "GTC",
  postOnly: false,
  quantity: dec("1"),
  limitPrice: dec("50000"),
  ...o,
});
const ctx = (o: Partial<RiskContext> = {}): RiskContext => ({
  mid: 50_000,
  position: 0,
  strategyNotional: 0,
  portfolioNotional: 0,
  availableQuote: 10_000_000,
  ...o,
});
function denial(d: RiskDecision) {
  if (d.approved) throw new Error("expected a denial, got approval");
  return d.denial;
}

describe("risk limits configuration", () => {
  it("defaults match the desk's limits", () => {
    const L = DEFAULT_RISK_LIMITS;
    expect(L.instruments["BTC-USD"]).toEqual({ maxOrderQty: 5, maxLong: 10, maxShort: 5 });
    expect(L.instruments["ETH-USD"]).toEqual({ maxOrderQty: 100, maxLong: 200, maxShort: 100 });
    expect(L.maxStrategyNotional).toBe(1_000_000);
    expect(L.maxPortfolioNotional).toBe(5_000_000);
    expect(L.dailyLossLimit).toBe(-100_000);
    expect(L.maxDrawdownPct).toBe(0.15);
    expect(L.maxOrdersPerSecond).toBe(20);
    expect(L.priceBandPct).toBe(0.05);
    expect(L.circuitBreakers).toEqual({
      portfolioLossPct: 0.1,
      strategyLoss: 50_000,
      rapidLossPct: 0.05,
      rapidLossWindowMs: 600_000,
      rateLimitBreachesToHalt: 10,
    });
  });
  it("accepts decimal strings and rejects bad values naming key and value", () => {
    expect(parseRiskLimits({ maxStrategyNotional: "250000.5" }).maxStrategyNotional).toBe(250000.5);
    try {
      parseRiskLimits({ maxOrdersPerSecond: -1 });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidFieldError);
      expect((e as InvalidFieldError).field).toBe("riskLimits.maxOrdersPerSecond");
      expect((e as InvalidFieldError).value).toBe(-1);
    }
    expect(() =>
      parseRiskLimits({ instruments: { "BTC-USD": { maxOrderQty: 1, maxLong: "x", maxShort: 1 } } }),
    ).toThrow(/riskLimits.instruments.BTC-USD.maxLong="x"/);
    expect(() => parseRiskLimits({ dailyLossLimit: 100 })).toThrow(/dailyLossLimit=100/);
    expect(() => parseRiskLimits({ nope: 1 })).toThrow(InvalidFieldError);
  });
});

describe("pre-trade checks: every denial names rule, limit and value", () => {
  it("approves a normal order with the shared APPROVED object (no allocation)", () => {
    expect(new RiskEngine().check(intent(), ctx(), T0)).toBe(APPROVED);
  });

  it("invalid-order", () => {
    const d = denial(new RiskEngine().check(intent({ quantity: dec(0) }), ctx(), T0));
    expect(d).toMatchObject({ rule: "invalid-order", limit: "> 0", value: "0", strategyId: "s1", symbol: "BTC-USD" });
    expect(
      denial(
        new RiskEngine().checkOrder(
          { strategyId: "s1", symbol: "BTC-USD", side: "BUY", type: "LIMIT", quantity: 1 },
          ctx(),
          T0,
        ),
      ),
    ).toMatchObject({ rule: "invalid-order", value: "undefined" });
  });

  it("unknown-instrument", () => {
    expect(denial(new RiskEngine().check(intent({ symbol: "XRP-USD" }), ctx(), T0))).toMatchObject({
      rule: "unknown-instrument",
      limit: "configured instrument",
      value: "XRP-USD",
    });
  });

  it("max-order-qty", () => {
    expect(denial(new RiskEngine().check(intent({ quantity: dec(6) }), ctx(), T0))).toMatchObject({
      rule: "max-order-qty",
      limit: "5",
      value: "6",
    });
  });

  it("mark-price: no mid → fail closed", () => {
    expect(denial(new RiskEngine().check(intent(), ctx({ mid: Number.NaN }), T0))).toMatchObject({
      rule: "mark-price",
      limit: "> 0",
      value: "NaN",
    });
  });

  it("price-band: limit price more than 5% from mid", () => {
    const e = new RiskEngine();
    expect(denial(e.check(intent({ limitPrice: dec(53_000) }), ctx(), T0))).toMatchObject({
      rule: "price-band",
      limit: "0.05",
      value: "0.06",
    });
    expect(denial(e.check(intent({ side: "SELL", limitPrice: dec(47_000) }), ctx(), T0))).toMatchObject({
      rule: "price-band",
      value: "0.06",
    });
    expect(e.check(intent({ limitPrice: dec(52_500) }), ctx(), T0)).toBe(APPROVED);
    // Market orders have no limit price: valued at mid, no band.
    expect(e.check(intent({ type: "MARKET", limitPrice: undefined }), ctx(), T0)).toBe(APPROVED);
  });

  it("max-order-notional", () => {
    const e = new RiskEngine({ limits: { maxOrderNotional: 100_000 } });
    expect(denial(e.check(intent({ quantity: dec(3) }), ctx(), T0))).toMatchObject({
      rule: "max-order-notional",
      limit: "100000",
      value: "150000",
    });
  });

  it("max-position-long and max-position-short (BTC-USD +10/−5, ETH-USD +200/−100)", () => {
    const e = new RiskEngine();
    expect(denial(e.check(intent(), ctx({ position: 9.5 }), T0))).toMatchObject({
      rule: "max-position-long",
      limit: "10",
      value: "10.5",
    });
    expect(denial(e.check(intent({ side: "SELL" }), ctx({ position: -4.5 }), T0))).toMatchObject({
      rule: "max-position-short",
      limit: "-5",
      value: "-5.5",
    });
    const eth = { symbol: "ETH-USD", quantity: dec(50), limitPrice: dec(3000) };
    expect(denial(e.check(intent(eth), ctx({ mid: 3000, position: 160 }), T0))).toMatchObject({
      rule: "max-position-long",
      limit: "200",
      value: "210",
    });
    expect(denial(e.check(intent({ ...eth, side: "SELL" }), ctx({ mid: 3000, position: -60 }), T0))).toMatchObject({
      rule: "max-position-short",
      limit: "-100",
      value: "-110",
    });
    // Exactly at the limit is allowed (no float noise), and reducing an over-limit position is allowed.
    expect(e.check(intent({ quantity: dec("0.0001") }), ctx({ position: 9.9999 }), T0)).toBe(APPROVED);
    expect(e.check(intent({ side: "SELL" }), ctx({ position: 12 }), T0)).toBe(APPROVED);
  });

  it("max-strategy-notional ($1M) and max-portfolio-notional ($5M)", () => {
    const e = new RiskEngine();
    expect(denial(e.check(intent(), ctx({ strategyNotional: 980_000 }), T0))).toMatchObject({
      rule: "max-strategy-notional",
      limit: "1000000",
      value: "1030000",
    });
    expect(
      denial(e.check(intent(), ctx({ strategyNotional: 100_000, portfolioNotional: 4_990_000 }), T0)),
    ).toMatchObject({
      rule: "max-portfolio-notional",
      limit: "5000000",
      value: "5040000",
    });
    // A reducing order passes even when already over.
    expect(
      e.check(
        intent({ side: "SELL" }),
        ctx({ position: 2, strategyNotional: 2_000_000, portfolioNotional: 9_000_000 }),
        T0,
      ),
    ).toBe(APPROVED);
  });

  it("daily-loss (−$100k): only risk-reducing orders", () => {
    const e = new RiskEngine();
    expect(denial(e.check(intent(), ctx({ dailyPnl: -100_001 }), T0))).toMatchObject({
      rule: "daily-loss",
      limit: "-100000",
      value: "-100001",
    });
    expect(e.check(intent({ side: "SELL" }), ctx({ dailyPnl: -100_001, position: 1 }), T0)).toBe(APPROVED);
  });

  it("daily-loss tracked from equity marks (same UTC day), reset on the next day", () => {
    const e = new RiskEngine();
    e.markEquity(2_000_000, T0);
    e.markEquity(1_890_000, T0 + 11 * MIN); // −5.5%: outside the 10-minute rapid window, above −10%
    expect(e.tradingState).toBe("ACTIVE");
    expect(e.equityStatus().dailyPnl).toBe(-110_000);
    expect(denial(e.check(intent(), ctx(), T0 + 11 * MIN))).toMatchObject({ rule: "daily-loss", value: "-110000" });
    e.markEquity(1_890_000, T0 + 24 * 60 * MIN);
    expect(e.check(intent(), ctx(), T0 + 24 * 60 * MIN)).toBe(APPROVED);
  });

  it("drawdown (15% from peak)", () => {
    const e = new RiskEngine();
    expect(denial(e.check(intent(), ctx({ drawdownPct: 0.16 }), T0))).toMatchObject({
      rule: "drawdown",
      limit: "0.15",
      value: "0.16",
    });
    // Tracked: peak 2M on day 1, 1.68M on day 3 (−16% from peak, +68% from session start).
    // The day's loss (−320k) is allowed here so the drawdown rule is the one that binds.
    const t = new RiskEngine({ limits: { dailyLossLimit: -1_000_000 } });
    t.markEquity(1_000_000, T0);
    t.markEquity(2_000_000, T0 + 24 * 60 * MIN);
    t.markEquity(1_680_000, T0 + 48 * 60 * MIN);
    expect(t.tradingState).toBe("ACTIVE");
    expect(denial(t.check(intent(), ctx(), T0 + 48 * 60 * MIN))).toMatchObject({ rule: "drawdown", value: "0.16" });
    expect(t.check(intent({ side: "SELL" }), ctx({ position: 1 }), T0 + 48 * 60 * MIN)).toBe(APPROVED);
  });

  it("balance: buy needs quote incl. fee; sells need base only when configured", () => {
    const e = new RiskEngine();
    expect(denial(e.check(intent(), ctx({ availableQuote: 50_000, feeRate: 0.0005 }), T0))).toMatchObject({
      rule: "balance",
      limit: "50000",
      value: "50025",
    });
    expect(e.check(intent({ side: "SELL" }), ctx({ availableQuote: 0 }), T0)).toBe(APPROVED);
    const spot = new RiskEngine({ limits: { requireBaseForSells: true } });
    expect(denial(spot.check(intent({ side: "SELL" }), ctx({ availableBase: 0.5 }), T0))).toMatchObject({
      rule: "balance",
      limit: "0.5",
      value: "1",
    });
  });

  it("order-rate: 20 orders/s per strategy; cancels not counted; window rolls", () => {
    const e = new RiskEngine();
    for (let i = 0; i < 20; i++) expect(e.check(intent(), ctx(), T0 + i)).toBe(APPROVED);
    expect(denial(e.check(intent(), ctx(), T0 + 500))).toMatchObject({ rule: "order-rate", limit: "20", value: "21" });
    expect(e.check(intent({ strategyId: "other" }), ctx(), T0 + 500)).toBe(APPROVED);
    expect(e.check(intent({ cancelOrderId: "o-1" }), ctx(), T0 + 500)).toBe(APPROVED);
    expect(e.check(intent(), ctx(), T0 + 1000)).toBe(APPROVED); // the first order left the window
  });
});

describe("trading state", () => {
  it("HALTED (kill switch) allows only cancels", () => {
    const changes: TradingStateChange[] = [];
    const e = new RiskEngine({ onStateChange: (c) => changes.push(c) });
    e.setTradingState("HALTED", "kill switch", T0);
    expect(denial(e.check(intent(), ctx(), T0))).toMatchObject({
      rule: "trading-state",
      limit: "HALTED",
      value: "BUY 1",
    });
    expect(denial(e.check(intent({ side: "SELL" }), ctx({ position: 1 }), T0)).rule).toBe("trading-state");
    expect(e.check(intent({ cancelOrderId: "x" }), ctx(), T0)).toBe(APPROVED);
    expect(changes).toEqual([
      { scope: "portfolio", from: "ACTIVE", to: "HALTED", rule: "manual", reason: "kill switch", at: T0 },
    ]);
    e.setTradingState("ACTIVE", "resume", T0 + 1);
    expect(e.check(intent(), ctx(), T0 + 1)).toBe(APPROVED);
  });

  it("REDUCING allows only orders that shrink the position without flipping", () => {
    const e = new RiskEngine({ initialState: "REDUCING" });
    expect(e.check(intent({ side: "SELL" }), ctx({ position: 2 }), T0)).toBe(APPROVED);
    expect(denial(e.check(intent(), ctx({ position: 2 }), T0))).toMatchObject({
      rule: "trading-state",
      limit: "REDUCING",
      value: "BUY 1 vs position 2",
    });
    expect(denial(e.check(intent({ side: "SELL", quantity: dec(3) }), ctx({ position: 2 }), T0)).rule).toBe(
      "trading-state",
    );
    expect(denial(e.check(intent(), ctx({ position: 0 }), T0)).rule).toBe("trading-state");
  });

  it("per-strategy state: the stricter of global and strategy applies", () => {
    const e = new RiskEngine();
    e.setTradingState("HALTED", "desk", T0, "s1");
    expect(e.effectiveState("s1")).toBe("HALTED");
    expect(e.effectiveState("s2")).toBe("ACTIVE");
    expect(e.strategyStatesSnapshot()).toEqual({ s1: "HALTED" });
    e.setTradingState("REDUCING", "desk", T0);
    expect(e.effectiveState("s2")).toBe("REDUCING");
    expect(e.effectiveState("s1")).toBe("HALTED");
    e.setTradingState("ACTIVE", "ok", T0, "s1");
    expect(e.effectiveState("s1")).toBe("REDUCING");
  });
});

describe("circuit breakers", () => {
  it("−10% portfolio → HALTED with the reason recorded", () => {
    const e = new RiskEngine();
    e.markEquity(1_000_000, T0);
    expect(e.markEquity(950_000, T0 + 20 * MIN)).toBeUndefined();
    const c = e.markEquity(899_000, T0 + 40 * MIN);
    expect(e.tradingState).toBe("HALTED");
    expect(c).toMatchObject({
      scope: "portfolio",
      from: "ACTIVE",
      to: "HALTED",
      rule: "breaker-portfolio-loss",
      limit: "-0.1",
      value: "-0.101",
    });
    expect(c?.reason).toMatch(/-10.10% from session start/);
    expect(e.stateChanges()).toHaveLength(1);
    // Tripping again changes nothing.
    expect(e.markEquity(800_000, T0 + 60 * MIN)).toBeUndefined();
  });

  it("−5% within 10 minutes → HALTED; the same drop spread over longer does not trip", () => {
    const e = new RiskEngine();
    e.markEquity(1_000_000, T0);
    e.markEquity(1_020_000, T0 + 5 * MIN);
    const c = e.markEquity(968_000, T0 + 9 * MIN);
    expect(c).toMatchObject({ rule: "breaker-rapid-loss", limit: "-0.05", to: "HALTED" });
    expect(Number(c?.value)).toBeCloseTo(-0.05098, 4);
    const slow = new RiskEngine();
    slow.markEquity(1_000_000, T0);
    slow.markEquity(1_020_000, T0 + 1 * MIN);
    slow.markEquity(1_000_000, T0 + 6 * MIN);
    expect(slow.markEquity(968_000, T0 + 12 * MIN)).toBeUndefined();
    expect(slow.tradingState).toBe("ACTIVE");
  });

  it("−$50k per strategy → that strategy HALTED, others keep trading", () => {
    const e = new RiskEngine();
    expect(e.markStrategyPnl("s1", -49_999, T0)).toBeUndefined();
    const c = e.markStrategyPnl("s1", -50_000, T0);
    expect(c).toMatchObject({
      scope: "s1",
      to: "HALTED",
      rule: "breaker-strategy-loss",
      limit: "-50000",
      value: "-50000",
    });
    expect(denial(e.check(intent(), ctx(), T0)).rule).toBe("trading-state");
    expect(e.check(intent({ strategyId: "s2" }), ctx(), T0)).toBe(APPROVED);
    expect(e.tradingState).toBe("ACTIVE");
  });

  it("runaway: 100 intents in one tick are cut by the rate limit and the strategy is HALTED", () => {
    const e = new RiskEngine();
    const rules: string[] = [];
    let approved = 0;
    for (let i = 0; i < 100; i++) {
      const d = e.check(intent({ strategyId: "chaos-runaway", quantity: dec("0.01") }), ctx(), T0);
      if (d.approved) approved++;
      else rules.push(d.denial.rule);
    }
    expect(approved).toBe(20);
    expect(rules.filter((r) => r === "order-rate")).toHaveLength(10);
    expect(rules.filter((r) => r === "trading-state")).toHaveLength(70);
    expect(e.effectiveState("chaos-runaway")).toBe("HALTED");
    expect(e.stateChanges().at(-1)).toMatchObject({ scope: "chaos-runaway", rule: "breaker-rate-limit", to: "HALTED" });
    // Next second: still halted; cancels still pass; other strategies unaffected.
    expect(denial(e.check(intent({ strategyId: "chaos-runaway" }), ctx(), T0 + 5000)).rule).toBe("trading-state");
    expect(e.check(intent({ strategyId: "chaos-runaway", cancelOrderId: "c" }), ctx(), T0 + 5000)).toBe(APPROVED);
    expect(e.check(intent(), ctx(), T0)).toBe(APPROVED);
  });
});

describe("headroom and context", () => {
  it("reports the quantity every limit allows", () => {
    const e = new RiskEngine();
    const h = Object.fromEntries(
      e
        .headroom(
          { strategyId: "s1", symbol: "BTC-USD", side: "BUY" },
          50_000,
          ctx({
            position: 8,
            strategyPosition: 8,
            strategyNotional: 900_000,
            portfolioNotional: 900_000,
            availableQuote: 75_000,
          }),
          T0,
        )
        .map((x) => [x.constraint, x.quantity]),
    );
    expect(h).toEqual({
      "max-order-qty": 5,
      "max-order-notional": 10,
      "max-position-long": 2,
      "max-strategy-notional": 2,
      "max-portfolio-notional": 82,
      balance: 1.5,
    });
    const halted = new RiskEngine({ initialState: "HALTED" });
    expect(halted.headroom({ strategyId: "s1", symbol: "BTC-USD", side: "BUY" }, 50_000, ctx(), T0)[0]).toEqual({
      constraint: "trading-state",
      quantity: 0,
    });
  });

  it("builds a RiskContext from a Portfolio", () => {
    const p = new Portfolio({ initialCash: { USD: "100000" } });
    p.applyFill({
      strategyId: "s1",
      symbol: "BTC-USD",
      venue: "venue-a",
      side: "BUY",
      quantity: "1",
      price: "50000",
      ts: T0,
    });
    p.applyFill({
      strategyId: "s2",
      symbol: "BTC-USD",
      venue: "venue-a",
      side: "SELL",
      quantity: "0.5",
      price: "50000",
      ts: T0,
    });
    p.setMark("BTC-USD", "51000");
    const c = riskContextFromPortfolio(p, "s1", "BTC-USD", { feeRate: 0.0005 });
    expect(c).toEqual({
      mid: 51_000,
      position: 0.5,
      strategyPosition: 1,
      strategyNotional: 51_000,
      portfolioNotional: 76_500,
      availableQuote: 75_000,
      availableBase: 0.5,
      feeRate: 0.0005,
    });
    const again = riskContextFromPortfolio(p, "s2", "BTC-USD", {}, c);
    expect(again).toBe(c);
    expect(again.strategyPosition).toBe(-0.5);
  });
});
