// A market-data stream that stalls (stays open, sends nothing) for 10 s: the quoter notices within its staleness
// bound (staleQuoteMs) and pulls its quotes; once data flows again it quotes again. Real simulators on loopback,
// the stall made by a TCP proxy that stops forwarding without closing.
import { afterEach, describe, expect, it } from "vitest";
import { ScenarioType } from "../../gen/proto/tse/marketdata/quotes";
import { startStallProxy } from "../support/stallProxy";
import { makeQuoter, mmStrategy, sleep, startSims, waitFor } from "./quoterHarness";

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
});

describe("quoter: stalled market data", () => {
  it("a 10 s stall pulls every resting quote within the staleness bound; quoting resumes when data flows", async () => {
    const sims = await startSims({ liquidity: false, scenario: ScenarioType.CONSOLIDATION });
    cleanup.push(() => sims.stop());
    const proxy = await startStallProxy(sims.marketDataPort);
    cleanup.push(() => proxy.close());
    const STALE_MS = 1_000;
    const r = makeQuoter(
      { ...sims, marketDataPort: proxy.port },
      {
        strategies: [mmStrategy("mm-stale", { levels: 2 })],
        staleQuoteMs: STALE_MS,
      },
    );
    cleanup.push(() => r.close());
    await r.quoter.start();
    const open = () => r.exchange.listOpenOrders({ accountId: r.quoter.accountId });
    await waitFor("four quotes", async () => (await open()).length === 4);

    proxy.stall();
    const stalledAt = Date.now();
    const ticks = r.quoter.counters.ticks;
    await waitFor("quotes pulled", async () => (await open()).length === 0, STALE_MS + 2_000);
    const pulledAfter = Date.now() - stalledAt;
    // Bound + one timer tick (50 ms) + the cancel round trips, on a loaded 2-core machine.
    expect(pulledAfter).toBeLessThan(STALE_MS + 1_500);
    expect(r.quoter.counters.staleQuoteCancels).toBeGreaterThanOrEqual(4);
    // The rest of the 10 s stall: nothing arrives and nothing is re-quoted.
    const deadline = stalledAt + 10_000;
    while (Date.now() < deadline) {
      expect(await open()).toHaveLength(0);
      await sleep(500);
    }
    expect(r.quoter.counters.ticks - ticks).toBeLessThanOrEqual(2); // at most quotes already in flight

    proxy.resume();
    await waitFor("quoting resumes", async () => (await open()).length === 4, 5_000);
    const res = await r.quoter.stop(3_000);
    expect(res.remaining).toBe(0);
    expect(Number(sims.exchange.engine.getCounters().duplicateOrders)).toBe(0);
  }, 30_000);
});
