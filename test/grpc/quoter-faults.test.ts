// Quoter faults on real simulators (loopback): SIGKILL with orders resting, then a restart; the exchange down for
// 10 s while quoting. Each bounded in time.
import { afterEach, describe, expect, it } from "vitest";
import { ScenarioType } from "../../gen/proto/tse/marketdata/quotes";
import { makeQuoter, mmStrategy, sleep, spawnQuoterProcess, startSims, waitFor } from "./quoterHarness";

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
});

describe("quoter faults", () => {
  it("SIGKILL with 8 resting orders: they stay on the exchange; the restarted process finds and cancels them at start-up", async () => {
    const sims = await startSims({ liquidity: false });
    cleanup.push(() => sims.stop());
    const account = `kill-${Date.now().toString(36)}`;
    const env = {
      TSE_QUOTER_SYMBOLS: "BTC-USD",
      TSE_QUOTER_VENUES: "venue-a,venue-b",
      TSE_QUOTER_STRATEGY_PARAMS: JSON.stringify({ levels: 2 }),
      TSE_QUOTER_ACCOUNT: account,
      TSE_QUOTER_MD_INTERVAL_MS: "20",
    };
    const first = await spawnQuoterProcess(sims, env);
    cleanup.push(async () => void (first.child.exitCode === null && first.child.kill("SIGKILL")));
    const r = makeQuoter(sims, { strategies: [] }); // only for its exchange client
    cleanup.push(() => r.close());
    const open = () => r.exchange.listOpenOrders({ accountId: account });
    await waitFor("8 resting quotes", async () => (await open()).length === 8, 10_000);
    first.child.kill("SIGKILL");
    await first.exited;
    const left = await open();
    expect(left.length).toBeGreaterThanOrEqual(8); // nothing canceled them: the process died
    const leftIds = new Set(left.map((o) => o.clientOrderId));

    const second = await spawnQuoterProcess(sims, env);
    cleanup.push(async () => void (second.child.exitCode === null && second.child.kill("SIGKILL")));
    // Start-up reconciliation: every order the dead process left is canceled before the new one quotes.
    await waitFor(
      "the dead process's orders canceled",
      async () => !(await open()).some((o) => leftIds.has(o.clientOrderId)),
      10_000,
    );
    await waitFor("the new process quotes", async () => (await open()).length === 8, 10_000);
    // No executions (empty book): the exchange's inventory for the account is what both processes traded, none.
    expect(sims.exchange.engine.executionsFrom(1).filter((e) => e.accountId === account)).toHaveLength(0);
    second.child.kill("SIGTERM");
    expect(await second.exited, second.stderr()).toBe(0);
    expect(await open()).toHaveLength(0);
  }, 60_000);

  it("exchange down 10 s: no order lost or orphaned, quoting resumes, inventory = the exchange's executions", async () => {
    const sims = await startSims({ liquidity: true, scenario: ScenarioType.CONSOLIDATION });
    cleanup.push(() => sims.stop());
    const r = makeQuoter(sims, { strategies: [mmStrategy("mm-down", { levels: 2 })] });
    cleanup.push(() => r.close());
    await r.quoter.start();
    const open = () => r.exchange.listOpenOrders({ accountId: r.quoter.accountId });
    await waitFor("four quotes", async () => (await open()).length >= 4, 10_000);

    await sims.exchange.stop();
    await sleep(10_000);
    const placedDuringOutage = r.quoter.counters.ordersPlaced;
    await sims.exchange.start(sims.exchangePort);
    await waitFor(
      "quoting resumes",
      () => r.quoter.counters.ordersAcked > 0 && r.quoter.counters.ordersPlaced > placedDuringOutage,
      15_000,
    );
    // Let cancels of unknown-outcome places settle, then compare both sides.
    await waitFor(
      "no orphan: every open order at the exchange is tracked by the quoter",
      async () => {
        const tracked = new Set(r.quoter.openOrders().map((o) => o.clientOrderId));
        const atExchange = await open();
        return atExchange.length > 0 && atExchange.every((o) => tracked.has(o.clientOrderId));
      },
      10_000,
    );
    expect(Number(sims.exchange.engine.getCounters().duplicateOrders)).toBe(0);
    const res = await r.quoter.stop(5_000);
    expect(res.remaining).toBe(0);
    expect(await open()).toHaveLength(0);
    // Inventory: the quoter's position per symbol = the signed sum of the exchange's executions for its account.
    const execs = sims.exchange.engine.executionsFrom(1).filter((e) => e.accountId === r.quoter.accountId);
    let qty = 0;
    for (const e of execs) qty += (e.side === 1 ? 1 : -1) * Number(e.quantity);
    const held = r.quoter
      .positions()
      .filter((p) => p.symbol === "BTC-USD")
      .reduce((a, p) => a + Number(p.quantity), 0);
    expect(r.quoter.counters.fills).toBe(execs.length);
    expect(held).toBeCloseTo(qty, 9);
  }, 60_000);
});
