import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Decimal, dec, ZERO } from "../../lib/domain/decimal";
import { Portfolio, type PositionFill, positionToRecord } from "../../lib/domain/portfolio";

const T = 1_700_000_000_000;
const SYMBOLS = ["BTC-USD", "ETH-USD"] as const;

// Quantities in lots (1e-4), prices in ticks (0.01), fees in cents: the shapes real fills have.
const fillArb = fc.record({
  strategy: fc.constantFrom("s1", "s2"),
  symbol: fc.constantFrom(...SYMBOLS),
  side: fc.constantFrom("BUY" as const, "SELL" as const),
  lots: fc.integer({ min: 1, max: 50_000 }),
  ticks: fc.integer({ min: 1, max: 10_000_000 }),
  feeCents: fc.integer({ min: 0, max: 500 }),
});
type F = { strategy: string; symbol: string; side: "BUY" | "SELL"; lots: number; ticks: number; feeCents: number };

const toFill = (x: F, qty?: Decimal, fee?: Decimal): PositionFill => ({
  strategyId: x.strategy,
  symbol: x.symbol,
  venue: "venue-a",
  side: x.side,
  quantity: qty ?? dec(x.lots).div(10_000),
  price: dec(x.ticks).div(100),
  fee: fee ?? dec(x.feeCents).div(100),
  ts: T,
});

const state = (p: Portfolio) => ({
  positions: p.positions().map((x) => {
    const r = positionToRecord(x);
    return { ...r, fillCount: 0, version: 0 };
  }),
  cash: p.snapshot().cash,
  fees: p.snapshot().fees,
  realized: p.realizedPnl().toFixed(),
});

describe("portfolio properties", () => {
  it("splitting a fill into parts gives the same position", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fillArb, fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 5 })), {
          minLength: 1,
          maxLength: 30,
        }),
        (items) => {
          const whole = new Portfolio();
          const split = new Portfolio();
          for (const [x, weights] of items) {
            whole.applyFill(toFill(x));
            // Split lots and fee cents into integer parts that sum exactly to the whole.
            const total = weights.reduce((a, b) => a + b, 0);
            let lotsLeft = x.lots;
            let feeLeft = x.feeCents;
            for (let i = 0; i < weights.length; i++) {
              const last = i === weights.length - 1;
              const lots = last ? lotsLeft : Math.floor((x.lots * weights[i]!) / total);
              const fee = last ? feeLeft : Math.floor((x.feeCents * weights[i]!) / total);
              lotsLeft -= lots;
              feeLeft -= fee;
              if (lots === 0) {
                if (fee > 0) feeLeft += fee; // carry the fee to the next part
                continue;
              }
              split.applyFill(toFill(x, dec(lots).div(10_000), dec(fee).div(100)));
            }
          }
          expect(state(split)).toEqual(state(whole));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("equity change = realized + unrealized − fees (exactly), for any fills and marks", () => {
    fc.assert(
      fc.property(
        fc.array(fillArb, { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 10_000_000 }),
        fc.integer({ min: 1, max: 10_000_000 }),
        (fills, m1, m2) => {
          const p = new Portfolio({ initialCash: { USD: "1000000" } });
          const before = p.equity();
          for (const x of fills) p.applyFill(toFill(x));
          p.setMark("BTC-USD", dec(m1).div(100));
          p.setMark("ETH-USD", dec(m2).div(100));
          const fees = p.fees().get("USD") ?? ZERO;
          const change = p.equity().minus(before);
          expect(change.toFixed()).toBe(p.realizedPnl().plus(p.unrealizedPnl()).minus(fees).toFixed());
          // Per strategy too: Σ netPnl over strategies = equity change.
          const sum = p.strategies().reduce((a, s) => a.plus(p.netPnl(s)), ZERO);
          expect(sum.toFixed()).toBe(change.toFixed());
        },
      ),
      { numRuns: 300 },
    );
  });

  it("a flat position has zero unrealized PnL at any mark, and realized − fees is exactly the cash PnL", () => {
    fc.assert(
      fc.property(
        fc.array(fillArb, { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 10_000_000 }),
        (fills, m) => {
          const p = new Portfolio();
          for (const x of fills) p.applyFill(toFill(x));
          // Flatten every position.
          for (const pos of p.positions()) {
            if (pos.quantity.isZero()) continue;
            p.applyFill({
              strategyId: pos.strategyId,
              symbol: pos.symbol,
              venue: "venue-b",
              side: pos.quantity.isPos() ? "SELL" : "BUY",
              quantity: pos.quantity.abs(),
              price: dec(m).div(100),
              ts: T,
            });
          }
          for (const s of SYMBOLS) p.setMark(s, dec(m).div(50));
          for (const pos of p.positions()) {
            expect(pos.quantity.isZero()).toBe(true);
            expect(pos.costBasis.isZero()).toBe(true);
          }
          expect(p.unrealizedPnl().isZero()).toBe(true);
          const fees = p.fees().get("USD") ?? ZERO;
          expect(p.realizedPnl().minus(fees).toFixed()).toBe(p.cash("USD").toFixed());
        },
      ),
      { numRuns: 300 },
    );
  });

  it("no rounding drift after 100k fills", () => {
    // Seeded random walk of awkward prices (thirds of a tick never divide evenly into averages).
    let seed = 42;
    const rnd = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    const p = new Portfolio({ initialCash: { USD: "10000000" } });
    let ticks = 5_000_000; // 50,000.00
    const N = 100_000;
    const started = performance.now();
    for (let i = 0; i < N; i++) {
      ticks += Math.round((rnd() - 0.5) * 200);
      const lots = 1 + Math.floor(rnd() * 3_000);
      p.applyFill({
        strategyId: i % 3 === 0 ? "s2" : "s1",
        symbol: "BTC-USD",
        venue: "venue-a",
        side: rnd() < 0.5 ? "BUY" : "SELL",
        quantity: dec(lots).div(10_000),
        price: dec(ticks).div(100),
        fee: dec(Math.floor(rnd() * 1000)).div(10_000),
        ts: T + i,
      });
      if (i % 20_000 === 0) {
        p.setMark("BTC-USD", dec(ticks).div(100));
        const fees = p.fees().get("USD") ?? ZERO;
        expect(p.equity().minus("10000000").toFixed()).toBe(
          p.realizedPnl().plus(p.unrealizedPnl()).minus(fees).toFixed(),
        );
      }
    }
    // Close out and compare with the exact cash result.
    for (const pos of p.positions()) {
      if (pos.quantity.isZero()) continue;
      p.applyFill({
        strategyId: pos.strategyId,
        symbol: "BTC-USD",
        venue: "venue-a",
        side: pos.quantity.isPos() ? "SELL" : "BUY",
        quantity: pos.quantity.abs(),
        price: dec(ticks).div(100),
        ts: T + N,
      });
    }
    const elapsed = performance.now() - started;
    const fees = p.fees().get("USD") ?? ZERO;
    expect(p.cash("BTC").isZero()).toBe(true);
    expect(p.realizedPnl().minus(fees).toFixed()).toBe(p.cash("USD").minus("10000000").toFixed());
    // Per-position realized sums to the portfolio total exactly.
    const sum = p.positions().reduce((a, x) => a.plus(x.realizedPnl), ZERO);
    expect(sum.toFixed()).toBe(p.realizedPnl().toFixed());
    expect(elapsed).toBeLessThan(10_000);
  }, 30_000);
});
