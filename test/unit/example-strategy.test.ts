// Keeps the README's strategy plug-in example honest: it registers, validates its config and trades in a backtest.
import { describe, expect, it } from "vitest";
import "../../examples/strategies/spreadJoiner";
import { runBacktest } from "../../lib/backtest/engine/BacktestEngine";
import { Decimal } from "../../lib/domain/decimal";
import { createStrategy, hasStrategy } from "../../lib/domain/strategies/registry";
import type { L1Quote } from "../../lib/domain/types";

function quote(ts: number, bid: string, ask: string): L1Quote {
  return {
    ts,
    venue: "venue-a",
    symbol: "BTC-USD",
    bid: new Decimal(bid),
    ask: new Decimal(ask),
    bidSize: new Decimal("1"),
    askSize: new Decimal("1"),
  };
}

describe("README example strategy: spread-joiner", () => {
  it("registers under its name", () => {
    expect(hasStrategy("spread-joiner")).toBe(true);
  });

  it("rejects a bad config naming the field and the value", () => {
    expect(() => createStrategy("spread-joiner", "sj-1", { minSpreadBps: -1 })).toThrow(/minSpreadBps.*-1/);
  });

  it("joins the bid only when the spread is wide, and gets filled when the market trades through", () => {
    const s = createStrategy("spread-joiner", "sj-1", { minSpreadBps: 8, orderQuantity: "0.01" });
    const quotes = [
      quote(1_000, "50000.00", "50010.00"), // 2 bps: too tight, nothing
      quote(2_000, "50000.00", "50100.00"), // 20 bps: joins the bid at 50000
      quote(3_000, "49900.00", "49990.00"), // the ask falls through our bid: we are filled
    ];
    const result = runBacktest(quotes, { strategies: [s] });
    expect(result.trades.length).toBe(1);
    expect(result.trades[0]?.side).toBe("BUY");
    expect(result.trades[0]?.price.toFixed()).toBe("50000");
    expect(result.trades[0]?.qty.toFixed()).toBe("0.01");
  });
});
