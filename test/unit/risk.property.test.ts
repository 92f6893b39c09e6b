import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { dec } from "../../lib/domain/decimal";
import { InstrumentRegistry } from "../../lib/domain/instruments";
import { type RiskContext, RiskEngine } from "../../lib/domain/risk";
import { sizeOrder } from "../../lib/domain/sizing";

const BTC = new InstrumentRegistry().instrument("BTC-USD");
const T0 = 1_700_000_000_000;

const ctxArb = fc.record({
  mid: fc.integer({ min: 40_000, max: 60_000 }),
  position: fc.double({ min: -8, max: 14, noNaN: true }),
  strategyShare: fc.double({ min: 0, max: 1, noNaN: true }),
  strategyNotional: fc.integer({ min: 0, max: 1_200_000 }),
  otherNotional: fc.integer({ min: 0, max: 5_000_000 }),
  availableQuote: fc.integer({ min: 0, max: 2_000_000 }),
  dailyPnl: fc.integer({ min: -200_000, max: 50_000 }),
  drawdownPct: fc.double({ min: 0, max: 0.3, noNaN: true }),
});
type C = typeof ctxArb extends fc.Arbitrary<infer T> ? T : never;
const toCtx = (c: C): RiskContext => ({
  mid: c.mid,
  position: c.position,
  strategyPosition: c.position * c.strategyShare,
  strategyNotional: c.strategyNotional,
  portfolioNotional: c.strategyNotional + c.otherNotional,
  availableQuote: c.availableQuote,
  feeRate: 0.0005,
  dailyPnl: c.dailyPnl,
  drawdownPct: c.drawdownPct,
});

describe("risk engine properties", () => {
  it("an approved order never pushes the net position beyond its limits unless it shrinks it", () => {
    fc.assert(
      fc.property(
        ctxArb,
        fc.constantFrom("BUY" as const, "SELL" as const),
        fc.double({ min: 0.0001, max: 6, noNaN: true }),
        (c, side, qty) => {
          const e = new RiskEngine();
          const ctx = toCtx(c);
          const d = e.checkOrder({ strategyId: "s1", symbol: "BTC-USD", side, type: "MARKET", quantity: qty }, ctx, T0);
          if (!d.approved) {
            expect(d.denial.limit).not.toBe("");
            expect(d.denial.value).not.toBe("");
            return;
          }
          const post = ctx.position + (side === "BUY" ? qty : -qty);
          expect(post <= 10 + 1e-9 || post < ctx.position).toBe(true);
          expect(post >= -5 - 1e-9 || post > ctx.position).toBe(true);
          expect(qty).toBeLessThanOrEqual(5 + 1e-9);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("a size taken from the engine's headroom is approved by the engine (when non-zero)", () => {
    fc.assert(
      fc.property(
        ctxArb,
        fc.constantFrom("BUY" as const, "SELL" as const),
        fc.double({ min: 0.001, max: 8, noNaN: true }),
        (c, side, want) => {
          const e = new RiskEngine();
          const ctx = toCtx(c);
          const sized = sizeOrder({
            instrument: BTC,
            configuredQty: dec(want.toFixed(8)),
            price: c.mid,
            headroom: e.headroom({ strategyId: "s1", symbol: "BTC-USD", side }, c.mid, ctx, T0),
          });
          for (const cand of sized.candidates) expect(sized.quantity.lte(cand.quantity)).toBe(true);
          expect(sized.quantity.mod(BTC.lotSize).isZero()).toBe(true);
          if (sized.quantity.isZero()) return;
          const d = e.checkOrder(
            { strategyId: "s1", symbol: "BTC-USD", side, type: "MARKET", quantity: sized.quantity.toNumber() },
            ctx,
            T0,
          );
          expect(d.approved ? "approved" : d.denial).toBe("approved");
        },
      ),
      { numRuns: 2000 },
    );
  });
});
