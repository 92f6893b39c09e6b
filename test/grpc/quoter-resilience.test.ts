// Quoter resilience on real simulators: a restarted market-data simulator resumes quoting without duplicate orders;
// a dropped and restored execution stream loses no fill and applies none twice.
import { afterEach, describe, expect, it } from "vitest";
import { ScenarioType } from "../../gen/proto/tse/marketdata/quotes";
import { MarketDataSimulator } from "../../sim/market-data/MarketDataSimulator";
import { MarketSimulation } from "../../sim/market-data/MarketSimulation";
import { makeQuoter, mmStrategy, sleep, startSims, waitFor } from "./quoterHarness";

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe("quoter resilience", () => {
  it("resumes quoting after the market-data simulator restarts, without duplicate orders", async () => {
    const sims = await startSims({ liquidity: false, scenario: ScenarioType.CONSOLIDATION });
    cleanup.push(() => sims.stop());
    const r = makeQuoter(sims, { strategies: [mmStrategy("mm-mdr", { levels: 2 })] });
    cleanup.push(() => r.close());
    await r.quoter.start();
    const open = () => r.exchange.listOpenOrders({ accountId: r.quoter.accountId });
    await waitFor("four quotes", async () => (await open()).length === 4, 20_000);

    // Restart: a new process on the same port, with its own simulation (sequences start again at 1).
    await sims.marketData.stop();
    // Once the quoter has seen the feed drop, no tick may arrive until the restart (ticks it had already read
    // were counted before that).
    await waitFor("the quoter sees the feed drop", () => !r.quoter.status().marketDataLive, 20_000);
    const ticksDuringOutage = r.quoter.counters.ticks;
    await sleep(300);
    expect(r.quoter.counters.ticks).toBe(ticksDuringOutage);
    expect(r.quoter.status().marketDataLive).toBe(false); // the feed dropped: /ready answers 503
    expect(r.quoter.isReady()).toBe(false);
    const restarted = new MarketDataSimulator({
      quiet: true,
      shutdownTimeoutMs: 300,
      tickMs: 20,
      simulation: new MarketSimulation({ seed: 99, startTimeMs: Date.now(), scenario: ScenarioType.VOLATILITY_SPIKE }),
    });
    await restarted.start(sims.marketDataPort);
    cleanup.push(() => restarted.stop());
    const placedBefore = r.quoter.counters.ordersPlaced;
    await waitFor("ticks from the restarted feed", () => r.quoter.counters.ticks > ticksDuringOutage + 20, 20_000);
    // The restarted feed's volatile prices make the quoter re-quote: quoting resumed.
    await waitFor("re-quotes after the restart", () => r.quoter.counters.ordersPlaced > placedBefore + 4, 20_000);
    // No duplicates: never more than one live resting order per level and side, and no repeated client order id.
    // The exchange simulator and the quoter share this process, so one synchronous read of both is one instant:
    // every order of ours resting at the exchange is one the quoter tracks, and per level and side at most one of
    // them is live (no cancel wanted). How many replaced ones still rest while their cancel is in flight depends on
    // scheduling, not on correctness, so they are not counted.
    let sampledResting = 0;
    for (let i = 0; i < 10; i++) {
      const resting = sims.exchange.engine.listOpenOrders({ accountId: r.quoter.accountId });
      const tracked = new Map(r.quoter.openOrders().map((o) => [o.clientOrderId, o]));
      const liveBySlot = new Map<string, number>();
      for (const o of resting) {
        const t = tracked.get(o.clientOrderId);
        expect(t, `resting order ${o.clientOrderId} is tracked by the quoter`).toBeDefined();
        if (t!.pendingCancel) continue;
        const slot = `${t!.side} ${t!.tag}`;
        liveBySlot.set(slot, (liveBySlot.get(slot) ?? 0) + 1);
      }
      for (const [slot, n] of liveBySlot) expect({ slot, n }).toEqual({ slot, n: 1 });
      expect(liveBySlot.size).toBeLessThanOrEqual(4); // 2 levels × 2 sides
      sampledResting += resting.length;
      await sleep(50);
    }
    expect(sampledResting).toBeGreaterThan(0); // the samples saw quotes, so the check is not vacuous
    const counters = sims.exchange.engine.getCounters();
    expect(Number(counters.duplicateOrders)).toBe(0);
    expect(r.quoter.counters.marketDataReconnects).toBeGreaterThanOrEqual(1);
    const res = await r.quoter.stop(3_000);
    expect(res.remaining).toBe(0);
    expect(await open()).toHaveLength(0);
    // Every order the quoter sent reached the exchange once: one order per client order id.
    expect(Number(sims.exchange.engine.getCounters().ordersReceived)).toBe(r.quoter.counters.ordersPlaced);
  }, 90_000);

  it("drops and restores the execution stream: every fill applied exactly once", async () => {
    const sims = await startSims({ liquidity: true, scenario: ScenarioType.VOLATILITY_SPIKE, seed: 5 });
    cleanup.push(() => sims.stop());
    const r = makeQuoter(sims, {
      strategies: [
        mmStrategy("mm-exec", { spreadBps: 1, minSpreadBps: 0, refreshToleranceBps: 0.5, maxPosition: "5" }),
      ],
    });
    cleanup.push(() => r.close());
    await r.quoter.start();
    await waitFor("first fills", () => r.quoter.counters.fills >= 2, 20_000);
    const seqAtDrop = sims.exchange.engine.lastSequence;
    sims.exchange.setChaos({ downtimeMs: 600 }); // drops open execution streams with UNAVAILABLE
    await waitFor("stream reconnected", () => r.quoter.counters.executionReconnects >= 1, 20_000);
    await waitFor(
      "fills after the outage",
      () => sims.exchange.engine.executionsFrom(seqAtDrop + 1).some((e) => e.accountId === r.quoter.accountId),
      20_000,
    );
    await r.quoter.stop(3_000);
    const mine = sims.exchange.engine.executionsFrom(1).filter((e) => e.accountId === r.quoter.accountId);
    expect(mine.length).toBeGreaterThanOrEqual(3);
    expect(r.quoter.counters.fills).toBe(mine.length);
    expect([...r.quoter.appliedExecutionIds].sort()).toEqual(mine.map((e) => e.executionId).sort());
    // Inventory equals the signed sum of the exchange's executions.
    let net = 0;
    for (const e of mine) net += (e.side === 1 ? 1 : -1) * Number(e.quantity);
    const local = r.quoter.portfolio.position("mm-exec", "BTC-USD")?.quantity.toNumber() ?? 0;
    expect(local).toBeCloseTo(net, 8);
    expect(r.quoter.status().lastAppliedSequence).toBeGreaterThan(seqAtDrop);
  }, 90_000);
});
