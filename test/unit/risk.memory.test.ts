// The risk engine's memory: a JSON snapshot restored into a fresh engine decides exactly as the original, the
// daily window resets at the configured UTC boundary, and the state-change history stays bounded.
import { describe, expect, it } from "vitest";
import { dec } from "../../lib/domain/decimal";
import {
  boundWindow,
  type RiskContext,
  type RiskDecision,
  RiskEngine,
  type RiskLimitsInput,
} from "../../lib/domain/risk";
import type { OrderIntent } from "../../lib/domain/types";

const DAY = 86_400_000;
const D0 = Date.UTC(2026, 5, 1); // 00:00 UTC
const intent = (o: Partial<OrderIntent> = {}): OrderIntent => ({
  strategyId: "s1",
  venue: "venue-a",
  symbol: "BTC-USD",
  side: "BUY",
  type: "LIMIT",
  timeInForce: "GTC",
  postOnly: false,
  quantity: dec("0.1"),
  limitPrice: dec("50000"),
  ...o,
});
const ctx: RiskContext = { mid: 50_000, position: 0, strategyNotional: 0, portfolioNotional: 0, availableQuote: 1e7 };
const rule = (d: RiskDecision) => (d.approved ? "approved" : d.denial.rule);
const viaJson = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

describe("risk engine snapshot / restore", () => {
  it("a restored engine (through JSON) decides every later order exactly as the original", () => {
    const limits: RiskLimitsInput = { maxOrdersPerSecond: 3, circuitBreakers: { rateLimitBreachesToHalt: 4 } };
    const a = new RiskEngine({ limits });
    a.markEquity(1_000_000, D0 + 1000);
    a.markEquity(1_010_000, D0 + 2000);
    a.markEquity(990_000, D0 + 3000);
    a.bookRealized(-1_234.5, D0 + 3000);
    for (let i = 0; i < 4; i++) a.check(intent(), ctx, D0 + 3100 + i);
    const snap = viaJson(a.snapshot(D0 + 3200));
    expect(snap.rates.s1?.approvals).toEqual([D0 + 3100, D0 + 3101, D0 + 3102]);
    expect(snap.rates.s1?.breaches).toEqual([D0 + 3103]);
    expect(snap.equity).toMatchObject({
      sessionStart: 1_000_000,
      peak: 1_010_000,
      last: 990_000,
      dayRealized: -1234.5,
    });
    const b = new RiskEngine({ limits });
    b.restore(snap);
    expect(b.equityStatus()).toEqual(a.equityStatus());
    // Same answers for the same sequence: rate denials, the breaker after 4 breaches, then trading-state.
    const seq = [3300, 3400, 3500, 3600, 4200, 4300];
    expect(seq.map((t) => rule(b.check(intent(), ctx, D0 + t)))).toEqual(
      seq.map((t) => rule(a.check(intent(), ctx, D0 + t))),
    );
    expect(b.strategyState("s1")).toBe(a.strategyState("s1"));
    expect(a.strategyState("s1")).toBe("HALTED");
    // The rapid-loss window came along: a further drop trips both the same way.
    expect(b.markEquity(955_000, D0 + 5000)?.rule).toBe(a.markEquity(955_000, D0 + 5000)?.rule);
    expect(a.tradingState).toBe("HALTED");
  });

  it("restoreTradingState sets the states without a change event; restore can keep the engine's own rates", () => {
    const seen: string[] = [];
    const e = new RiskEngine({ limits: { maxOrdersPerSecond: 1 }, onStateChange: (c) => seen.push(c.to) });
    e.restoreTradingState("REDUCING", { mm: "HALTED", arb: "ACTIVE" });
    expect([e.tradingState, e.strategyState("mm"), e.strategyState("arb")]).toEqual(["REDUCING", "HALTED", "ACTIVE"]);
    expect(seen).toEqual([]);
    expect(e.stateChanges()).toEqual([]);
    e.restoreTradingState("ACTIVE", {});
    expect(rule(e.check(intent({ strategyId: "own" }), ctx, D0))).toBe("approved");
    const other = new RiskEngine({ limits: { maxOrdersPerSecond: 1 } });
    other.check(intent({ strategyId: "theirs" }), ctx, D0);
    e.restore(other.snapshot(D0), { equity: false, rates: ["theirs"] });
    expect(rule(e.check(intent({ strategyId: "own" }), ctx, D0 + 1))).toBe("order-rate");
    expect(rule(e.check(intent({ strategyId: "theirs" }), ctx, D0 + 1))).toBe("order-rate");
  });

  it("a bounded window never lowers the rolling max (merging keeps the higher equity, the later time)", () => {
    const pts: [number, number][] = Array.from({ length: 200 }, (_, i) => [i * 1000, 1_000_000 - i * 10]);
    const b = boundWindow(pts, 16);
    expect(b).toHaveLength(16);
    for (let t = 0; t < 200_000; t += 500) {
      const trueMax = Math.max(...pts.filter((p) => p[0] >= t).map((p) => p[1]), -Infinity);
      const boundedMax = Math.max(...b.filter((p) => p[0] >= t).map((p) => p[1]), -Infinity);
      expect(boundedMax).toBeGreaterThanOrEqual(trueMax);
    }
  });
});

describe("daily window reset", () => {
  it("resets at 00:00 UTC by default: the day's loss blocks until the boundary, then trading resumes", () => {
    const e = new RiskEngine({ limits: { dailyLossLimit: -50_000 } });
    e.markEquity(1_000_000, D0 + DAY - 3_600_000); // 23:00
    e.markEquity(940_000, D0 + DAY - 60_000); // 23:59, −60k on the day
    expect(rule(e.check(intent(), ctx, D0 + DAY - 1))).toBe("daily-loss");
    // 00:00:00.001 the next day: no mark yet, and the window has reset (the day starts at the last equity).
    expect(rule(e.check(intent(), ctx, D0 + DAY + 1))).toBe("approved");
    expect(e.equityStatus()).toMatchObject({ dayStart: 940_000, dailyPnl: 0 });
  });

  it("resets at a configured boundary (22:00 UTC), not at midnight; booked realized losses reset too", () => {
    const e = new RiskEngine({ limits: { dailyLossLimit: -50_000, dailyResetUtc: "22:00" } });
    e.markEquity(1_000_000, D0 + 21 * 3_600_000);
    e.bookRealized(-60_000, D0 + 21.5 * 3_600_000);
    expect(rule(e.check(intent(), ctx, D0 + 21.9 * 3_600_000))).toBe("daily-loss");
    expect(rule(e.check(intent(), ctx, D0 + 22.1 * 3_600_000))).toBe("approved");
    e.bookRealized(-60_000, D0 + 23 * 3_600_000);
    // Midnight is not a boundary here: still the same trading day.
    expect(rule(e.check(intent(), ctx, D0 + DAY + 60_000))).toBe("daily-loss");
    expect(rule(e.check(intent(), ctx, D0 + DAY + 22 * 3_600_000 + 1))).toBe("approved");
  });

  it("rejects a malformed boundary naming the field and the value", () => {
    expect(() => new RiskEngine({ limits: { dailyResetUtc: "24:00" } })).toThrow(/dailyResetUtc.*24:00/);
  });
});

describe("state-change history", () => {
  it("keeps only the newest changes", () => {
    const e = new RiskEngine({ maxStateHistory: 10 });
    for (let i = 0; i < 1000; i++) e.setTradingState(i % 2 ? "ACTIVE" : "HALTED", `t${i}`, D0 + i);
    const h = e.stateChanges();
    expect(h).toHaveLength(10);
    expect(h.at(-1)?.reason).toBe("t999");
    expect(h[0]?.reason).toBe("t990");
  });
});
