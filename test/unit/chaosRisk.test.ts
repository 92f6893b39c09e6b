// The runaway chaos strategy, put through the real RiskEngine, is driven to HALTED by the rate-limit breaker.
import { describe, expect, it } from "vitest";
import { Portfolio } from "../../lib/domain/portfolio";
import { RiskEngine, riskContextFromPortfolio } from "../../lib/domain/risk";
import { createStrategy } from "../../lib/domain/strategies";
import { quote, TestContext } from "./support/strategyContext";

describe("chaos-runaway through the risk engine", () => {
  it("is HALTED by the rate-limit breaker and then only cancels pass", () => {
    const risk = new RiskEngine(); // defaults: 20 orders/s, 10 breaches within 1 s -> HALTED
    const portfolio = new Portfolio({ initialCash: { USD: "1000000" } });
    const ctx = new TestContext();
    const s = createStrategy("chaos-runaway", "runaway");
    const q = ctx.see(quote("venue-a", "BTC-USD", "30000", "30001", 1_000));
    portfolio.markFromQuote(q);
    const intents = s.onMarket(q, ctx);
    expect(intents).toHaveLength(100);
    const decisions = intents.map((i) =>
      risk.check(i, riskContextFromPortfolio(portfolio, i.strategyId, i.symbol), q.ts),
    );
    const approved = decisions.filter((d) => d.approved).length;
    expect(approved).toBe(20);
    const firstDenial = decisions.find((d) => !d.approved);
    expect(firstDenial && !firstDenial.approved && firstDenial.denial).toMatchObject({
      rule: "order-rate",
      limit: "20",
      value: "21",
    });
    expect(risk.strategyState("runaway")).toBe("HALTED");
    expect(risk.effectiveState("runaway")).toBe("HALTED");
    const change = risk.stateChanges().find((c) => c.scope === "runaway");
    expect(change).toMatchObject({ from: "ACTIVE", to: "HALTED", rule: "breaker-rate-limit" });
    // A second later the rate window is clear, but the strategy stays halted.
    const later = s.onMarket(ctx.see(quote("venue-a", "BTC-USD", "30000", "30001", 5_000)), ctx);
    const d = risk.check(later[0]!, riskContextFromPortfolio(portfolio, "runaway", "BTC-USD"), 5_000);
    expect(d.approved).toBe(false);
    expect(!d.approved && d.denial.rule).toBe("trading-state");
    expect(
      risk.check({ ...later[0]!, cancelOrderId: "x" }, riskContextFromPortfolio(portfolio, "runaway", "BTC-USD"), 5_000)
        .approved,
    ).toBe(true);
  });
});
