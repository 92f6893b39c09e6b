// Multi-currency valuation: a BTC-USDT run valued in USD through a USDT-USD rate (fixed or a quote series)
// equals a hand computation; a currency without a rate is refused at start, naming it.
import { describe, expect, it } from "vitest";
import { BacktestEngine, type BacktestOptions } from "../../lib/backtest/engine/BacktestEngine";
import { Decimal } from "../../lib/domain/decimal";
import { instrumentFromConfig } from "../../lib/domain/instruments";
import { MissingRateError } from "../../lib/domain/portfolio/valuation";
import type { Strategy } from "../../lib/domain/strategies/Strategy";
import type { L1Quote } from "../../lib/domain/types";

const D = (x: string) => new Decimal(x);
const BTC_USDT = instrumentFromConfig({ symbol: "BTC-USDT", tickSize: "0.01", lotSize: "0.0001", minNotional: "10" });
const quote = (ts: number, symbol: string, bid: string, ask: string): L1Quote => ({
  ts,
  venue: "venue-a",
  symbol,
  bid: D(bid),
  ask: D(ask),
  bidSize: D("5"),
  askSize: D("5"),
});

/** Buys 1 BTC with an IOC at the ask on its first BTC-USDT quote. */
function buyOnce(): Strategy {
  let done = false;
  return {
    id: "s1",
    name: "buy-once",
    onMarket: (q) => {
      if (done || q.symbol !== "BTC-USDT") return [];
      done = true;
      return [
        {
          strategyId: "s1",
          venue: "venue-a",
          symbol: "BTC-USDT",
          side: "BUY",
          type: "LIMIT",
          timeInForce: "IOC",
          postOnly: false,
          quantity: D("1"),
          limitPrice: q.ask,
        },
      ];
    },
    onFill: () => [],
    onTimer: () => [],
  };
}

const base = (): BacktestOptions => ({
  strategies: [buyOnce()],
  instruments: [BTC_USDT],
  initialCash: { USDT: "100000" },
  riskLimits: { instruments: { "BTC-USDT": { maxOrderQty: 5, maxLong: 10, maxShort: 5 } } },
});

// Hand computation: buy 1 @ 30001 as taker (fee 0.0005 × 30001 = 15.0005), so
// USDT = 100000 − 30001 − 15.0005 = 69983.9995 and BTC = 1, marked at the last mid (30100+30102)/2 = 30101.
// In USD at 0.999 per USDT: (69983.9995 + 30101) × 0.999 = 100084.9995 × 0.999 = 99984.9145005.
describe("multi-currency valuation", () => {
  it("BTC-USDT with a fixed USDT-USD rate values equity as the hand computation", () => {
    const e = new BacktestEngine({ ...base(), valuation: { rates: { USDT: "0.999" } } });
    e.onQuote(quote(0, "BTC-USDT", "30000", "30001"));
    e.onQuote(quote(1000, "BTC-USDT", "30100", "30102"));
    const r = e.finish();
    expect(r.trades.map((t) => `${t.qty.toFixed()}@${t.price.toFixed()} fee ${t.fee.toFixed()}`)).toEqual([
      "1@30001 fee 15.0005",
    ]);
    expect(r.equityCurve[0]!.equity.toFixed()).toBe("99900"); // 100000 USDT × 0.999 before trading
    expect(r.equityCurve.at(-1)!.equity.toFixed()).toBe("99984.9145005");
    expect(r.valuation).toEqual({ currency: "USD", rates: { USDT: "fixed 0.999", BTC: "mark BTC-USDT × USDT" } });
  });

  it("the rate may come from a USDT-USD quote series in the data (its mid)", () => {
    const e = new BacktestEngine({ ...base(), valuation: { rates: { USDT: { series: "USDT-USD" } } } });
    e.onQuote(quote(0, "USDT-USD", "0.9988", "0.9992")); // mid 0.999
    e.onQuote(quote(0, "BTC-USDT", "30000", "30001"));
    e.onQuote(quote(1000, "BTC-USDT", "30100", "30102"));
    const r = e.finish();
    expect(r.equityCurve.at(-1)!.equity.toFixed()).toBe("99984.9145005");
    expect(r.valuation.rates.USDT).toBe("series USDT-USD");
  });

  it("no equity point is made before the series has a price (never valued at 0)", () => {
    const e = new BacktestEngine({ ...base(), valuation: { rates: { USDT: { series: "USDT-USD" } } } });
    e.onQuote(quote(0, "BTC-USDT", "30000", "30001"));
    e.onQuote(quote(2000, "USDT-USD", "0.9988", "0.9992"));
    e.onQuote(quote(3000, "BTC-USDT", "30100", "30102"));
    const r = e.finish();
    expect(r.equityCurve.map((p) => p.ts)).toEqual([3000]);
    expect(r.equityCurve.every((p) => p.equity.gt(0))).toBe(true);
  });

  it("a run with no USDT rate is refused at start, naming USDT", () => {
    expect(() => new BacktestEngine(base())).toThrow(MissingRateError);
    expect(() => new BacktestEngine(base())).toThrow(/no conversion rate into USD for USDT/);
    // Cash held in a currency no instrument or rate covers is refused too.
    expect(() => new BacktestEngine({ strategies: [buyOnce()], initialCash: { USD: "1", EUR: "5" } })).toThrow(
      /for EUR/,
    );
  });
});
