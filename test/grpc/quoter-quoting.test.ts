// Quoter against real exchange + market-data simulators on loopback: quotes follow the market, inventory skews
// both quotes, refresh tolerance prevents churn, the kill switch clears the book within 1 s.
import { afterEach, describe, expect, it } from "vitest";
import { OrderType, Side } from "../../gen/proto/tse/exchange/exchange";
import { ScenarioType } from "../../gen/proto/tse/marketdata/quotes";
import { watchHalt } from "../support/haltWatch";
import {
  bestOf,
  makeQuoter,
  mmStrategy,
  type QuoterRig,
  SIDE_BUY,
  SIDE_SELL,
  type Sims,
  sleep,
  startSims,
  waitFor,
} from "./quoterHarness";

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function rig(simOpts: Parameters<typeof startSims>[0], quoterOpts: Parameters<typeof makeQuoter>[1]) {
  const sims = await startSims(simOpts);
  cleanup.push(() => sims.stop());
  const r = makeQuoter(sims, quoterOpts);
  cleanup.push(() => r.close());
  return { sims, ...r };
}

function venueMid(sims: Sims): number {
  const q = sims.market.quote("venue-a", "BTC-USD")!;
  return (Number(q.bid) + Number(q.ask)) / 2;
}

async function restingQuotes(r: QuoterRig) {
  const orders = await r.exchange.listOpenOrders({ accountId: r.quoter.accountId });
  return { orders, bid: bestOf(orders, SIDE_BUY), ask: bestOf(orders, SIDE_SELL) };
}

describe("quoter quoting loop", () => {
  it("quotes both sides post-only at several levels and follows price moves", async () => {
    const r = await rig({ liquidity: false }, { strategies: [mmStrategy("mm-follow", { levels: 2, spreadBps: 10 })] });
    await r.quoter.start();
    // Four quotes around the mid read right after them (the simulator ticks every 20 ms, so on a loaded machine a
    // single sample may catch the market a tick ahead of the quotes: wait, bounded, for a consistent pair).
    const before = await waitFor(
      "four resting quotes around the mid",
      async () => {
        const q = await restingQuotes(r);
        const m = venueMid(r.sims);
        return q.orders.length === 4 && q.bid! < m && q.ask! > m ? { ...q, mid: m } : undefined;
      },
      20_000,
    );
    expect(before.orders.every((o) => o.postOnly && o.type === OrderType.LIMIT)).toBe(true);
    const mid0 = before.mid;
    expect(before.bid!).toBeLessThan(mid0);
    expect(before.ask!).toBeGreaterThan(mid0);
    // A rally: +30 bps/s for 2 s moves the market far beyond the 2 bps refresh tolerance.
    r.sims.market.setScenario(ScenarioType.RALLY);
    await sleep(2_000);
    const after = await waitFor(
      "quotes centred on the moved mid",
      async () => {
        const q = await restingQuotes(r);
        const m = venueMid(r.sims);
        return q.bid &&
          q.ask &&
          q.orders.length === 4 &&
          q.bid < m &&
          q.ask > m &&
          Math.abs((q.bid + q.ask) / 2 - m) / m < 0.0005
          ? { ...q, mid: m }
          : undefined;
      },
      20_000,
    );
    expect(after.mid).toBeGreaterThan(mid0 * 1.0015);
    expect(after.bid!).toBeGreaterThan(before.bid!);
    expect(after.ask!).toBeGreaterThan(before.ask!);
    expect(r.quoter.counters.cancelsSent).toBeGreaterThan(0);
  }, 60_000);

  it("inventory skew moves both quotes down when long", async () => {
    const r = await rig(
      { liquidity: false, scenario: ScenarioType.CONSOLIDATION },
      {
        strategies: [
          mmStrategy("mm-skew", { spreadBps: 20, inventorySkewBps: 10, maxPosition: "0.04", refreshToleranceBps: 1 }),
        ],
      },
    );
    await r.quoter.start();
    const offsets = async () =>
      waitFor("both quotes resting", async () => {
        const q = await restingQuotes(r);
        const m = venueMid(r.sims);
        return q.bid && q.ask ? { bid: ((q.bid - m) / m) * 1e4, ask: ((q.ask - m) / m) * 1e4 } : undefined;
      });
    await waitFor("flat quotes", async () => (await restingQuotes(r)).orders.length === 2);
    const flat = await offsets();
    // Another account rests a sell inside our quotes; we buy 0.02 BTC (half of maxPosition) from it as the
    // strategy. The fill reaches the quoter on the real execution stream.
    const m = venueMid(r.sims);
    await r.exchange.placeOrder({
      clientOrderId: `lp-${Date.now()}`,
      accountId: "lp",
      venue: "venue-a",
      symbol: "BTC-USD",
      side: "SELL",
      type: "LIMIT",
      price: (Math.round(m * 1.0001 * 100) / 100).toFixed(2),
      quantity: "0.05",
    });
    await r.exchange.placeOrder({
      clientOrderId: `${r.quoter.sessionPrefix}manual-buy`,
      strategyId: "mm-skew",
      accountId: r.quoter.accountId,
      venue: "venue-a",
      symbol: "BTC-USD",
      side: "BUY",
      type: "MARKET",
      quantity: "0.02",
    });
    await waitFor("inventory applied", () => r.quoter.portfolio.position("mm-skew", "BTC-USD")?.quantity.eq("0.02"));
    await sleep(300);
    const long = await offsets();
    // Half inventory × 10 bps skew = the centre moves 5 bps below mid: both quotes drop by about that much.
    expect(r.quoter.portfolio.position("mm-skew", "BTC-USD")?.quantity.toFixed()).toBe("0.02");
    expect(long.bid).toBeLessThan(flat.bid - 3);
    expect(long.ask).toBeLessThan(flat.ask - 3);
    expect(Side.BUY).toBe(SIDE_BUY);
  }, 20_000);

  it("refresh tolerance prevents churn: far fewer cancels with a wide tolerance on the same market", async () => {
    const sims = await startSims({ liquidity: false, scenario: ScenarioType.SCENARIO_UNSPECIFIED });
    cleanup.push(() => sims.stop());
    const tight = makeQuoter(sims, { strategies: [mmStrategy("mm-tol0", { refreshToleranceBps: 0 })] });
    const wide = makeQuoter(sims, { strategies: [mmStrategy("mm-tol20", { refreshToleranceBps: 20 })] });
    cleanup.push(
      () => tight.close(),
      () => wide.close(),
    );
    await Promise.all([tight.quoter.start(), wide.quoter.start()]);
    await sleep(3_000);
    const c0 = tight.quoter.counters.cancelsSent;
    const c20 = wide.quoter.counters.cancelsSent;
    expect(tight.quoter.counters.ticks).toBeGreaterThan(50);
    expect(c0).toBeGreaterThan(20);
    expect(c20).toBeLessThanOrEqual(Math.max(2, c0 / 10));
    // Same for the exchange: its cancel counter saw (at least) what the quoters sent.
    const counters = await sims.exchange.engine.getCounters();
    expect(Number(counters.cancels)).toBeGreaterThanOrEqual(c0 + c20 - 4);
  }, 20_000);

  it("runs the Avellaneda–Stoikov strategy through the same loop (both sides post-only around mid)", async () => {
    const r = await rig(
      { liquidity: false, scenario: ScenarioType.CONSOLIDATION },
      { strategies: [{ id: "as-1", type: "avellaneda_stoikov", symbols: ["BTC-USD"], venues: ["venue-a"] }] },
    );
    await r.quoter.start();
    const q = await waitFor(
      "A–S quotes",
      async () => {
        const x = await restingQuotes(r);
        return x.bid && x.ask ? x : undefined;
      },
      8_000,
    );
    const m = venueMid(r.sims);
    expect(q.bid!).toBeLessThan(m);
    expect(q.ask!).toBeGreaterThan(m);
    expect(q.orders.every((o) => o.postOnly && o.strategyId === "as-1")).toBe(true);
  }, 15_000);

  it("kill switch (HALTED) cancels every open order within 1 s and stops quoting", async () => {
    const r = await rig({ liquidity: false }, { strategies: [mmStrategy("mm-kill", { levels: 3 })] });
    await r.quoter.start();
    await waitFor("six resting quotes", async () => (await restingQuotes(r)).orders.length === 6, 20_000);
    // The 1 s is measured in the system's clock: from the HALTED commit to the exchange closing the last order
    // that was open at it (haltWatch), not around the test's polls of a loaded machine.
    const watch = watchHalt(r.quoter, r.sims.exchange.engine);
    r.quoter.setTradingState("HALTED", "test kill switch");
    await waitFor("empty book", async () => (await restingQuotes(r)).orders.length === 0, 20_000, 10);
    expect(watch.openAtHalt.length).toBeGreaterThanOrEqual(6);
    expect(watch.closeLatencyMs()).toBeLessThan(1_000);
    const placed = r.quoter.counters.ordersPlaced;
    await sleep(300);
    expect(r.quoter.counters.ordersPlaced).toBe(placed);
    expect((await restingQuotes(r)).orders).toHaveLength(0);
    expect(r.quoter.counters.riskDenials).toBeGreaterThan(0);
  }, 60_000);
  it("sends a replacement quote ahead of the cancels only when it cannot cross an order of ours", async () => {
    // The simulator writes one quote at subscription and then none for 10 min: every later move is ours (onQuote).
    const r = await rig(
      { liquidity: false },
      {
        marketDataIntervalMs: 600_000,
        strategies: [mmStrategy("mm-order", { spreadBps: 10, refreshToleranceBps: 2 })],
      },
    );
    await r.quoter.start();
    const resting = async () => r.exchange.listOpenOrders({ accountId: r.quoter.accountId });
    await waitFor("two quotes around the first tick", async () => ((await resting()).length === 2 ? true : undefined));
    const first = r.quoter.latestQuote("venue-a", "BTC-USD")!;
    const mid0 = (Number(first.bid) + Number(first.ask)) / 2;
    // What the quoter sends, in order (the client calls; the exchange may still serve concurrent calls in another order).
    const sends: string[] = [];
    const place = r.exchange.placeOrder.bind(r.exchange);
    const cancel = r.exchange.cancelOrder.bind(r.exchange);
    r.exchange.placeOrder = (args, o) => {
      sends.push(`place:${args.side === "BUY" ? "bid" : "ask"}`);
      return place(args, o);
    };
    r.exchange.cancelOrder = (ref, o) => {
      sends.push("cancel");
      return cancel(ref, o);
    };
    let seq = 1_000_000;
    // One tick at mid0 × (1 + bps/10 000); waits until its two places are answered and its two cancels confirmed.
    const moveTo = async (bps: number) => {
      const mid = mid0 * (1 + bps / 10_000);
      sends.length = 0;
      const confirmed = r.quoter.counters.cancelsConfirmed;
      r.quoter.onQuote({
        venue: "venue-a",
        symbol: "BTC-USD",
        bid: (mid - 1).toFixed(2),
        ask: (mid + 1).toFixed(2),
        bidSize: "1",
        askSize: "1",
        sequence: ++seq,
        timestamp: Date.now(),
      });
      const c = r.quoter.counters;
      await waitFor(`replacement at +${bps} bps`, async () =>
        sends.length >= 4 &&
        c.cancelsConfirmed >= confirmed + 2 &&
        c.ordersAcked + c.ordersRejected + c.placeErrors === c.ordersPlaced
          ? true
          : undefined,
      );
      return mid;
    };
    // +8 bps: the new bid (≈ old mid + 3 bps) stays below the old ask (+5 bps) → both places go first.
    let mid = await moveTo(8);
    expect(sends.slice(0, 2).sort()).toEqual(["place:ask", "place:bid"]);
    expect(sends.slice(2)).toEqual(["cancel", "cancel"]);
    expect(r.quoter.counters.ordersRejected).toBe(0);
    let book = await resting();
    expect(book).toHaveLength(2);
    expect(bestOf(book, SIDE_BUY)!).toBeLessThan(mid);
    expect(bestOf(book, SIDE_BUY)!).toBeGreaterThan(mid * (1 - 0.0006));
    expect(bestOf(book, SIDE_SELL)!).toBeGreaterThan(mid);
    expect(bestOf(book, SIDE_SELL)!).toBeLessThan(mid * (1 + 0.0006));
    // +20 bps more: the new bid would cross the old ask → it keeps its place after the cancels; the new ask is safe.
    mid = await moveTo(28);
    expect(sends).toEqual(["place:ask", "cancel", "cancel", "place:bid"]);
    book = await resting();
    expect(bestOf(book, SIDE_SELL)!).toBeGreaterThan(mid);
    expect(bestOf(book, SIDE_SELL)!).toBeLessThan(mid * (1 + 0.0006));
  }, 15_000);
});
