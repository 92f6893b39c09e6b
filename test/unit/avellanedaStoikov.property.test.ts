// Avellaneda–Stoikov, infinite horizon: never a NaN or a crossed quote, whatever the inventory (also past q_max)
// and the parameters — in the formula and in what the strategy emits.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Decimal } from "../../lib/domain/decimal";
import { AvellanedaStoikovStrategy, asInfiniteHorizon, createStrategy } from "../../lib/domain/strategies";
import type { AvellanedaStoikovConfig } from "../../lib/domain/strategies/avellanedaStoikov";
import { quote, TestContext } from "./support/strategyContext";

const params = {
  s: fc.double({ min: 1, max: 1e6, noNaN: true }),
  q: fc.double({ min: -50, max: 50, noNaN: true }),
  gamma: fc.double({ min: 1e-4, max: 10, noNaN: true }),
  sigma2: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 1e6, noNaN: true })),
  kappa: fc.double({ min: 1e-2, max: 100, noNaN: true }),
  qMax: fc.double({ min: 1e-3, max: 20, noNaN: true }),
};

describe("asInfiniteHorizon", () => {
  it("the reported cases: ask NaN at q = 1.46 and crossed quotes at q = 2.5 (q_max = 1) no longer happen", () => {
    for (const q of [1.46, 2.5, -1.46, -2.5]) {
      const r = asInfiniteHorizon(100, q, 0.1, 4, 1.5, 1);
      expect(Number.isNaN(r.bid) || Number.isNaN(r.ask)).toBe(false);
      expect(r.bid).toBeLessThan(r.ask);
    }
    // Past q_max the quotes are those at q_max: long at the bound, do not buy (bid −∞), ask finite.
    const atMax = asInfiniteHorizon(100, 1, 0.1, 4, 1.5, 1);
    expect(asInfiniteHorizon(100, 2.5, 0.1, 4, 1.5, 1)).toEqual(atMax);
    expect(atMax.bid).toBe(Number.NEGATIVE_INFINITY);
    expect(Number.isFinite(atMax.ask)).toBe(true);
  });

  it("for every q and parameters: no NaN, a finite ask, bid < ask", () => {
    fc.assert(
      fc.property(params.s, params.q, params.gamma, params.sigma2, params.kappa, params.qMax, (s, q, g, s2, k, qm) => {
        const r = asInfiniteHorizon(s, q, g, s2, k, qm);
        for (const v of [r.bid, r.ask, r.reservation, r.spread]) expect(Number.isNaN(v)).toBe(false);
        expect(Number.isFinite(r.ask)).toBe(true);
        expect(r.bid).toBeLessThan(r.ask);
        // The bid is −∞ only at (or past) the long bound.
        if (!Number.isFinite(r.bid)) expect(q).toBeGreaterThanOrEqual(qm * (1 - 1e-9));
      }),
      { numRuns: 2000 },
    );
  });
});

describe("AvellanedaStoikovStrategy, infinite horizon", () => {
  it("emits only finite, positive, uncrossed post-only prices for every inventory and parameters", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1_000, max: 10_000_000 }), // bid, cents
        fc.integer({ min: 1, max: 500 }), // market spread, cents
        fc.integer({ min: -300, max: 300 }), // mid move between the two quotes, cents
        fc.double({ min: -5, max: 5, noNaN: true }), // inventory
        params.gamma,
        params.kappa,
        fc.double({ min: 0.01, max: 3, noNaN: true }), // maxPosition
        (bidC, spreadC, moveC, q, gamma, kappa, maxPos) => {
          const cfg = (
            createStrategy("avellaneda-stoikov", "as", {
              infiniteHorizon: true,
              warmupTicks: 1,
              gamma,
              kappa,
              maxPosition: maxPos.toFixed(6),
            }) as AvellanedaStoikovStrategy
          ).config as AvellanedaStoikovConfig;
          const as = new AvellanedaStoikovStrategy("as", cfg);
          const ctx = new TestContext();
          ctx.positions.set("BTC-USD", new Decimal(q.toFixed(8)));
          const px = (c: number) => (c / 100).toFixed(2);
          as.onMarket(ctx.see(quote("venue-a", "BTC-USD", px(bidC), px(bidC + spreadC), 0)), ctx);
          const b2 = Math.max(1, bidC + moveC);
          const out = as.onMarket(ctx.see(quote("venue-a", "BTC-USD", px(b2), px(b2 + spreadC), 1000)), ctx);
          const places = out.filter((i) => i.cancelOrderId === undefined);
          for (const i of places) {
            const p = i.limitPrice!;
            expect(p.isFinite() && p.gt(0)).toBe(true);
            if (i.side === "BUY") expect(p.lt(px(b2 + spreadC))).toBe(true);
            else expect(p.gt(px(b2))).toBe(true);
          }
          const buy = places.find((i) => i.side === "BUY")?.limitPrice;
          const sell = places.find((i) => i.side === "SELL")?.limitPrice;
          if (buy && sell) expect(buy.lt(sell)).toBe(true);
          const qn = Number(q.toFixed(8));
          if (qn >= Number(maxPos.toFixed(6))) expect(buy).toBeUndefined();
        },
      ),
      { numRuns: 500 },
    );
  });
});
