// The session's report builder (same schema as the backtest report) and its terminal view.
import { describe, expect, it } from "vitest";
import { Decimal } from "../../lib/domain/decimal";
import type { FillRecord } from "../../lib/ports/StateStore";
import type { DenialsByPath } from "../../lib/report/reportSchema";
import { DashboardState } from "../../session/dashboard/DashboardState";
import { buildSessionReport, denialSummary } from "../../session/sessionReport";
import { renderFrame, renderLine, type ViewExtras } from "../../session/terminalView";

const T0 = Date.parse("2026-11-24T10:00:00Z");

function fill(
  i: number,
  strategyId: string,
  side: "BUY" | "SELL",
  price: string,
  realizedPnl: string | null = null,
): FillRecord {
  return {
    executionId: `e${i}`,
    clientOrderId: `c${i}`,
    orderId: `c${i}`,
    strategyId,
    venue: "venue-a",
    symbol: "BTC-USD",
    side,
    quantity: "0.01",
    price,
    fee: "0.13",
    feeAsset: "USD",
    liquidity: strategyId === "mm-1" ? "MAKER" : "TAKER",
    sequence: i,
    ts: T0 + i * 1000,
    realizedPnl,
  };
}

describe("buildSessionReport", () => {
  it("maps fills of every strategy to trades, curves and all metrics, schema-valid", () => {
    const equity = [0, 1, 2, 3].map((k) => ({
      ts: T0 + k * 1000,
      equity: new Decimal(1_000_000 + k * 5 - (k === 2 ? 8 : 0)),
      realized: new Decimal(k * 5),
      unrealized: new Decimal(0),
      fees: new Decimal("0.26"),
    }));
    const r = buildSessionReport({
      runId: "run-1",
      mode: "embedded",
      seed: 1,
      scenario: "DIVERGENCE",
      strategies: ["market-making", "arbitrage"],
      startedAt: T0,
      endedAt: T0 + 4000,
      startingEquity: new Decimal(1_000_000),
      sampleMs: 1000,
      // Out of order on purpose: the report sorts by time.
      fills: [fill(2, "arb-1", "SELL", "64010", "0.1"), fill(1, "mm-1", "BUY", "64000")],
      equity,
      positions: equity.map((p) => ({ ts: p.ts, symbol: "BTC-USD", quantity: new Decimal(0) })),
      risk: {
        finalState: "HALTED",
        denials: { quoter: { "order-rate": 3 }, functions: { "trading-state": 1 } },
        events: [{ ts: T0, kind: "control-api", message: "HALTED" }],
      },
      ticks: 40,
    });
    expect(r.strategy).toBe("market-making,arbitrage");
    expect(r.trades.map((t) => [t.strategyId, t.side, t.liquidity, t.orderId])).toEqual([
      ["mm-1", "BUY", "MAKER", "c1"],
      ["arb-1", "SELL", "TAKER", "c2"],
    ]);
    expect(r.meta).toMatchObject({ runId: "run-1", mode: "embedded", seed: 1, scenario: "DIVERGENCE", ticks: 40 });
    expect(r.equityCurve).toHaveLength(4);
    expect(r.positionCurve).toHaveLength(4);
    expect(r.drawdownCurve?.[2]?.drawdown).toBe("3"); // peak 1 000 005, then 1 000 002
    expect(r.metrics.tradeCount).toBe(2);
    expect(r.metrics.maxDrawdown).toBe("3");
    expect(r.metrics.sharpeConvention).toContain("1s");
    expect(r.risk?.finalState).toBe("HALTED");
    expect(r.risk?.events?.[0]?.ts).toBe("2026-11-24T10:00:00.000Z");
    // Denials by path, then rule: in report.json (schema-checked) and in the summary line.
    expect(r.risk?.denials).toEqual({ quoter: { "order-rate": 3 }, functions: { "trading-state": 1 } });
    expect(denialSummary(r.risk?.denials as DenialsByPath)).toBe("quoter order-rate 3; functions trading-state 1");
    expect(denialSummary({ quoter: {}, functions: {} })).toBe("quoter none; functions none");
  });
});

describe("terminal view", () => {
  const extras: ViewExtras = {
    elapsedS: 12,
    durationS: 60,
    fillsByBook: new Map([["venue-a|BTC-USD", 7]]),
    tradesByStrategy: new Map([
      ["mm-1", 5],
      ["arb-1", 2],
    ]),
    dashboardUrl: "http://127.0.0.1:8088/",
    counts: { ordersAtExchange: 40, withoutRiskCheck: 0, positionChanged: 7, riskReports: 7 },
  };
  const state = new DashboardState({ runId: "run-1", mode: "embedded", scenario: "DIVERGENCE", clock: () => T0 });
  state.recordEquity(T0, "1000010");
  state.setPnl({ total: "10", realized: "12", unrealized: "-1", fees: "1" });
  state.setPositions([{ symbol: "BTC-USD", quantity: "-0.03", strategyId: "mm-1" }]);
  state.setQuote({
    venue: "venue-a",
    symbol: "BTC-USD",
    bid: "64000",
    ask: "64002",
    ourBid: "63970",
    ourAsk: "64035",
    ts: T0,
  });
  state.setRiskState("HALTED", "kill switch");

  it("a TTY frame: per venue+symbol mid, our quotes, fills, position; risk, PnL, checks, alerts", () => {
    const f = renderFrame(state.snapshot(), extras);
    expect(f).toContain("scenario DIVERGENCE  t=12s/60s");
    expect(f).toContain("risk *** HALTED *** (kill switch)");
    expect(f).toMatch(/BTC-USD\s+venue-a\s+64001\.00\s+63970\.00\s+64035\.00\s+7\s+-0\.0300/);
    expect(f).toContain("trades by strategy: mm-1 5, arb-1 2");
    expect(f).toContain("without risk check: 0");
    expect(f).toContain("Trading state ACTIVE \u2192 HALTED: kill switch");
  });

  it("one plain line otherwise", () => {
    expect(renderLine(state.snapshot(), extras)).toBe(
      "t=12s risk=HALTED pnl=10.00 trades[mm-1=5 arb-1=2] open=0 orders=40 unchecked=0 positionChanged=7 riskReports=7",
    );
  });
});
