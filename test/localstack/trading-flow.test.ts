// Feature: Complete trading flow works end-to-end with risk monitoring (LocalStack mode: DynamoDB + EventBridge, rules → SQS taps → the function host).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  andTheSessionTradesUntil,
  givenADivergenceSession,
  type TradingFlowWorld,
  thenArbitrageFiresAndBothLegsFill,
  thenEveryFillIsSettledAndReconciliationHasNoBreaks,
  thenReconciliationDiffIsZero,
  thenRestingQuotesGetFilled,
  thenRiskMonitorSawEverythingAndNothingUnchecked,
  thenRunawayChaosHaltsWithinOneSecond,
  thenTheReportCoversBothStrategies,
  whenTheSessionStops,
} from "../support/tradingFlow";

// Through LocalStack on this host a signal reaches the exchange seconds after its snapshot, so most arbitrage
// pairs see the second IOC leg expire (and hedged); a pair with both legs filled can take a minute to appear.
describe("Complete trading flow works end-to-end with risk monitoring (localstack)", () => {
  let w: TradingFlowWorld;

  beforeAll(async () => {
    w = await givenADivergenceSession("localstack", "trading-flow-localstack");
  }, 60_000);

  afterAll(async () => {
    await w?.session.stop("afterAll").catch(() => undefined);
  }, 60_000);

  it("trades, halts on a runaway strategy, and reconciles", async () => {
    await thenRestingQuotesGetFilled(w, 40_000);
    await thenArbitrageFiresAndBothLegsFill(w, 90_000);
    await andTheSessionTradesUntil(w, 20_000);
    const halt = await thenRunawayChaosHaltsWithinOneSecond(w);
    expect(halt.haltMs).toBeLessThanOrEqual(1_000);
    writeFileSync(join(w.session.outDir, "halt.json"), JSON.stringify(halt));
    const r = await whenTheSessionStops(w);
    thenRiskMonitorSawEverythingAndNothingUnchecked(r);
    thenReconciliationDiffIsZero(r);
    thenEveryFillIsSettledAndReconciliationHasNoBreaks(r);
    thenTheReportCoversBothStrategies(r);
  }, 200_000);
});
