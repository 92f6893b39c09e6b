// The balance rule failing closed (RiskContext.balanceUnavailable), buying power from the custodian (TTL cache,
// fail-closed; a real simulator on loopback), and what a fill settles (settlementLegs).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buyingPowerContext, CustodianBuyingPower } from "../../lib/app/buyingPower";
import type { EngineDependencies } from "../../lib/app/dependencies";
import { parseEngineSettings } from "../../lib/app/settings";
import { handleFillBooked, parseSettlementInput, settlementLegs } from "../../lib/app/settlement";
import { dec } from "../../lib/domain/decimal";
import { InvalidFieldError } from "../../lib/domain/errors";
import { InstrumentRegistry } from "../../lib/domain/instruments";
import { type RiskContext, RiskEngine } from "../../lib/domain/risk";
import type { OrderIntent } from "../../lib/domain/types";
import { buildBusEvent, EventValidationError, toEventBridgeEvent } from "../../lib/events";
import { ClientManager, CustodianClient, Discovery } from "../../lib/grpc";
import { CustodianSimulator } from "../../sim/custodian/CustodianSimulator";

const T0 = 1_700_000_000_000;
const intent = (o: Partial<OrderIntent> = {}): OrderIntent => ({
  strategyId: "s1",
  venue: "venue-a",
  symbol: "BTC-USD",
  side: "BUY",
  type: "LIMIT",
  timeInForce: "GTC",
  postOnly: false,
  quantity: dec("1"),
  limitPrice: dec("50000"),
  ...o,
});
const ctx = (o: Partial<RiskContext> = {}): RiskContext => ({
  mid: 50_000,
  position: 0,
  strategyNotional: 0,
  portfolioNotional: 0,
  availableQuote: 0,
  balanceUnavailable: "custodian down",
  ...o,
});

describe("balance rule, balance unavailable (fail-closed)", () => {
  const e = new RiskEngine();
  it("denies every risk-increasing order, buy or sell", () => {
    for (const [side, position] of [
      ["BUY", 0],
      ["SELL", 0],
      ["BUY", 2],
      ["SELL", -1],
    ] as const) {
      const d = e.check(intent({ side }), ctx({ position, strategyPosition: position }), T0);
      expect(d, `${side} from ${position}`).toMatchObject({ approved: false, denial: { rule: "balance" } });
      if (!d.approved) expect(d.denial.message).toContain("custodian down");
    }
  });
  it("lets a risk-reducing order through, and sizes to the reducible quantity", () => {
    expect(e.check(intent({ side: "SELL" }), ctx({ position: 2, strategyPosition: 2 }), T0).approved).toBe(true);
    expect(e.check(intent({ side: "BUY" }), ctx({ position: -1, strategyPosition: -1 }), T0).approved).toBe(true);
    const h = e.headroom({ strategyId: "s1", symbol: "BTC-USD", side: "SELL" }, 50_000, ctx({ position: 2 }), T0);
    expect(h.find((x) => x.constraint === "balance")).toEqual({ constraint: "balance", quantity: 2 });
    const b = e.headroom({ strategyId: "s1", symbol: "BTC-USD", side: "BUY" }, 50_000, ctx({ position: 2 }), T0);
    expect(b.find((x) => x.constraint === "balance")).toEqual({ constraint: "balance", quantity: 0 });
  });
});

describe("buying power from the custodian", () => {
  let sim: CustodianSimulator;
  let manager: ClientManager;
  let calls = 0;
  let bp: CustodianBuyingPower;
  const custodian = parseEngineSettings({ settlement: { balanceSource: "custodian", balanceTtlMs: 1_000 } });

  beforeAll(async () => {
    sim = new CustodianSimulator({ quiet: true, balances: { "venue-a": { USD: "2500.5" } } });
    await sim.start(0);
    manager = new ClientManager({
      discovery: new Discovery({ env: {}, explicit: { custodian: sim.address } }),
      retry: { maxAttempts: 1 },
      breaker: { consecutiveFailures: 1_000 },
    });
    const client = new CustodianClient(manager);
    bp = new CustodianBuyingPower({
      getBalances: (a?: string) => {
        calls++;
        return client.getBalances(a);
      },
    });
  });
  afterAll(async () => {
    await manager.close();
    await sim.stop();
  });

  it("reads available per account and currency, once per TTL (concurrent askers share the call)", async () => {
    const [a, b] = await Promise.all([
      buyingPowerContext(bp, custodian, "venue-a", "USD"),
      buyingPowerContext(bp, custodian, "venue-a", "USD"),
    ]);
    expect(a).toEqual({ availableQuote: 2500.5 });
    expect(b).toEqual(a);
    expect(await buyingPowerContext(bp, custodian, "venue-a", "EUR")).toEqual({ availableQuote: 0 });
    expect(calls).toBe(1);
    sim.ledger.drift("venue-a", "USD", "-500.5");
    expect(await buyingPowerContext(bp, custodian, "venue-a", "USD")).toEqual({ availableQuote: 2500.5 }); // cached
    await new Promise((r) => setTimeout(r, 1_100));
    expect(await buyingPowerContext(bp, custodian, "venue-a", "USD")).toEqual({ availableQuote: 2000 });
    expect(calls).toBe(2);
  });

  it("fails closed when the custodian cannot be read, and reads again once it is back", async () => {
    await new Promise((r) => setTimeout(r, 1_100));
    sim.ledger.setChaos({ downUntilMs: Date.now() + 60_000 });
    const down = await buyingPowerContext(bp, custodian, "venue-a", "USD");
    expect(down.availableQuote).toBe(0);
    expect(down.balanceUnavailable).toMatch(/custodian balance of venue-a USD: .*unavailable/);
    sim.ledger.setChaos({ downUntilMs: 0 });
    expect(await buyingPowerContext(bp, custodian, "venue-a", "USD")).toEqual({ availableQuote: 2000 });
  });

  it("uses settings.availableQuote when the balance source is settings, and fails closed without a provider", async () => {
    const s = parseEngineSettings({ availableQuote: "123" });
    expect(await buyingPowerContext(undefined, s, "venue-a", "USD")).toEqual({ availableQuote: 123 });
    expect(await buyingPowerContext(undefined, custodian, "venue-a", "USD")).toEqual({
      availableQuote: 0,
      balanceUnavailable: "no custodian configured",
    });
  });
});

describe("settlementLegs", () => {
  const r = new InstrumentRegistry();
  const fill = {
    symbol: "BTC-USD",
    side: "BUY" as const,
    quantity: "0.05",
    price: "64000",
    fee: "1.6",
    feeAsset: "USD",
  };
  it("a buy receives base and delivers quote plus the fee", () => {
    expect(settlementLegs(fill, r)).toEqual([
      { currency: "BTC", amount: "0.05" },
      { currency: "USD", amount: "-3201.6" },
    ]);
  });
  it("a sell with a maker rebate delivers base and receives quote plus the rebate", () => {
    expect(settlementLegs({ ...fill, side: "SELL", fee: "-0.32" }, r)).toEqual([
      { currency: "BTC", amount: "-0.05" },
      { currency: "USD", amount: "3200.32" },
    ]);
  });
  it("a fee in another asset is its own leg; a zero fee adds none", () => {
    expect(settlementLegs({ ...fill, fee: "0.0001", feeAsset: "BNB" }, r)).toEqual([
      { currency: "BTC", amount: "0.05" },
      { currency: "USD", amount: "-3200" },
      { currency: "BNB", amount: "-0.0001" },
    ]);
    expect(settlementLegs({ ...fill, fee: "0" }, r)).toHaveLength(2);
  });
});

describe("settlement function input", () => {
  const fillEvent = (data: Record<string, unknown>) => {
    const e = toEventBridgeEvent(
      buildBusEvent(
        "tse.engine",
        "FillBooked",
        {
          executionId: "venue-a:E-1",
          clientOrderId: "c-1",
          strategyId: "s1",
          venue: "venue-a",
          symbol: "BTC-USD",
          side: "BUY",
          quantity: "0.05",
          price: "64000",
          fee: "1.6",
          feeAsset: "USD",
          ts: new Date(T0).toISOString(),
        },
        { now: T0 },
      ),
    ) as unknown as { detail: { data: Record<string, unknown> } };
    e.detail.data = { ...e.detail.data, ...data };
    return e;
  };

  it("accepts FillBooked, the schedule and a direct reconcile (with a grace override)", () => {
    expect(parseSettlementInput(fillEvent({})).kind).toBe("fill");
    expect(parseSettlementInput({ "detail-type": "Scheduled Event", source: "aws.events", detail: {} })).toEqual({
      kind: "reconcile",
      trigger: "SCHEDULE",
    });
    expect(parseSettlementInput({ action: "reconcile", graceMs: 0 })).toEqual({
      kind: "reconcile",
      trigger: "DIRECT",
      graceMs: 0,
    });
  });

  it("bad input is a typed error naming the field and the value", () => {
    expect(() => parseSettlementInput(fillEvent({ quantity: "-1" }))).toThrow(EventValidationError);
    expect(() => parseSettlementInput(fillEvent({ quantity: "-1" }))).toThrow(/data\.quantity = "-1"/);
    expect(() => parseSettlementInput({ action: "reconcile", graceMs: -5 })).toThrow(/graceMs = -5/);
    expect(() => parseSettlementInput({ action: "settle" })).toThrow(/action/);
  });

  it("an unknown symbol is rejected before anything is sent", async () => {
    const e = parseSettlementInput(fillEvent({ symbol: "DOGE-USD" }));
    if (e.kind !== "fill") throw new Error("expected a fill");
    let sent = 0;
    const deps = {
      instruments: new InstrumentRegistry(),
      custodian: {
        instructSettlement: async () => {
          sent++;
          throw new Error("must not be called");
        },
      },
    } as unknown as EngineDependencies;
    await expect(handleFillBooked(e.event, deps)).rejects.toBeInstanceOf(InvalidFieldError);
    expect(sent).toBe(0);
  });
});
