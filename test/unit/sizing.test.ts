import { describe, expect, it } from "vitest";
import { InstrumentRegistry } from "../../lib/domain/instruments";
import { type RiskContext, RiskEngine } from "../../lib/domain/risk";
import { sizeOrder } from "../../lib/domain/sizing";

const BTC = new InstrumentRegistry().instrument("BTC-USD");
const T0 = 1_700_000_000_000;
const ctx = (o: Partial<RiskContext> = {}): RiskContext => ({
  mid: 50_000,
  position: 0,
  strategyNotional: 0,
  portfolioNotional: 0,
  availableQuote: 10_000_000,
  ...o,
});
const engine = new RiskEngine();
const headroom = (c: RiskContext, side: "BUY" | "SELL" = "BUY", e = engine) =>
  e.headroom({ strategyId: "s1", symbol: "BTC-USD", side }, 50_000, c, T0);

describe("sizeOrder: min of configured, headroom, volatility target, balance; rounded down to lot", () => {
  it("configured size binds when everything else has room", () => {
    const r = sizeOrder({ instrument: BTC, configuredQty: "0.5", price: "50000", headroom: headroom(ctx()) });
    expect(r.quantity.toFixed()).toBe("0.5");
    expect(r.boundBy).toBe("configured");
  });

  it("position-limit headroom binds (rounded down to the lot)", () => {
    const r = sizeOrder({
      instrument: BTC,
      configuredQty: "1",
      price: "50000",
      headroom: headroom(ctx({ position: 9.56789 })),
    });
    expect(r.boundBy).toBe("max-position-long");
    expect(r.quantity.toFixed()).toBe("0.4321");
    const s = sizeOrder({
      instrument: BTC,
      configuredQty: "1",
      price: "50000",
      headroom: headroom(ctx({ position: -4.8 }), "SELL"),
    });
    expect(s.boundBy).toBe("max-position-short");
    expect(s.quantity.toFixed()).toBe("0.2");
  });

  it("strategy and portfolio notional headroom bind", () => {
    expect(
      sizeOrder({
        instrument: BTC,
        configuredQty: "1",
        price: "50000",
        headroom: headroom(ctx({ strategyNotional: 990_000 })),
      }),
    ).toMatchObject({ boundBy: "max-strategy-notional" });
    const r = sizeOrder({
      instrument: BTC,
      configuredQty: "1",
      price: "50000",
      headroom: headroom(ctx({ strategyNotional: 0, portfolioNotional: 4_985_000 })),
    });
    expect(r.boundBy).toBe("max-portfolio-notional");
    expect(r.quantity.toFixed()).toBe("0.3");
  });

  it("order-qty and order-notional headroom bind", () => {
    expect(sizeOrder({ instrument: BTC, configuredQty: "7", price: "50000", headroom: headroom(ctx()) }).boundBy).toBe(
      "max-order-qty",
    );
    const e = new RiskEngine({ limits: { maxOrderNotional: 60_000 } });
    const r = sizeOrder({ instrument: BTC, configuredQty: "3", price: "50000", headroom: headroom(ctx(), "BUY", e) });
    expect(r).toMatchObject({ boundBy: "max-order-notional" });
    expect(r.quantity.toFixed()).toBe("1.2");
  });

  it("volatility-scaled target: riskBudget / (σ × price)", () => {
    // 1000 / (0.02 × 50000) = 1
    const r = sizeOrder({
      instrument: BTC,
      configuredQty: "3",
      price: "50000",
      volatility: { sigma: 0.02, riskBudget: "1000" },
    });
    expect(r.boundBy).toBe("volatility");
    expect(r.quantity.toFixed()).toBe("1");
    // 1000 / (0.03 × 50000) = 0.6666… → 0.6666 (down)
    expect(
      sizeOrder({
        instrument: BTC,
        configuredQty: "3",
        price: "50000",
        volatility: { sigma: 0.03, riskBudget: "1000" },
      }).quantity.toFixed(),
    ).toBe("0.6666");
    // σ = 0: no volatility constraint.
    expect(
      sizeOrder({ instrument: BTC, configuredQty: "3", price: "50000", volatility: { sigma: 0, riskBudget: "1000" } })
        .boundBy,
    ).toBe("configured");
    expect(() =>
      sizeOrder({ instrument: BTC, configuredQty: "1", price: "1", volatility: { sigma: -1, riskBudget: "1" } }),
    ).toThrow(/volatility.sigma=-1/);
  });

  it("available balance binds, including the fee reserve on buys", () => {
    const r = sizeOrder({
      instrument: BTC,
      configuredQty: "1",
      price: "50000",
      side: "BUY",
      availableBalance: "25000",
      feeRate: "0.0005",
    });
    expect(r.boundBy).toBe("balance");
    expect(r.quantity.toFixed()).toBe("0.4997"); // 25000 / 50025 = 0.49975…
    const s = sizeOrder({ instrument: BTC, configuredQty: "1", price: "50000", side: "SELL", availableBalance: "0.3" });
    expect(s).toMatchObject({ boundBy: "balance" });
    expect(s.quantity.toFixed()).toBe("0.3");
  });

  it("zero when there is no headroom (halted, at the limit, or daily loss)", () => {
    const atLimit = sizeOrder({
      instrument: BTC,
      configuredQty: "1",
      price: "50000",
      headroom: headroom(ctx({ position: 10 })),
    });
    expect(atLimit.quantity.isZero()).toBe(true);
    expect(atLimit.boundBy).toBe("max-position-long");
    const halted = new RiskEngine({ initialState: "HALTED" });
    expect(
      sizeOrder({ instrument: BTC, configuredQty: "1", price: "50000", headroom: headroom(ctx(), "BUY", halted) }),
    ).toMatchObject({
      boundBy: "trading-state",
    });
    const loss = sizeOrder({
      instrument: BTC,
      configuredQty: "1",
      price: "50000",
      headroom: headroom(ctx({ dailyPnl: -200_000 })),
    });
    expect(loss.boundBy).toBe("daily-loss");
    expect(loss.quantity.isZero()).toBe(true);
    // A reducing sell still gets its reducible size under daily loss.
    const reduce = sizeOrder({
      instrument: BTC,
      configuredQty: "1",
      price: "50000",
      headroom: headroom(ctx({ dailyPnl: -200_000, position: 0.25 }), "SELL"),
    });
    expect(reduce.quantity.toFixed()).toBe("0.25");
    expect(reduce.boundBy).toBe("daily-loss");
  });

  it("sizes below one lot round to zero; bad input is a typed error", () => {
    expect(sizeOrder({ instrument: BTC, configuredQty: "0.00009", price: "50000" }).quantity.isZero()).toBe(true);
    expect(() => sizeOrder({ instrument: BTC, configuredQty: "1", price: "0" })).toThrow(/price=0/);
    expect(() => sizeOrder({ instrument: BTC, configuredQty: "-1", price: "1" })).toThrow(/configuredQty=-1/);
  });
});
