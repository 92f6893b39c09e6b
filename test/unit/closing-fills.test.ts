// One definition of a closing fill ("it reduced a position"), used by the backtester, the session report and the
// reporting function: a break-even close counts in the win rate and the expectancy; an opening fill carries null.
import { describe, expect, it } from "vitest";
import { InMemoryStateStore } from "../../lib/adapters/embedded/InMemoryStateStore";
import type { EngineDependencies } from "../../lib/app/dependencies";
import { reportStrategy } from "../../lib/app/reporting";
import { StaticSettingsSource } from "../../lib/app/settings";
import { BacktestEngine } from "../../lib/backtest/engine/BacktestEngine";
import { backtestToReport } from "../../lib/backtest/report";
import { Decimal, dec } from "../../lib/domain/decimal";
import { createOrder } from "../../lib/domain/orders";
import { applyFillToPosition, isClosingFill } from "../../lib/domain/portfolio/position";
import type { Strategy } from "../../lib/domain/strategies/Strategy";
import type { OrderIntent, Side } from "../../lib/domain/types";
import { buildSessionReport } from "../../session/sessionReport";
import { quote } from "./support/strategyContext";

const T0 = Date.UTC(2026, 0, 5, 12);

describe("isClosingFill", () => {
  it("a fill against the position closes; opening, increasing and from-flat fills do not", () => {
    expect(isClosingFill(undefined, true)).toBe(false);
    expect(isClosingFill(new Decimal(0), false)).toBe(false);
    expect(isClosingFill(new Decimal(1), true)).toBe(false);
    expect(isClosingFill(new Decimal(1), false)).toBe(true);
    expect(isClosingFill(new Decimal(-1), true)).toBe(true);
    expect(isClosingFill(new Decimal(-1), false)).toBe(false);
  });

  it("a close at exactly the entry price is a closing fill with realized PnL 0", () => {
    const base = { strategyId: "s", symbol: "BTC-USD", venue: "venue-a", quantity: "1", price: "100", ts: T0 };
    const open = applyFillToPosition(undefined, { ...base, side: "BUY" });
    expect(open.closing).toBe(false);
    const close = applyFillToPosition(open.position, { ...base, side: "SELL" });
    expect(close.closing).toBe(true);
    expect(close.realizedPnlDelta.toFixed()).toBe("0");
  });
});

/** Buys 1 at the ask of the first quote, sells it at the (same) bid of the second: a break-even round trip. */
function breakEvenStrategy(): Strategy {
  let n = 0;
  const ioc = (side: Side, px: string): OrderIntent => ({
    strategyId: "s1",
    venue: "venue-a",
    symbol: "BTC-USD",
    side,
    type: "LIMIT",
    timeInForce: "IOC",
    postOnly: false,
    quantity: new Decimal("0.1"),
    limitPrice: new Decimal(px),
  });
  return {
    id: "s1",
    name: "break-even",
    onMarket: () => {
      n++;
      return n === 1 ? [ioc("BUY", "30001")] : n === 2 ? [ioc("SELL", "30001")] : [];
    },
    onFill: () => [],
    onTimer: () => [],
  };
}

describe("a break-even close counts on every path", () => {
  it("backtester: the opening trade has realizedPnl null, the close 0, win rate 0 over 1 closing trade", () => {
    const e = new BacktestEngine({ strategies: [breakEvenStrategy()] });
    e.onQuote(quote("venue-a", "BTC-USD", "30000", "30001", T0));
    e.onQuote(quote("venue-a", "BTC-USD", "30001", "30002", T0 + 1000));
    const r = e.finish();
    const report = backtestToReport(r, { strategy: "break-even", runId: "t" });
    expect(report.trades.map((t) => t.realizedPnl)).toEqual([null, "0"]);
    expect(report.metrics.winRate).toBe(0);
    expect(report.metrics.expectancy).toBe("0");
  });

  async function roundTripInStore() {
    const store = new InMemoryStateStore();
    for (const [coid, side] of [
      ["c-buy", "BUY"],
      ["c-sell", "SELL"],
    ] as const) {
      const order = createOrder(
        {
          strategyId: "s1",
          venue: "venue-a",
          symbol: "BTC-USD",
          side,
          type: "LIMIT",
          timeInForce: "GTC",
          postOnly: false,
          quantity: dec("0.1"),
          limitPrice: dec("30001"),
        },
        { clientOrderId: coid, signalId: `sig-${coid}` },
        T0,
      );
      await store.createPendingOrder(order);
      await store.applyFill({
        executionId: `x-${coid}`,
        clientOrderId: coid,
        strategyId: "s1",
        venue: "venue-a",
        symbol: "BTC-USD",
        side,
        quantity: "0.1",
        price: "30001",
        fee: "0.5",
        feeAsset: "USD",
        liquidity: "TAKER",
        ts: side === "BUY" ? T0 + 100 : T0 + 200,
      });
    }
    return store;
  }

  it("session report: trade list null then 0, win rate 0 and expectancy 0 over 1 closing trade", async () => {
    const store = await roundTripInStore();
    const fills = await store.listFillsByStrategy("s1");
    expect(fills.map((f) => f.realizedPnl)).toEqual([null, "0"]);
    const eq = (ts: number) => ({ ts, equity: new Decimal(1e6), realized: dec(0), unrealized: dec(0), fees: dec(1) });
    const report = buildSessionReport({
      runId: "r",
      mode: "embedded",
      seed: 1,
      scenario: "CALM",
      strategies: ["break-even"],
      startedAt: T0,
      endedAt: T0 + 1000,
      startingEquity: new Decimal(1e6),
      sampleMs: 1000,
      fills,
      equity: [eq(T0), eq(T0 + 1000)],
      positions: [],
      risk: { finalState: "ACTIVE", denials: { quoter: {}, functions: {} }, events: [] },
    });
    expect(report.trades.map((t) => t.realizedPnl)).toEqual([null, "0"]);
    expect(report.metrics.winRate).toBe(0);
    expect(report.metrics.expectancy).toBe("0");
  });

  it("reporting function: win rate 0 over the break-even close (not null as when only non-zero PnL counted)", async () => {
    const store = await roundTripInStore();
    const deps = { store, settings: new StaticSettingsSource() } as Pick<EngineDependencies, "store" | "settings">;
    const rec = await reportStrategy(deps as EngineDependencies, "s1", "DIRECT", T0 + 5000);
    expect(rec.metrics).toMatchObject({ winRate: 0, expectancy: "0", tradeCount: 2 });
  });
});
