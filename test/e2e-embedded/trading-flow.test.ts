// Feature: Complete trading flow works end-to-end with risk monitoring (embedded mode: in-process bus + state).
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

describe("Complete trading flow works end-to-end with risk monitoring (embedded)", () => {
  let w: TradingFlowWorld;

  beforeAll(async () => {
    w = await givenADivergenceSession("embedded", "trading-flow-embedded");
  }, 60_000);

  afterAll(async () => {
    await w?.session.stop("afterAll").catch(() => undefined);
  }, 60_000);

  it("trades, halts on a runaway strategy, and reconciles", async () => {
    await thenRestingQuotesGetFilled(w, 25_000);
    await thenArbitrageFiresAndBothLegsFill(w, 25_000);
    await andTheSessionTradesUntil(w, 15_000);
    const halt = await thenRunawayChaosHaltsWithinOneSecond(w);
    expect(halt.haltMs).toBeLessThanOrEqual(1_000);
    writeFileSync(join(w.session.outDir, "halt.json"), JSON.stringify(halt));
    const r = await whenTheSessionStops(w);
    thenRiskMonitorSawEverythingAndNothingUnchecked(r);
    thenReconciliationDiffIsZero(r);
    thenEveryFillIsSettledAndReconciliationHasNoBreaks(r);
    thenTheReportCoversBothStrategies(r);
  }, 90_000);
});
