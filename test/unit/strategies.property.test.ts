// Property tests for the pure maths of strategies and metrics.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Decimal } from "../../lib/domain/decimal";
import { drawdowns } from "../../lib/domain/metrics";
import { asFiniteHorizon, createStrategy, detectArbitrage, mmDesiredQuotes } from "../../lib/domain/strategies";
import type { MarketMakingConfig } from "../../lib/domain/strategies/marketMaking";
import { quote, TestContext } from "./support/strategyContext";

const mmCfg = (spreadBps: number) =>
  (createStrategy("market-making", "p", { spreadBps, minSpreadBps: 0 }) as unknown as { config: MarketMakingConfig })
    .config;

describe("properties", () => {
  it("flat market making is symmetric around mid to within one tick, and never crosses", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 100_000, max: 10_000_000 }), // bid in cents
        fc.integer({ min: 1, max: 500 }), // market spread in cents
        fc.double({ min: 1, max: 100, noNaN: true }), // our spread bps
        (bidC, spreadC, bps) => {
          const bid = bidC / 100;
          const ask = (bidC + spreadC) / 100;
          const qs = mmDesiredQuotes(mmCfg(bps), bid, ask, 0.01, 0, 1);
          const b = qs.find((q) => q.side === "BUY")!.ticks;
          const a = qs.find((q) => q.side === "SELL")!.ticks;
          const midT = (bidC + bidC + spreadC) / 2;
          expect(b).toBeLessThan(bidC + spreadC); // bid below market ask
          expect(a).toBeGreaterThan(bidC); // ask above market bid
          const wantHalf = (midT * bps) / 20_000;
          // unless clamped by the market, each side is the rounded symmetric price
          if (midT - wantHalf < bidC + spreadC - 1) expect(Math.abs(midT - b - wantHalf)).toBeLessThanOrEqual(1 + 1e-6);
          if (midT + wantHalf > bidC + 1) expect(Math.abs(a - midT - wantHalf)).toBeLessThanOrEqual(1 + 1e-6);
        },
      ),
    );
  });

  it("inventory skew moves both quotes against the position (monotone in q)", () => {
    fc.assert(
      fc.property(
        fc.double({ min: -1, max: 1, noNaN: true }),
        fc.double({ min: -1, max: 1, noNaN: true }),
        (q1, q2) => {
          fc.pre(q1 < q2 && q2 < 1 && q1 > -1);
          const cfg = mmCfg(10);
          const at = (q: number) => mmDesiredQuotes(cfg, 29_990, 30_010, 0.01, q, 1);
          const [b1, a1] = [at(q1).find((x) => x.side === "BUY")!, at(q1).find((x) => x.side === "SELL")!];
          const [b2, a2] = [at(q2).find((x) => x.side === "BUY")!, at(q2).find((x) => x.side === "SELL")!];
          expect(b2.ticks).toBeLessThanOrEqual(b1.ticks);
          expect(a2.ticks).toBeLessThanOrEqual(a1.ticks);
        },
      ),
    );
  });

  it("A-S: reservation moves against inventory and the spread is independent of it", () => {
    fc.assert(
      fc.property(
        fc.double({ min: -5, max: 5, noNaN: true }),
        fc.double({ min: 0.001, max: 1, noNaN: true }),
        fc.double({ min: 0.01, max: 100, noNaN: true }),
        fc.double({ min: 0, max: 3600, noNaN: true }),
        (q, gamma, sigma2, tau) => {
          const flat = asFiniteHorizon(100, 0, gamma, sigma2, tau, 1.5);
          const r = asFiniteHorizon(100, q, gamma, sigma2, tau, 1.5);
          // r - s = -q*gamma*sigma2*tau: never on the same side as the inventory
          expect((r.reservation - 100) * q).toBeLessThanOrEqual(0);
          expect(r.spread).toBeCloseTo(flat.spread, 6);
          expect(r.spread).toBeGreaterThan(0);
        },
      ),
    );
  });

  it("arbitrage fires iff the net edge after fees exceeds minSpreadBps", () => {
    const ctx = new TestContext();
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 60 }), (bps) => {
        const askB = 30_000;
        const bidA = (askB * (1 + bps / 10_000)).toFixed(2);
        const sig = detectArbitrage(
          quote("venue-a", "BTC-USD", bidA, "40000"),
          quote("venue-b", "BTC-USD", "1", String(askB)),
          ctx.venues(),
          { minSpreadBps: 10 },
        );
        const net = ((Number(bidA) * (1 - 0.0005) - askB * 1.0005) / askB) * 10_000;
        expect(sig !== null).toBe(net > 10);
      }),
    );
  });

  it("drawdown is non-negative and zero at every new peak", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 1_000_000 }), { minLength: 1, maxLength: 200 }), (eq) => {
        const curve = eq.map((e, i) => ({ ts: i, equity: new Decimal(e) }));
        const dd = drawdowns(curve);
        let peak = 0;
        for (const [i, p] of dd.curve.entries()) {
          expect(p.drawdown.gte(0)).toBe(true);
          if (eq[i]! >= peak) {
            peak = eq[i]!;
            expect(p.drawdown.isZero()).toBe(true);
          }
        }
        expect(dd.maxDrawdownPct).toBeLessThan(100);
      }),
    );
  });
});
