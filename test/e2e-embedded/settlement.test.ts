// Feature: fills settle at the custodian and reconcile (embedded: in-process bus + state, the five functions
// through the routing table; exchange, risk monitor, configuration and custodian simulators on loopback gRPC).
//   Scenario: Injected failure: one settlement failure → the break is found in one reconciliation cycle, a
//             RiskAlert names the account, the currency and the amount; no fill is lost or settled twice.
//   Scenario: Custodian down: no risk-increasing order passes the balance rule.
//   Scenario: Buying power: the custodian's available balance sizes the buy.
import { GrpcExchange } from "../../lib/adapters/GrpcExchange";
import "../support/quietPowertools";
import { afterEach, describe, expect, it } from "vitest";
import { InMemoryStateStore } from "../../lib/adapters/embedded/InMemoryStateStore";
import { type BusDelivery, InProcessEventBus } from "../../lib/adapters/embedded/InProcessEventBus";
import { CustodianBuyingPower } from "../../lib/app/buyingPower";
import type { EngineDependencies } from "../../lib/app/dependencies";
import { createFunctionHandlers, localContext, registerFunctions } from "../../lib/app/handlers";
import type { EngineSettingsInput } from "../../lib/app/settings";
import type { ReconciliationOutcome } from "../../lib/app/settlement";
import { ExecutionForwarder } from "../../lib/bridges/ExecutionForwarder";
import { Decimal } from "../../lib/domain/decimal";
import { InstrumentRegistry } from "../../lib/domain/instruments";
import { buildBusEvent } from "../../lib/events";
import { ClientManager, CustodianClient, Discovery } from "../../lib/grpc";
import { CustodianSimulator } from "../../sim/custodian/CustodianSimulator";
import { type EngineRig, startEngineRig, WIDE_BOOKS } from "../support/engineRig";

const T0 = Date.now();
const STRATEGY = "arb-1";
const OPENING = { "venue-a": { USD: "1000000", BTC: "10" }, "venue-b": { USD: "1000000", BTC: "10" } };

interface World {
  rig: EngineRig;
  custodian: CustodianSimulator;
  manager: ClientManager;
  forwarder: ExecutionForwarder;
  store: InMemoryStateStore;
  bus: InProcessEventBus;
  published: BusDelivery[];
  handlers: ReturnType<typeof createFunctionHandlers>;
}
let w: World | undefined;
afterEach(async () => {
  if (!w) return;
  await w.bus.whenIdle({ timeoutMs: 5_000 }).catch(() => undefined);
  await w.forwarder.stop();
  await w.bus.close({ timeoutMs: 2_000 });
  await w.manager.close();
  await w.custodian.stop();
  await w.rig.stop();
  w = undefined;
});

async function given(opts: { balances?: typeof OPENING; settlement?: EngineSettingsInput["settlement"] } = {}) {
  const custodian = new CustodianSimulator({
    quiet: true,
    balances: opts.balances ?? OPENING,
    dayMs: 100,
    processingMs: 10,
    tickMs: 10,
  });
  await custodian.start(0);
  const rig = await startEngineRig({
    now: T0,
    settings: {
      arbitrage: { signalTtlMs: 600_000 },
      settlement: {
        balanceSource: "custodian",
        openingBalances: opts.balances ?? OPENING,
        reconcileGraceMs: 0,
        cycleDays: 1,
        ...opts.settlement,
      },
    },
  });
  const manager = new ClientManager({
    discovery: new Discovery({ env: {}, explicit: { custodian: custodian.address } }),
    retry: { maxAttempts: 2, initialDelayMs: 10, maxDelayMs: 20 },
    breaker: { consecutiveFailures: 1_000 },
  });
  const client = new CustodianClient(manager);
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
    custodian: client,
    buyingPower: new CustodianBuyingPower(client),
    clock: Date.now,
  };
  const handlers = createFunctionHandlers(deps);
  registerFunctions(bus, handlers);
  const forwarder = new ExecutionForwarder({ exchange: new GrpcExchange(rig.peers.exchange), bus });
  forwarder.start();
  w = { rig, custodian, manager, forwarder, store, bus, published, handlers };
  return w;
}

const snapshot = (book: (typeof WIDE_BOOKS)[number], sequence: number) =>
  buildBusEvent(
    "tse.market",
    "MarketSnapshot",
    { ...book, sequence, ts: new Date(T0).toISOString() },
    { now: T0, eventId: `snap-${book.venue}-${sequence}` },
  );

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const reconcileNow = async (x: World) =>
  (await x.handlers.settlement({ action: "reconcile" }, localContext("settlement"))) as ReconciliationOutcome;

const ofType = (x: World, t: string) =>
  x.published.filter((e) => e["detail-type"] === t).map((e) => (e.detail as { data: Record<string, unknown> }).data);

describe("Settlement at the custodian and reconciliation (embedded)", () => {
  it("Injected failure: the break is found within one reconciliation cycle, a RiskAlert names account, currency and amount; no fill lost or settled twice", async () => {
    const x = await given();
    // Given one settlement failure injected at the custodian
    x.custodian.ledger.setChaos({ failNext: 1 });
    // When the arbitrage trades (two fills) and everything the custodian was instructed is done
    await x.bus.publish([snapshot(WIDE_BOOKS[0]!, 1), snapshot(WIDE_BOOKS[1]!, 1)]);
    const fills = await until("two fills booked", async () => {
      const f = await x.store.listFillsByStrategy(STRATEGY);
      return f.length === 2 ? f : undefined;
    });
    await until("two settlements done", () => {
      const c = x.custodian.ledger.getCounters();
      return c.instructed === 2 && c.pending === 0;
    });
    // And every fill is delivered to the functions again (redelivery)
    for (const e of x.published.filter((d) => d["detail-type"] === "ExecutionReported"))
      await x.handlers["fill-handling"](e, localContext("fill-handling"));
    await x.bus.whenIdle({ timeoutMs: 5_000 });

    // Then no fill is lost or settled twice: one instruction per fill, keyed by its execution id
    const settlements = x.custodian.ledger.list();
    expect(settlements.map((s) => s.idempotencyKey).sort()).toEqual(fills.map((f) => f.executionId).sort());
    expect(x.custodian.ledger.getCounters()).toMatchObject({ instructed: 2, failed: 1, settled: 1, pending: 0 });
    expect(x.custodian.ledger.getCounters().duplicates).toBeGreaterThanOrEqual(2);

    // When reconciliation runs once
    const out = await reconcileNow(x);
    // Then its breaks are exactly the failed fill's legs on its account
    const failed = settlements.find((s) => s.status === 4)!; // FAILED
    const fill = fills.find((f) => f.executionId === failed.idempotencyKey)!;
    const legs = Object.fromEntries(failed.legs.map((l) => [l.currency, l.amount]));
    const base = fill.symbol.split("-")[0]!;
    expect(legs[base]).toBe(new Decimal(fill.quantity).times(fill.side === "BUY" ? 1 : -1).toFixed());
    const expectedBreaks = failed.legs
      .map((l) => ({ accountId: fill.venue, currency: l.currency, difference: new Decimal(l.amount).neg().toFixed() }))
      .sort((a, b) => a.currency.localeCompare(b.currency));
    expect(out.breaks.map((b) => ({ accountId: b.accountId, currency: b.currency, difference: b.difference }))).toEqual(
      expectedBreaks,
    );
    expect(out.breaks.every((b) => b.beyondTolerance)).toBe(true);
    expect(out.fills).toBe(2);
    // And a RiskAlert names the account, the currency and the amount of each break
    const alerts = ofType(x, "RiskAlert");
    expect(alerts).toHaveLength(expectedBreaks.length);
    for (const b of expectedBreaks) {
      const a = alerts.find((al) => al.currency === b.currency)!;
      expect(a).toMatchObject({ rule: "reconciliation-break", accountId: b.accountId, value: b.difference });
      expect(a.message).toContain(b.accountId);
      expect(a.message).toContain(b.currency);
      expect(a.message).toContain(b.difference);
    }
    const completed = ofType(x, "ReconciliationCompleted");
    expect(completed).toHaveLength(1);
    expect((completed[0]!.breaks as unknown[]).length).toBe(expectedBreaks.length);
  }, 30_000);

  it("a clean run reconciles with 0 breaks, also while settlements are still pending (T+3) — and finds balance drift", async () => {
    const x = await given({ settlement: { cycleDays: 3 } });
    x.custodian.ledger.setChaos({ delayMs: 60_000 }); // everything stays pending
    await x.bus.publish([snapshot(WIDE_BOOKS[0]!, 1), snapshot(WIDE_BOOKS[1]!, 1)]);
    await until("two settlements instructed", () => x.custodian.ledger.getCounters().instructed === 2);
    expect(x.custodian.ledger.getCounters().pending).toBe(2);
    const clean = await reconcileNow(x);
    expect(clean).toMatchObject({ fills: 2, breaks: [] });
    expect(clean.compared).toBeGreaterThanOrEqual(4);
    x.custodian.ledger.drift("venue-b", "USD", "-12.5");
    const drifted = await reconcileNow(x);
    expect(drifted.breaks).toEqual([
      {
        accountId: "venue-b",
        currency: "USD",
        expected: expect.any(String),
        actual: expect.any(String),
        difference: "-12.5",
        beyondTolerance: true,
      },
    ]);
  }, 30_000);

  it("a break with reducingOnBreak sets the engine REDUCING", async () => {
    const x = await given({ settlement: { reducingOnBreak: true } });
    x.custodian.ledger.drift("venue-a", "BTC", "0.5");
    const out = await reconcileNow(x);
    expect(out).toMatchObject({
      reducing: true,
      breaks: [{ accountId: "venue-a", currency: "BTC", difference: "0.5" }],
    });
    expect(await x.store.getTradingState()).toMatchObject({ state: "REDUCING", source: "reconciliation" });
  }, 30_000);

  it("Custodian down: no risk-increasing order passes the balance rule", async () => {
    const x = await given();
    x.custodian.ledger.setChaos({ downUntilMs: Date.now() + 60_000 });
    await x.bus.publish([snapshot(WIDE_BOOKS[0]!, 1), snapshot(WIDE_BOOKS[1]!, 1)]);
    const denied = await until("an OrderDenied", () => ofType(x, "OrderDenied")[0]);
    expect(denied).toMatchObject({ strategyId: STRATEGY, rule: "balance" });
    // The reason names the fail-closed cause (an unread balance), not a sizing result.
    expect(String(denied.reason)).toMatch(
      /^custodian balance unavailable: fail closed, only risk-reducing orders \(.*custodian balance of venue-[ab] USD: /,
    );
    expect(String(denied.reason)).not.toMatch(/sized to zero/);
    await x.bus.whenIdle({ timeoutMs: 5_000 });
    expect(x.rig.exchange.engine.getCounters().ordersReceived).toBe(0);
    const sig = (await x.store.listSignalsByStrategy(STRATEGY))[0];
    expect(sig).toMatchObject({ status: "denied", rule: "balance", reason: denied.reason });
  }, 30_000);

  it("Buying power: the custodian's available quote sizes the buy (rule balance binds)", async () => {
    const balances = { "venue-a": { USD: "1000", BTC: "10" }, "venue-b": { USD: "1000000", BTC: "10" } };
    const x = await given({ balances });
    await x.bus.publish([snapshot(WIDE_BOOKS[0]!, 1), snapshot(WIDE_BOOKS[1]!, 1)]);
    const placed = await until("two OrderPlaced", () => {
      const p = ofType(x, "OrderPlaced");
      return p.length === 2 ? p : undefined;
    });
    // 1000 USD at 64000 with the 5 bps taker fee: at most 0.015617 BTC, rounded down to the lot.
    const qty = new Decimal(String(placed[0]!.quantity));
    expect(qty.gt(0)).toBe(true);
    expect(qty.times(64000).times(1.0005).lte(1000)).toBe(true);
    expect(qty.lt("0.05")).toBe(true);
    const sig = (await x.store.listSignalsByStrategy(STRATEGY))[0];
    expect(sig?.details).toMatchObject({ boundBy: "balance" });
  }, 30_000);
});
