// The signal function's strategy host: the arbitrage signal strategy runs in lib/engine's StrategyHost, whose
// router keeps approved legs (no risk engine: order-placement checks them) and refuses legs a signal cannot carry.
import { describe, expect, it } from "vitest";
import { hostSignal, SignalRouter } from "../../lib/app/signalHost";
import { Decimal } from "../../lib/domain/decimal";
import { InstrumentRegistry } from "../../lib/domain/instruments";
import { ArbitrageSignalStrategy, arbitrageSignalId, bestArbitrage } from "../../lib/domain/strategies/arbitrageLegs";
import type { OrderEventView, Strategy } from "../../lib/domain/strategies/Strategy";
import type { L1Quote, OrderIntent } from "../../lib/domain/types";
import { StrategyHost, type StrategySlot } from "../../lib/engine/StrategyHost";

const q = (venue: string, bid: string, ask: string, ts = 1_000): L1Quote => ({
  ts,
  venue,
  symbol: "BTC-USD",
  bid: new Decimal(bid),
  ask: new Decimal(ask),
  bidSize: new Decimal("1"),
  askSize: new Decimal("1"),
});
const instruments = new InstrumentRegistry();
const SEQ: Record<string, number> = { "venue-a": 9, "venue-b": 4 };
const strategy = () =>
  new ArbitrageSignalStrategy("arb-1", { minSpreadBps: 10, maxQuantity: new Decimal("0.05") }, (x) => SEQ[x.venue]!);

describe("signal host", () => {
  it("a 25 bps spread: the strategy's two IOC legs pass the host, under the id bestArbitrage + arbitrageSignalId give", () => {
    const a = q("venue-a", "63990", "64000");
    const b = q("venue-b", "64160", "64170");
    const s = strategy();
    const router = new SignalRouter(["venue-a", "venue-b"]);
    const host = hostSignal(s, b, [a, b], instruments, router);
    const expected = bestArbitrage(
      [
        { quote: a, sequence: 9 },
        { quote: b, sequence: 4 },
      ],
      instruments.listVenues(),
      { minSpreadBps: 10, maxQuantity: new Decimal("0.05"), lotSize: new Decimal("0.0001") },
    )!;
    const id = arbitrageSignalId("arb-1", expected);
    expect(s.signals.map((x) => x.signalId)).toEqual([id]);
    const routed = router.legsOf(id);
    expect(
      "legs" in routed && routed.legs.map((l) => [l.side, l.venue, l.limitPrice?.toFixed(), l.timeInForce]),
    ).toEqual([
      ["BUY", "venue-a", "64000", "IOC"],
      ["SELL", "venue-b", "64160", "IOC"],
    ]);
    expect("legs" in routed && routed.legs.every((l) => l.quantity.toFixed() === "0.05")).toBe(true);
    expect(host.denialsByRule.size).toBe(0);
    expect(router.refusals).toEqual([]);
  });

  it("no edge: no signal and no legs", () => {
    const s = strategy();
    const router = new SignalRouter(["venue-a", "venue-b"]);
    hostSignal(
      s,
      q("venue-b", "64000", "64010"),
      [q("venue-a", "63990", "64000"), q("venue-b", "64000", "64010")],
      instruments,
      router,
    );
    expect(s.signals).toEqual([]);
    expect(router.legs).toEqual([]);
  });

  it("a leg on a venue outside the scope is refused by the precheck; the signal then has no legs to publish", () => {
    const a = q("venue-a", "63990", "64000");
    const b = q("venue-b", "64160", "64170");
    const s = strategy();
    const router = new SignalRouter(["venue-a"]);
    hostSignal(s, b, [a, b], instruments, router);
    const id = s.signals[0]!.signalId;
    const routed = router.legsOf(id);
    expect(routed).toEqual({
      refused: { kind: "REJECTED", rule: "signal-scope", reason: "venue venue-b is not in the signal's scope" },
    });
    expect(router.legs.map((l) => l.venue)).toEqual(["venue-a"]);
  });

  it("a host without a risk engine still runs the precheck and the throttle, and tells the strategy of a refusal", () => {
    const events: OrderEventView[] = [];
    const limit = (venue: string, price?: string): OrderIntent => ({
      strategyId: "x",
      venue,
      symbol: "BTC-USD",
      side: "BUY",
      type: "LIMIT",
      timeInForce: "IOC",
      postOnly: false,
      quantity: new Decimal("1"),
      ...(price ? { limitPrice: new Decimal(price) } : {}),
      tag: "t",
    });
    const strat: Strategy = {
      id: "x",
      name: "test",
      onMarket: () => [limit("venue-a", "1"), limit("venue-a"), limit("venue-a", "2"), limit("venue-a", "3")],
      onFill: () => [],
      onTimer: () => [],
      onOrderEvent: (ev) => {
        events.push(ev);
        return [];
      },
    };
    const router = new SignalRouter(["venue-a"]);
    let admitted = 0;
    const host = new StrategyHost<StrategySlot>({ router, throttle: { admit: () => ++admitted <= 2 } });
    const slot: StrategySlot = { id: "x", strategy: strat, ctx: { now: 0 } as StrategySlot["ctx"] };
    host.onMarket(slot, q("venue-a", "1", "2"), 5, 1.5);
    expect(router.legs.map((l) => l.limitPrice?.toFixed())).toEqual(["1", "2"]);
    expect(router.refusals.map((r) => r.refusal.rule)).toEqual(["signal-leg", "throttle"]);
    expect(host.throttled).toBe(1);
    expect(events.map((e) => [e.kind, e.reason])).toEqual([
      ["REJECTED", "a LIMIT leg needs a limit price"],
      ["DENIED", "order-rate budget spent (throttled)"],
    ]);
  });

  it("a router behind a risk engine must give a risk context", async () => {
    const { RiskEngine } = await import("../../lib/domain/risk/RiskEngine");
    expect(() => new StrategyHost({ risk: new RiskEngine(), router: new SignalRouter([]) })).toThrow(/riskContext/);
  });
});
