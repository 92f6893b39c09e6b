// The four functions' handlers on the in-process adapters (InMemoryStateStore + InProcessEventBus), with the
// exchange, risk-monitor and configuration simulators on loopback gRPC: the arbitrage flow end to end, the
// risk monitor down (fail closed), bad input (typed errors, nothing written) and a report with domain metrics.
import { GrpcExchange } from "../../lib/adapters/GrpcExchange";
import "../support/quietPowertools";
import { afterEach, describe, expect, it } from "vitest";
import { InMemoryStateStore } from "../../lib/adapters/embedded/InMemoryStateStore";
import type { BusDelivery } from "../../lib/adapters/embedded/InProcessEventBus";
import { InProcessEventBus } from "../../lib/adapters/embedded/InProcessEventBus";
import type { EngineDependencies } from "../../lib/app/dependencies";
import { createFunctionHandlers, localContext, registerFunctions } from "../../lib/app/handlers";
import type { EngineSettingsInput } from "../../lib/app/settings";
import { setEngineTradingState } from "../../lib/app/tradingState";
import { ExecutionForwarder } from "../../lib/bridges/ExecutionForwarder";
import { InstrumentRegistry } from "../../lib/domain/instruments";
import { clientOrderIdFor } from "../../lib/domain/orders";
import { buildBusEvent, EventValidationError, toEventBridgeEvent } from "../../lib/events";
import { type EngineRig, startEngineRig, WIDE_BOOKS } from "../support/engineRig";

const T0 = Date.now();
const STRATEGY = "arb-1";

let rig: EngineRig | undefined;
let forwarder: ExecutionForwarder | undefined;
afterEach(async () => {
  await forwarder?.stop();
  forwarder = undefined;
  await rig?.stop();
  rig = undefined;
});

function snapshot(book: (typeof WIDE_BOOKS)[number], sequence: number, ts = T0) {
  return buildBusEvent(
    "tse.market",
    "MarketSnapshot",
    { ...book, sequence, ts: new Date(ts).toISOString() },
    { now: ts, eventId: `snap-${book.venue}-${sequence}` },
  );
}

async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function setup(settings?: EngineSettingsInput) {
  rig = await startEngineRig({ now: T0, ...(settings ? { settings } : {}) });
  const store = new InMemoryStateStore();
  const bus = new InProcessEventBus({ retryDelayMs: () => 5 });
  const published: BusDelivery[] = [];
  bus.tap((e) => published.push(e));
  const deps: EngineDependencies = {
    store,
    bus,
    settings: rig.settings,
    exchange: new GrpcExchange(rig.peers.exchange),
    riskMonitor: rig.peers.risk,
    instruments: new InstrumentRegistry(),
    clock: Date.now,
  };
  const handlers = createFunctionHandlers(deps);
  registerFunctions(bus, handlers);
  forwarder = new ExecutionForwarder({ exchange: new GrpcExchange(rig.peers.exchange), bus });
  forwarder.start();
  return { store, bus, deps, handlers, published, rig };
}

describe("functions on the in-process adapters", () => {
  it("arbitrage: a 25 bps spread becomes a signal, two IOC orders, two fills and a flat position with exact PnL", async () => {
    const { store, bus, handlers, published, rig } = await setup();
    await bus.publish([snapshot(WIDE_BOOKS[0]!, 1), snapshot(WIDE_BOOKS[1]!, 1)]);
    const pos = await until(async () => {
      const p = await store.getPosition(STRATEGY, "BTC-USD");
      return p && p.fillCount === 2 ? p : undefined;
    }, "two fills on the position");
    await bus.whenIdle({ timeoutMs: 5000 });
    // Buy 0.05 on venue-a at 64000, sell 0.05 on venue-b at 64160; taker fee 5 bps on each.
    expect(pos.quantity.toFixed()).toBe("0");
    expect(pos.realizedPnl.toFixed()).toBe("8");
    expect(pos.fees.toFixed()).toBe("3.204");
    const signals = await store.listSignalsByStrategy(STRATEGY);
    expect(signals).toHaveLength(1);
    expect(signals[0]).toMatchObject({ status: "approved" });
    const orders = await store.listOrdersByStrategy(STRATEGY);
    expect(orders.map((o) => [o.order.venue, o.order.side, o.order.quantity.toFixed(), o.order.status]).sort()).toEqual(
      [
        ["venue-a", "BUY", "0.05", "filled"],
        ["venue-b", "SELL", "0.05", "filled"],
      ],
    );
    expect(rig.distinctOrders()).toBe(2);
    expect(rig.exchange.engine.getCounters().ordersWithoutRiskCheck).toBe(0);
    expect(rig.risk.status().positionReportsTotal).toBeGreaterThanOrEqual(2);
    const types = published.map((e) => e["detail-type"]);
    expect(types.filter((t) => t === "SignalGenerated")).toHaveLength(1);
    expect(types.filter((t) => t === "OrderPlaced")).toHaveLength(2);
    expect(types.filter((t) => t === "ExecutionReported")).toHaveLength(2);
    expect(types.filter((t) => t === "PositionChanged")).toHaveLength(2);
    // PositionChanged reached reporting, which produced a report from the ledger; the second leg's change may fall in
    // the debounce window, and the schedule reports the final state.
    await until(() => store.getLatestReport(STRATEGY), "a report");
    expect(types).toContain("ReportGenerated");
    await bus.whenIdle({ timeoutMs: 5000 });
    await handlers.reporting({ trigger: "SCHEDULE" }, localContext("reporting"));
    const report = await store.getLatestReport(STRATEGY);
    expect(report?.metrics).toMatchObject({ realizedPnl: "8", fees: "3.204", totalPnl: "4.796", tradeCount: 2 });
  });

  it("leg risk: the sell leg finds no bid at its limit and expires, so the filled buy is hedged at market", async () => {
    const { store, bus, rig } = await setup();
    // The exchange's venue-b book is lower than the snapshot said: the IOC sell at 64160 cannot fill.
    rig.setBooks([{ venue: "venue-b", symbol: "BTC-USD", bid: "64050", ask: "64060", bidSize: "1", askSize: "1" }]);
    await bus.publish([snapshot(WIDE_BOOKS[0]!, 1), snapshot(WIDE_BOOKS[1]!, 1)]);
    const pos = await until(async () => {
      const p = await store.getPosition(STRATEGY, "BTC-USD");
      return p && p.fillCount === 2 ? p : undefined;
    }, "the buy fill and the hedge fill");
    await bus.whenIdle({ timeoutMs: 5000 });
    expect(pos.quantity.toFixed()).toBe("0");
    // Bought 0.05 at 64000 on venue-a, hedged by selling 0.05 at market on venue-b (best bid 64050).
    expect(pos.realizedPnl.toFixed()).toBe("2.5");
    const [signal] = await store.listSignalsByStrategy(STRATEGY);
    const orders = await store.listOrdersByStrategy(STRATEGY);
    const byCoid = new Map(orders.map((o) => [o.order.clientOrderId, o.order]));
    expect(byCoid.get(clientOrderIdFor(signal!.signalId, 0))?.status).toBe("filled");
    expect(byCoid.get(clientOrderIdFor(signal!.signalId, 1))?.status).toBe("expired");
    const hedge = byCoid.get(clientOrderIdFor(signal!.signalId, 2));
    expect(hedge).toMatchObject({ side: "SELL", type: "MARKET", venue: "venue-b", status: "filled" });
    expect(rig.distinctOrders()).toBe(3);
  });

  it("risk monitor down: no order reaches the exchange and the signal is recorded as denied with the reason", async () => {
    const { store, bus, published, rig } = await setup();
    await rig.risk.stop();
    await bus.publish([snapshot(WIDE_BOOKS[0]!, 1), snapshot(WIDE_BOOKS[1]!, 1)]);
    const signal = await until(async () => (await store.listSignalsByStrategy(STRATEGY))[0], "the signal decision");
    await bus.whenIdle({ timeoutMs: 5000 });
    expect(signal.status).toBe("denied");
    expect(signal.rule).toBe("risk-monitor-unavailable");
    expect(signal.reason).toMatch(/risk monitor unavailable \(fail-closed\)/);
    expect(rig.distinctOrders()).toBe(0);
    expect(await store.listOrdersByStrategy(STRATEGY)).toEqual([]);
    const denied = published.find((e) => e["detail-type"] === "OrderDenied");
    expect(denied).toBeDefined();
    expect((denied?.detail as { data: { rule: string } } | undefined)?.data.rule).toBe("risk-monitor-unavailable");
  });

  it("kill switch: a persisted HALTED state denies the signal (rule, limit, value) and no order reaches the exchange", async () => {
    const { store, bus, published, rig } = await setup();
    await setEngineTradingState(store, { state: "HALTED", reason: "operator kill switch", at: T0, source: "test" });
    await bus.publish([snapshot(WIDE_BOOKS[0]!, 1), snapshot(WIDE_BOOKS[1]!, 1)]);
    const signal = await until(async () => (await store.listSignalsByStrategy(STRATEGY))[0], "the signal decision");
    await bus.whenIdle({ timeoutMs: 5000 });
    expect(signal).toMatchObject({ status: "denied", rule: "trading-state" });
    expect(signal.reason).toMatch(/HALTED.*limit HALTED, value 2 new order leg\(s\).*operator kill switch/);
    expect(rig.distinctOrders()).toBe(0);
    expect(await store.listOrdersByStrategy(STRATEGY)).toEqual([]);
    const denied = published.find((e) => e["detail-type"] === "OrderDenied");
    expect((denied?.detail as { data: { rule: string } } | undefined)?.data.rule).toBe("trading-state");
  });

  it("a strategy set to REDUCING gets no risk-increasing order; lifting it to ACTIVE trades again", async () => {
    const { store, bus, rig } = await setup();
    await setEngineTradingState(store, { state: "REDUCING", reason: "breaker", at: T0, strategyId: STRATEGY });
    await bus.publish([snapshot(WIDE_BOOKS[0]!, 1), snapshot(WIDE_BOOKS[1]!, 1)]);
    const first = await until(async () => (await store.listSignalsByStrategy(STRATEGY))[0], "the signal decision");
    await bus.whenIdle({ timeoutMs: 5000 });
    expect(first).toMatchObject({ status: "denied", rule: "trading-state" });
    expect(first.reason).toMatch(/REDUCING.*limit REDUCING/);
    expect(rig.distinctOrders()).toBe(0);
    const lifted = await setEngineTradingState(store, {
      state: "ACTIVE",
      reason: "resume",
      at: T0 + 1,
      strategyId: STRATEGY,
    });
    // Version 3: the denied placement wrote the risk state (its equity mark) in between.
    expect(lifted).toMatchObject({ state: "ACTIVE", strategies: {}, version: 3 });
    // Later snapshots (past the 1 s arbitrage cooldown) make a new signal id, which is approved and traded.
    await bus.publish([snapshot(WIDE_BOOKS[0]!, 2, T0 + 2000), snapshot(WIDE_BOOKS[1]!, 2, T0 + 2000)]);
    const approved = await until(
      async () => (await store.listSignalsByStrategy(STRATEGY)).find((s) => s.status === "approved"),
      "an approved signal",
    );
    await bus.whenIdle({ timeoutMs: 5000 });
    expect(approved.signalId).not.toBe(first.signalId);
    expect(rig.distinctOrders()).toBe(2);
  });

  it("bad input: each malformed event is refused with a typed error naming field and value, and nothing is written", async () => {
    const { store, handlers } = await setup();
    const good = toEventBridgeEvent(snapshot(WIDE_BOOKS[0]!, 1));
    const withData = (patch: Record<string, unknown>, drop?: string) => {
      const e = structuredClone(good) as unknown as { detail: { data: Record<string, unknown> } };
      Object.assign(e.detail.data, patch);
      if (drop) delete e.detail.data[drop];
      return e;
    };
    const exec = toEventBridgeEvent(
      buildBusEvent(
        "tse.exchange",
        "ExecutionReported",
        {
          executionId: "x-1",
          sequence: 1,
          clientOrderId: "tse-x",
          exchangeOrderId: "o-1",
          venue: "venue-a",
          symbol: "BTC-USD",
          side: "BUY",
          quantity: "0.05",
          price: "64000",
          fee: "1.6",
          feeAsset: "USD",
          liquidity: "TAKER",
          ts: new Date(T0).toISOString(),
        },
        { now: T0 },
      ),
    );
    const execWith = (patch: Record<string, unknown>) => {
      const e = structuredClone(exec) as unknown as { detail: { data: Record<string, unknown> } };
      Object.assign(e.detail.data, patch);
      return e;
    };
    const cases: [string, keyof typeof handlers, unknown, string, unknown][] = [
      ["missing field", "signal", withData({}, "bid"), "data.bid", undefined],
      ["NaN price", "signal", withData({ ask: "NaN" }), "data.ask", "NaN"],
      ["NaN price (number)", "fill-handling", execWith({ price: Number.NaN }), "data.price", Number.NaN],
      ["negative quantity", "fill-handling", execWith({ quantity: "-0.05" }), "data.quantity", "-0.05"],
      ["unknown symbol", "signal", withData({ symbol: "DOGE-USD" }), "symbol", "DOGE-USD"],
      ["unknown symbol (fill)", "fill-handling", execWith({ symbol: "DOGE-USD" }), "symbol", "DOGE-USD"],
    ];
    for (const [name, fn, event, field, value] of cases) {
      const err = await handlers[fn](event, localContext(fn)).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, name).toBeInstanceOf(Error);
      expect((err as EventValidationError).field, name).toBe(field);
      if (Number.isNaN(value)) expect(Number.isNaN((err as EventValidationError).value), name).toBe(true);
      else expect((err as EventValidationError).value, name).toEqual(value);
      expect((err as Error).message, name).toContain(field);
    }
    expect(await store.dumpItems()).toEqual([]);
    expect(rig?.distinctOrders()).toBe(0);
  });

  it("strategy-loss breaker: a strategy whose stored PnL is at or below −limit is HALTED, persisted, and gets no order", async () => {
    // A limit of $0.5 (configuration), so the hedged leg-risk round trip (−0.70 net) trips it.
    const { store, bus, rig } = await setup({
      arbitrage: { signalTtlMs: 600_000 },
      riskLimits: { circuitBreakers: { strategyLoss: 0.5 } },
    });
    rig.setBooks([{ venue: "venue-b", symbol: "BTC-USD", bid: "64050", ask: "64060", bidSize: "1", askSize: "1" }]);
    await bus.publish([snapshot(WIDE_BOOKS[0]!, 1), snapshot(WIDE_BOOKS[1]!, 1)]);
    const pos = await until(async () => {
      const p = await store.getPosition(STRATEGY, "BTC-USD");
      return p && p.fillCount === 2 ? p : undefined;
    }, "the buy fill and the hedge fill");
    await bus.whenIdle({ timeoutMs: 5000 });
    // Realized 2.5 − fees (64000 + 64050) × 0.05 × 5 bps = 3.20125 → net −0.70125.
    expect(pos.realizedPnl.minus(pos.fees).toFixed()).toBe("-0.70125");
    expect(rig.distinctOrders()).toBe(3);
    // The next opportunity (past the cooldown) trips the breaker instead of trading.
    await bus.publish([snapshot(WIDE_BOOKS[0]!, 2, T0 + 2000), snapshot(WIDE_BOOKS[1]!, 2, T0 + 2000)]);
    const denied = await until(
      async () => (await store.listSignalsByStrategy(STRATEGY)).find((s) => s.status === "denied"),
      "the denied signal",
    );
    await bus.whenIdle({ timeoutMs: 5000 });
    expect(denied.rule).toBe("trading-state");
    expect(denied.reason).toMatch(/breaker-strategy-loss: .*limit -0\.5, value -0\.70125/);
    expect(rig.distinctOrders()).toBe(3);
    expect(await store.getTradingState()).toMatchObject({
      state: "ACTIVE",
      strategies: { [STRATEGY]: "HALTED" },
      source: "breaker-strategy-loss",
    });
  });

  it("signal: a venue's snapshot older than the staleness limit (5 s) is not used; once fresh again, it is", async () => {
    const { store, bus, published } = await setup();
    // venue-a at T0, venue-b 6 s later: venue-a is stale at venue-b's time, so no signal.
    await bus.publish([snapshot(WIDE_BOOKS[0]!, 1, T0)]);
    await bus.whenIdle({ timeoutMs: 5000 });
    await bus.publish([snapshot(WIDE_BOOKS[1]!, 1, T0 + 6000)]);
    await bus.whenIdle({ timeoutMs: 5000 });
    expect(published.filter((e) => e["detail-type"] === "SignalGenerated")).toEqual([]);
    expect((await store.getSnapshot("venue-a", "BTC-USD", { now: T0 + 6000, maxAgeMs: 5000 }))?.stale).toBe(true);
    // A fresh venue-a snapshot at T0 + 6 s: both fresh, the wide spread makes exactly one signal.
    await bus.publish([snapshot(WIDE_BOOKS[0]!, 2, T0 + 6000)]);
    await until(async () => (await store.listSignalsByStrategy(STRATEGY))[0], "the signal");
    await bus.whenIdle({ timeoutMs: 5000 });
    expect(published.filter((e) => e["detail-type"] === "SignalGenerated")).toHaveLength(1);
  });

  it("reporting: a PositionChanged within the debounce window (10 s) is skipped, a newer one too; a direct invocation still reports", async () => {
    const { store, bus, handlers, published } = await setup();
    await bus.publish([snapshot(WIDE_BOOKS[0]!, 1), snapshot(WIDE_BOOKS[1]!, 1)]);
    await until(async () => store.getLatestReport(STRATEGY), "the first report");
    await bus.whenIdle({ timeoutMs: 5000 });
    const before = (await store.listReports(STRATEGY)).length;
    const changed = published.find((e) => e["detail-type"] === "PositionChanged");
    expect(changed).toBeDefined();
    const again = (await handlers.reporting(changed, localContext("reporting"))) as {
      reports: { strategyId: string; skipped?: string; report?: unknown }[];
    };
    expect(again.reports).toEqual([{ strategyId: STRATEGY, skipped: expect.stringMatching(/^debounced: /) }]);
    expect(await store.listReports(STRATEGY)).toHaveLength(before);
    const direct = (await handlers.reporting({ trigger: "DIRECT" }, localContext("reporting"))) as {
      reports: { report?: unknown }[];
    };
    expect(direct.reports[0]?.report).toBeDefined();
    expect(await store.listReports(STRATEGY)).toHaveLength(before + 1);
    expect(await store.listEquityPoints(STRATEGY)).toHaveLength(before + 1);
    // A change the last report does not include is debounced too (the schedule reports it: reporting.debounce.test.ts).
    const pos = await store.getPosition(STRATEGY, "BTC-USD");
    const data = (changed as { detail: { data: Record<string, unknown> } }).detail.data;
    const newer = {
      ...changed,
      detail: { ...(changed as { detail: object }).detail, data: { ...data, version: pos!.version + 1 } },
    };
    const fresh = (await handlers.reporting(newer, localContext("reporting"))) as { reports: { skipped?: string }[] };
    expect(fresh.reports[0]?.skipped).toMatch(/ waits for the next report or the schedule$/);
    expect(await store.listReports(STRATEGY)).toHaveLength(before + 1);
  });

  it("a direct reporting invocation reports every strategy with positions, from the ledger", async () => {
    const { store, bus, handlers } = await setup();
    await bus.publish([snapshot(WIDE_BOOKS[0]!, 1), snapshot(WIDE_BOOKS[1]!, 1)]);
    await until(
      async () => ((await store.getPosition(STRATEGY, "BTC-USD"))?.fillCount === 2 ? true : undefined),
      "fills",
    );
    await bus.whenIdle({ timeoutMs: 5000 });
    const out = (await handlers.reporting({ trigger: "DIRECT" }, localContext("reporting"))) as {
      reports: { strategyId: string; report?: { metrics: Record<string, unknown> } }[];
    };
    expect(out.reports.map((r) => r.strategyId)).toEqual([STRATEGY]);
    expect(out.reports[0]?.report?.metrics).toMatchObject({
      realizedPnl: "8",
      unrealizedPnl: "0",
      fees: "3.204",
      totalPnl: "4.796",
      tradeCount: 2,
      turnover: "6408",
      winRate: 1,
    });
    const bad = await handlers.reporting({ trigger: "SOMETIMES" }, localContext("reporting")).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(EventValidationError);
    expect((bad as EventValidationError).field).toBe("trigger");
  });
});
