// Reporting's time-window debounce: at most one PositionChanged report per strategy per window, even for a change
// the last report does not include, and the final position and PnL are always reported (next change after the
// window, or the schedule). Its incremental ledger: a report reads only the fills since the last one, and the whole
// ledger when the positions' fill counts say a fill was missed.
import "../support/quietPowertools";
import { describe, expect, it } from "vitest";
import { InMemoryStateStore } from "../../lib/adapters/embedded/InMemoryStateStore";
import { InProcessEventBus } from "../../lib/adapters/embedded/InProcessEventBus";
import { handleReporting, parseReportingInput } from "../../lib/app/reporting";
import { StaticSettingsSource } from "../../lib/app/settings";
import type { BaseDependencies } from "../../lib/app/wiring/base";
import { dec } from "../../lib/domain/decimal";
import { InstrumentRegistry } from "../../lib/domain/instruments";
import { createOrder } from "../../lib/domain/orders";
import { buildBusEvent, toEventBridgeEvent } from "../../lib/events";

const T0 = Date.UTC(2026, 0, 5, 12);
const S = "arb-1";

function world(debounceMs = 10_000) {
  let now = T0;
  const store = new InMemoryStateStore();
  const deps: BaseDependencies = {
    store,
    bus: new InProcessEventBus(),
    settings: new StaticSettingsSource({ reporting: { debounceMs } }),
    instruments: new InstrumentRegistry(),
    clock: () => now,
  };
  let n = 0;
  /** Books one fill at `now` (buy at `price`, or sell) and returns its PositionChanged as EventBridge delivers it. */
  const fill = async (side: "BUY" | "SELL", price: string, ts = now) => {
    const coid = `c-${++n}`;
    const order = createOrder(
      {
        strategyId: S,
        venue: "venue-a",
        symbol: "BTC-USD",
        side,
        type: "LIMIT",
        timeInForce: "IOC",
        postOnly: false,
        quantity: dec("0.1"),
        limitPrice: dec(price),
      },
      { clientOrderId: coid, signalId: `sig-${coid}` },
      now,
    );
    await store.createPendingOrder(order);
    const r = await store.applyFill({
      executionId: `x-${coid}`,
      clientOrderId: coid,
      strategyId: S,
      venue: "venue-a",
      symbol: "BTC-USD",
      side,
      quantity: "0.1",
      price,
      fee: "0.5",
      feeAsset: "USD",
      liquidity: "TAKER",
      ts,
    });
    if (!r.applied) throw new Error(`fill ${coid} not applied`);
    const p = r.position;
    const e = buildBusEvent(
      "tse.engine",
      "PositionChanged",
      {
        strategyId: S,
        venue: p.venue,
        symbol: p.symbol,
        quantity: p.quantity.toFixed(),
        avgEntryPrice: p.averageEntryPrice.toFixed(),
        realizedPnl: p.realizedPnl.toFixed(),
        fees: p.fees.toFixed(),
        version: p.version,
        ts: new Date(now).toISOString(),
      },
      { now, eventId: `pos:${S}:${p.symbol}:v${p.version}` },
    );
    return parseReportingInput(toEventBridgeEvent(e));
  };
  return { store, deps, fill, advance: (ms: number) => (now += ms), now: () => now };
}

/** The windows of the store's fill-ledger reads from now on. */
function recordReads(store: InMemoryStateStore): { from?: number; to?: number }[] {
  const reads: { from?: number; to?: number }[] = [];
  const list = store.listFillsByStrategy.bind(store);
  store.listFillsByStrategy = (id, w) => {
    reads.push(w ?? {});
    return list(id, w);
  };
  return reads;
}

describe("reporting: a time-window debounce", () => {
  it("a burst of changes inside the window makes one report; the schedule then reports the final position and PnL", async () => {
    const { store, deps, fill, advance } = world();
    const first = await handleReporting(await fill("BUY", "30000"), deps);
    expect(first.reports[0]?.report).toBeDefined();
    // Four more fills 1 s apart: each is newer than the last report, and each is debounced.
    for (const [side, px] of [
      ["SELL", "30010"],
      ["BUY", "30005"],
      ["SELL", "30020"],
      ["BUY", "30000"],
    ] as const) {
      advance(1000);
      const out = await handleReporting(await fill(side, px), deps);
      expect(out.reports).toEqual([
        { strategyId: S, skipped: expect.stringMatching(/^debounced: .* waits for the next report or the schedule$/) },
      ]);
    }
    expect(await store.listReports(S)).toHaveLength(1);
    // The schedule (prod: every 5 min) reports whatever the window held back: all five fills, the final PnL.
    advance(60_000);
    const scheduled = await handleReporting({ trigger: "SCHEDULE" }, deps);
    const report = scheduled.reports[0]?.report;
    const pos = await store.getPosition(S, "BTC-USD");
    expect(report?.positionVersions).toEqual({ "BTC-USD": pos?.version });
    // Realized: 10 (first round trip) + 15 (second) over 0.1 = 2.5; fees 5 × 0.5.
    expect(pos?.realizedPnl.toFixed()).toBe("2.5");
    expect(report?.metrics).toMatchObject({ tradeCount: 5, realizedPnl: "2.5", fees: "2.5" });
    expect(await store.getLatestReport(S)).toEqual(report);
  });

  it("the first change after the window reports at once, including every change the window held back", async () => {
    const { store, deps, fill, advance } = world(5000);
    await handleReporting(await fill("BUY", "30000"), deps);
    advance(1000);
    const held = await handleReporting(await fill("SELL", "30010"), deps);
    expect(held.reports[0]?.skipped).toMatch(/^debounced: last report 1000 ms ago v2 waits/);
    advance(5000);
    const out = await handleReporting(await fill("BUY", "30000"), deps);
    expect(out.reports[0]?.report?.metrics).toMatchObject({ tradeCount: 3, realizedPnl: "1", fees: "1.5" });
    expect(await store.listReports(S)).toHaveLength(2);
  });

  it("a window of 0 reports every change; a redelivered change the last report includes is skipped inside the window", async () => {
    const zero = world(0);
    expect((await handleReporting(await zero.fill("BUY", "30000"), zero.deps)).reports[0]?.report).toBeDefined();
    expect((await handleReporting(await zero.fill("SELL", "30010"), zero.deps)).reports[0]?.report).toBeDefined();
    const w = world();
    const change = await w.fill("BUY", "30000");
    await handleReporting(change, w.deps);
    w.advance(10);
    const again = await handleReporting(change, w.deps);
    expect(again.reports[0]?.skipped).toBe("debounced: last report 10 ms ago includes v1");
  });

  it("the fills' sums carry from report to report: a report reads only the fills since the last one", async () => {
    const { store, deps, fill, advance } = world(0);
    const reads = recordReads(store);
    await handleReporting(await fill("BUY", "30000"), deps);
    advance(1000);
    await fill("SELL", "30010");
    await fill("BUY", "30000"); // same time as the one before: counted once, by id
    const out = await handleReporting({ trigger: "SCHEDULE" }, deps);
    expect(reads.map((w) => w.from)).toEqual([undefined, T0]);
    const report = out.reports[0]?.report;
    expect(report?.ledger).toMatchObject({ count: 3, closing: 1, wins: 1, grossProfit: "1", throughTs: T0 + 1000 });
    expect(report?.ledger?.throughIds).toEqual(["x-c-2", "x-c-3"]);
    advance(1000);
    const again = await handleReporting({ trigger: "SCHEDULE" }, deps);
    expect(reads.at(-1)?.from).toBe(T0 + 1000);
    expect(again.reports[0]?.report?.metrics).toMatchObject({ tradeCount: 3, realizedPnl: "1", turnover: "9001" });
  });

  it("a fill booked late with an older time than the last report's newest is still counted: the whole ledger is read", async () => {
    const { store, deps, fill, advance } = world(0);
    await handleReporting(await fill("BUY", "30000"), deps);
    advance(1000);
    await handleReporting(await fill("SELL", "30010"), deps);
    // Booked now, stamped 500 ms before the last report's newest fill: after `from`, so only the full read sees it.
    const reads = recordReads(store);
    advance(1000);
    const out = await handleReporting(await fill("SELL", "30020", T0 + 500), deps);
    expect(reads.map((w) => w.from)).toEqual([T0 + 1000, undefined]);
    expect(out.reports[0]?.report?.metrics).toMatchObject({ tradeCount: 3 });
    expect(out.reports[0]?.report?.ledger?.count).toBe(3);
    const pos = await store.getPosition(S, "BTC-USD");
    expect(out.reports[0]?.report?.metrics).toMatchObject({ realizedPnl: pos?.realizedPnl.toFixed(), fees: "1.5" });
  });
});
