import Decimal from "decimal.js";
import { describe, expect, it } from "vitest";
import { computeMetrics, drawdowns, equityReturns, periodsPerYear, sharpeRatio } from "../../lib/domain/metrics";

const D = (x: number | string) => new Decimal(x);
const DAY = 86_400_000;
const curve = [100, 110, 99, 118.8].map((e, i) => ({ ts: i * DAY, equity: D(e) }));
const fills = [
  { qty: D(1), price: D(100), fee: D("0.1") },
  { qty: D(1), price: D(110), fee: D("0.11"), realizedPnl: D(10) },
  { qty: D(2), price: D(99), fee: D("0.198") },
  { qty: D(1), price: D(95), fee: D("0.095"), realizedPnl: D(-4) },
  { qty: D(1), price: D(101), fee: D("0.101"), realizedPnl: D(2) },
];

describe("performance metrics (hand-computed)", () => {
  const m = computeMetrics({
    equityCurve: curve,
    fills,
    realizedPnl: D(8),
    unrealizedPnl: D("1.5"),
    fees: D("0.604"),
    periodMs: DAY,
  });

  it("returns of the equity curve", () => {
    // 110/100-1 = 0.1 ; 99/110-1 = -0.1 ; 118.8/99-1 = 0.2
    const r = equityReturns(curve);
    expect(r).toHaveLength(3);
    expect(r[0]).toBeCloseTo(0.1, 12);
    expect(r[1]).toBeCloseTo(-0.1, 12);
    expect(r[2]).toBeCloseTo(0.2, 12);
  });

  it("Sharpe annualised with daily periods", () => {
    // mean = 0.2/3 = 0.0666667; deviations 0.0333,-0.1667,0.1333 -> squares sum 0.14/3 = 0.0466667
    // sample var = 0.0466667/2 = 0.0233333 -> sd = 0.1527525; mean/sd = 0.4364358
    // periods/year = 365 -> x sqrt(365)=19.1049732 -> 8.33809
    expect(periodsPerYear(DAY)).toBe(365);
    expect(m.sharpe).toBeCloseTo(8.33809, 4);
    expect(m.sharpeConvention).toContain("sampled every 1d");
    expect(m.sharpeConvention).toContain("rf = 0");
  });

  it("Sortino uses downside deviation over all periods", () => {
    // downside squares: (-0.1)^2 = 0.01 ; /3 = 0.0033333 ; sqrt = 0.0577350
    // 0.0666667/0.0577350 = 1.1547005 ; x 19.1049732 = 22.06052
    expect(m.sortino).toBeCloseTo(22.06052, 3);
  });

  it("max drawdown abs and % and Calmar", () => {
    // peak 110 -> trough 99: 11 abs, 11/110 = 10 %
    expect(m.maxDrawdown.toString()).toBe("11");
    expect(m.maxDrawdownPct).toBeCloseTo(10, 10);
    // annualised mean return 0.0666667*365 = 24.333333 ; / 0.10 = 243.33333
    expect(m.calmar).toBeCloseTo(243.33333, 3);
    const dd = drawdowns(curve);
    expect(dd.curve.map((p) => p.drawdown.toString())).toEqual(["0", "0", "11", "0"]);
  });

  it("trade statistics", () => {
    // closing fills: +10, -4, +2 -> win rate 2/3, profit factor 12/4 = 3, expectancy (12-4)/3 = 2.6667
    expect(m.winRate).toBeCloseTo(2 / 3, 12);
    expect(m.profitFactor).toBe(3);
    expect(m.expectancy.toFixed(4)).toBe("2.6667");
    // turnover 100 + 110 + 2*99 + 95 + 101 = 604
    expect(m.turnover.toString()).toBe("604");
    expect(m.tradeCount).toBe(5);
  });

  it("PnL totals: realized + unrealized - fees", () => {
    // 8 + 1.5 - 0.604 = 8.896
    expect(m.totalPnl.toString()).toBe("8.896");
    expect(m.startingEquity.toString()).toBe("100");
    expect(m.endingEquity.toString()).toBe("118.8");
  });

  it("undefined ratios are null, not Infinity/NaN", () => {
    const flat = computeMetrics({
      equityCurve: [0, 1, 2].map((i) => ({ ts: i * 1000, equity: D(100) })),
      fills: [{ qty: D(1), price: D(10), fee: D(0), realizedPnl: D(1) }],
      realizedPnl: D(1),
      unrealizedPnl: D(0),
      fees: D(0),
      periodMs: 1000,
    });
    expect(flat.sharpe).toBeNull();
    expect(flat.sortino).toBeNull();
    expect(flat.calmar).toBeNull();
    expect(flat.profitFactor).toBeNull(); // no losing trade
    expect(flat.maxDrawdownPct).toBe(0);
    expect(sharpeRatio([0.01], 365)).toBeNull();
  });
});
