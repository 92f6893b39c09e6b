import Decimal from "decimal.js";
import { describe, expect, it } from "vitest";
import {
  computeMetrics,
  drawdowns,
  equityReturns,
  periodsPerYear,
  sharpeRatio,
  sharpeStandardError,
} from "../../lib/domain/metrics";

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

  it("per-period Sharpe with its Lo (2002) standard error; 3 periods are too few to annualise", () => {
    // mean = 0.2/3 = 0.0666667; deviations 0.0333,-0.1667,0.1333 -> squares sum 0.14/3 = 0.0466667
    // sample var = 0.0466667/2 = 0.0233333 -> sd = 0.1527525; mean/sd = 0.4364358
    // SE = sqrt((1 + 0.4364358^2/2)/3) = sqrt(1.0952381/3) = 0.6042180
    expect(periodsPerYear(DAY)).toBe(365);
    expect(m.perPeriod.sharpe).toBeCloseTo(0.4364358, 6);
    expect(m.perPeriod.standardError).toBeCloseTo(0.604218, 6);
    expect(m.perPeriod).toMatchObject({ periods: 3, meanPeriodMs: DAY });
    expect(m.sharpe).toBeNull();
    expect(m.sortino).toBeNull();
    expect(m.calmar).toBeNull();
    expect(m.annualisedNullReason).toBe("not annualised: the sample has 3 periods (< 30)");
    expect(m.sharpeConvention).toContain("sampled every 1d");
    expect(m.sharpeConvention).toContain("rf = 0");
  });

  it("max drawdown abs and % of the curve", () => {
    // peak 110 -> trough 99: 11 abs, 11/110 = 10 %
    expect(m.maxDrawdown.toString()).toBe("11");
    expect(m.maxDrawdownPct).toBeCloseTo(10, 10);
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

/** Equity ×1.1, ×0.9, ×1.2 repeated: returns 0.1, −0.1, 0.2 (exact), at the given gaps (ms). */
function cycleCurve(gapsMs: readonly number[]) {
  const factors = ["1.1", "0.9", "1.2"];
  const out = [{ ts: 0, equity: D(100) }];
  for (const [i, gap] of gapsMs.entries())
    out.push({ ts: out[i]!.ts + gap, equity: out[i]!.equity.times(factors[i % 3]!) });
  return out;
}
const metricsOf = (equityCurve: { ts: number; equity: Decimal }[], periodMs?: number) =>
  computeMetrics({
    equityCurve,
    fills: [],
    realizedPnl: D(0),
    unrealizedPnl: D(0),
    fees: D(0),
    ...(periodMs !== undefined ? { periodMs } : {}),
  });

describe("annualised ratios only over >= 1 day and >= 30 periods", () => {
  it("33 daily returns: annualised Sharpe, Sortino and Calmar (hand-computed)", () => {
    const m = metricsOf(cycleCurve(Array(33).fill(DAY)), DAY);
    // mean 0.0666667; sample sd (n-1 = 32) of 11 cycles = sqrt(11 x 0.0466667 / 32) = 0.1266557 -> 0.5263614 per period
    // x sqrt(365) = 10.0561196
    expect(m.perPeriod.sharpe).toBeCloseTo(0.5263614, 6);
    expect(m.sharpe).toBeCloseTo(10.0561196, 5);
    // downside deviation sqrt(11 x 0.01 / 33) = 0.0577350 -> 1.1547005 x 19.1049732 = 22.0605228
    expect(m.sortino).toBeCloseTo(22.0605228, 5);
    // annualised mean return 0.0666667 x 365 = 24.333333 ; max drawdown 10 % -> 243.33333
    expect(m.calmar).toBeCloseTo(243.33333, 3);
    expect(m.annualisedNullReason).toBeUndefined();
  });

  it("the period is the samples' real mean spacing, not the nominal one", () => {
    // Gaps alternate 20 h and 28 h (nominal 1 d): mean 85,963,636 ms -> 366.85279 periods/year.
    const gaps = Array.from({ length: 33 }, (_, i) => (i % 2 === 0 ? 20 : 28) * 3_600_000);
    const m = metricsOf(cycleCurve(gaps), DAY);
    expect(m.perPeriod.meanPeriodMs).toBeCloseTo(85_963_636.36, 1);
    expect(m.sharpe).toBeCloseTo(0.5263614 * Math.sqrt(366.8527919), 4);
  });

  it("60 one-second samples (a 60 s session): null with the reason, the per-period figure instead", () => {
    // Real spacing 878..1225 ms as the live session measured.
    const gaps = Array.from({ length: 60 }, (_, i) => 878 + ((i * 97) % 348));
    const m = metricsOf(cycleCurve(gaps), 1000);
    expect(m.sharpe).toBeNull();
    expect(m.sortino).toBeNull();
    expect(m.calmar).toBeNull();
    expect(m.annualisedNullReason).toMatch(/^not annualised: the sample spans 1\.\d min \(< 1 day\)$/);
    expect(m.perPeriod.periods).toBe(60);
    expect(m.perPeriod.sharpe).toBeCloseTo(0.5300494, 6); // 20 cycles: 0.0666667 / sqrt(20 x 0.0466667 / 59)
    expect(m.perPeriod.standardError).toBeCloseTo(sharpeStandardError(m.perPeriod.sharpe!, 60), 12);
    expect(m.perPeriod.meanPeriodMs).toBeGreaterThan(878);
    expect(m.perPeriod.meanPeriodMs).toBeLessThan(1225);
  });

  it("a day of samples but fewer than 30 periods, and both too short: each reason named", () => {
    expect(metricsOf(cycleCurve(Array(12).fill(2 * 3_600_000))).annualisedNullReason).toBe(
      "not annualised: the sample has 12 periods (< 30)",
    );
    expect(metricsOf(cycleCurve(Array(12).fill(60_000))).annualisedNullReason).toBe(
      "not annualised: the sample spans 12.0 min (< 1 day) and has 12 periods (< 30)",
    );
  });
});

describe("Lo (2002) standard error of the Sharpe ratio, IID returns: sqrt((1 + SR^2/2) / n)", () => {
  it("matches the published expression and an independent implementation", () => {
    // By hand: (1 + 0.125)/24 = 0.046875 -> 0.2165064 ; (1 + 0.5)/60 = 0.025 -> 0.1581139 ; 1/30 -> 0.1825742.
    // The same values from jsharpe 0.6.3 (PyPI), sharpe_ratio_variance(SR, T) with Gaussian IID defaults:
    // 0.2165063509461097, 0.158113883008419, 0.1825741858350554, and 0.026760901205552357 for (0.25, 1440).
    expect(sharpeStandardError(0.5, 24)).toBeCloseTo(0.2165063509461097, 14);
    expect(sharpeStandardError(1, 60)).toBeCloseTo(0.158113883008419, 14);
    expect(sharpeStandardError(0, 30)).toBeCloseTo(0.1825741858350554, 14);
    expect(sharpeStandardError(0.25, 1440)).toBeCloseTo(0.026760901205552357, 14);
  });
});
