// The order-rate throttle: a sliding window on the injected clock, and in the backtester's strategy slot
// an honest strategy on a fast feed never trips the rate-limit breaker, while a runaway one still does.
import { describe, expect, it } from "vitest";
import { runBacktest } from "../../lib/backtest/engine/BacktestEngine";
import { DEFAULT_SYNTHETIC_SYMBOLS, syntheticQuotes } from "../../lib/backtest/synthetic";
import { createStrategy } from "../../lib/domain/strategies";
import { IntentThrottle } from "../../lib/engine/IntentThrottle";

describe("IntentThrottle", () => {
  it("allows maxPerWindow sends per sliding window, per key, with the risk engine's window edge", () => {
    const t = new IntentThrottle({ maxPerWindow: 3 });
    expect([0, 100, 200, 300].map((now) => t.tryAcquire("a", now))).toEqual([true, true, true, false]);
    expect(t.tryAcquire("b", 300)).toBe(true); // another key has its own budget
    expect(t.inWindow("a", 300)).toBe(3);
    expect(t.tryAcquire("a", 999)).toBe(false); // 999 − 0 < 1000: still inside
    expect(t.tryAcquire("a", 1000)).toBe(true); // the send at 0 left the window
    expect(t.inWindow("a", 1000)).toBe(3);
    expect(t.tryAcquire("a", 1050)).toBe(false);
    expect(t.tryAcquire("a", 1100)).toBe(true);
  });

  it("refuses a bad budget", () => {
    expect(() => new IntentThrottle({ maxPerWindow: 0 })).toThrow(/maxPerWindow/);
    expect(() => new IntentThrottle({ maxPerWindow: 2, windowMs: 0 })).toThrow(/windowMs/);
  });
});

describe("throttle in the backtester's strategy slot", () => {
  // 500 quotes/s of one book for 10 s, the mid moving by GBM: a re-quoting strategy wants ~1000 orders/s.
  const fast = () =>
    syntheticQuotes({
      seed: 3,
      steps: 5_000,
      stepMs: 2,
      venues: ["venue-a"],
      symbols: [DEFAULT_SYNTHETIC_SYMBOLS[0]!],
      divergenceBps: 0,
      jumpProbability: 0,
      minHalfSpreadBps: 0.5,
      maxHalfSpreadBps: 0.5,
    });
  const as = () => createStrategy("avellaneda-stoikov", "as", { refreshToleranceBps: 0 });

  it("avellaneda-stoikov on a 500 quotes/s feed runs to the end without any breaker", () => {
    const r = runBacktest(fast(), { strategies: [as()] });
    expect(r.risk.events).toEqual([]);
    expect(r.risk.finalState).toBe("ACTIVE");
    expect(r.risk.denials["order-rate"]).toBeUndefined();
    expect(r.ordersThrottled).toBeGreaterThan(0); // the throttle did the pacing
    expect(r.ordersPlaced).toBeLessThanOrEqual(20 * 11); // 20/s budget over ~10 s
  });

  it("without the throttle the same run trips breaker-rate-limit (so the throttle is what prevents it)", () => {
    const r = runBacktest(fast(), { strategies: [as()], throttle: false });
    expect(r.risk.events.map((e) => e.message)).toContainEqual(expect.stringMatching(/^breaker-rate-limit/));
    expect(r.risk.finalState).toBe("HALTED");
  });
});
