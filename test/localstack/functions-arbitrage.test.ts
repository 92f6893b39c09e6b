// Acceptance on LocalStack through the function host (real EventBridge rules → SQS taps → handlers, real
// DynamoDB), simulators on loopback: the arbitrage BDD and the report it leads to.
import "../support/quietPowertools";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildBusEvent } from "../../lib/events";
import { WIDE_BOOKS } from "../support/engineRig";
import { type FunctionsRig, settled, startFunctionsRig, until } from "./functionsHarness";

const T0 = Date.now();
const STRATEGY = "arb-1";
let rig: FunctionsRig;

beforeAll(async () => {
  // No debounce window, so the report after the second fill is not skipped.
  rig = await startFunctionsRig({
    now: T0,
    settings: { arbitrage: { signalTtlMs: 600_000 }, reporting: { debounceMs: 0 } },
  });
});
afterAll(async () => {
  await rig?.stop();
});

describe("functions on LocalStack: arbitrage", () => {
  it("Given 25 bps between venues (threshold 10 bps + fees), a signal leads to two orders, two fills and exact positions", async () => {
    const snapshots = WIDE_BOOKS.map((b, i) =>
      buildBusEvent(
        "tse.market",
        "MarketSnapshot",
        { ...b, sequence: 1, ts: new Date(T0).toISOString() },
        { now: T0 + i },
      ),
    );
    await rig.putEvents(snapshots);
    const position = await until(async () => {
      const p = await rig.store.getPosition(STRATEGY, "BTC-USD");
      return p && p.fillCount === 2 ? p : undefined;
    }, "both fills on the position");
    // The arbitrage round trip: +0.05 on venue-a at 64000, −0.05 on venue-b at 64160, 5 bps taker fee each.
    expect(position.quantity.toFixed()).toBe("0");
    expect(position.realizedPnl.toFixed()).toBe("8");
    expect(position.fees.toFixed()).toBe("3.204");
    expect(position.costBasis.toFixed()).toBe("0");
    expect(position.version).toBe(2);

    const [signal] = await rig.store.listSignalsByStrategy(STRATEGY);
    expect(signal).toMatchObject({ status: "approved", details: { quantity: "0.05" } });
    const orders = await rig.store.listOrdersByStrategy(STRATEGY);
    expect(
      orders
        .map((o) => [
          o.order.venue,
          o.order.side,
          o.order.quantity.toFixed(),
          o.order.status,
          o.order.averageFillPrice?.toFixed(),
        ])
        .sort(),
    ).toEqual([
      ["venue-a", "BUY", "0.05", "filled", "64000"],
      ["venue-b", "SELL", "0.05", "filled", "64160"],
    ]);
    expect(orders.map((o) => o.order.clientOrderId).sort()).toEqual([...(signal?.clientOrderIds ?? [])].sort());
    const fills = await rig.store.listFillsByStrategy(STRATEGY);
    expect(fills.map((f) => [f.venue, f.side, f.quantity, f.price, f.fee]).sort()).toEqual([
      ["venue-a", "BUY", "0.05", "64000", "1.6"],
      ["venue-b", "SELL", "0.05", "64160", "1.604"],
    ]);
    // At the exchange: exactly two orders, both flagged as risk-checked; the risk monitor heard about the position.
    expect(rig.sims.distinctOrders()).toBe(2);
    expect(rig.sims.exchange.engine.getCounters().ordersWithoutRiskCheck).toBe(0);
    expect(rig.sims.risk.status().positionReportsTotal).toBeGreaterThanOrEqual(2);
  });

  it("the PositionChanged events produce a report with the domain metrics, plus an equity point", async () => {
    const report = await until(async () => {
      const r = await rig.store.getLatestReport(STRATEGY);
      return r?.metrics.tradeCount === 2 ? r : undefined;
    }, "the strategy report after both fills");
    expect(report.trigger).toBe("POSITION_CHANGED");
    expect(report.metrics).toMatchObject({
      realizedPnl: "8",
      unrealizedPnl: "0",
      fees: "3.204",
      totalPnl: "4.796",
      maxDrawdown: expect.any(String),
      maxDrawdownPct: expect.any(Number),
      tradeCount: expect.any(Number),
      turnover: expect.any(String),
      sharpeConvention: expect.stringContaining("Sharpe = mean/stdev"),
    });
    expect(Object.keys(report.metrics)).toEqual(
      expect.arrayContaining(["sharpe", "sortino", "calmar", "winRate", "profitFactor", "expectancy", "endingEquity"]),
    );
    const points = await rig.store.listEquityPoints(STRATEGY);
    expect(points.length).toBeGreaterThanOrEqual(1);
    // A direct invocation (as an operator or the schedule would) reports the complete ledger.
    await settled(rig, ["signal", "order-placement", "fill-handling", "reporting"]);
    const out = (await rig.handlers.reporting({ trigger: "DIRECT", strategyId: STRATEGY }, lambdaContext())) as {
      reports: { report?: { metrics: Record<string, unknown> } }[];
    };
    expect(out.reports[0]?.report?.metrics).toMatchObject({
      realizedPnl: "8",
      fees: "3.204",
      totalPnl: "4.796",
      tradeCount: 2,
      turnover: "6408",
      winRate: 1,
      endingEquity: "1000004.796",
    });
    expect(await rig.store.getLatestReport(STRATEGY)).toMatchObject({ trigger: "DIRECT" });
  });
});

function lambdaContext() {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: "reporting",
    functionVersion: "$LATEST",
    invokedFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:reporting",
    memoryLimitInMB: "1024",
    awsRequestId: "direct-1",
    logGroupName: "/aws/lambda/reporting",
    logStreamName: "direct",
    getRemainingTimeInMillis: () => 30_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}
