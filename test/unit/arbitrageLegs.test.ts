// Serverless arbitrage helpers: best venue pair, deterministic signal ids, and leg-risk decisions.
import { describe, expect, it } from "vitest";
import { Decimal } from "../../lib/domain/decimal";
import { DEFAULT_VENUES } from "../../lib/domain/instruments";
import {
  arbitrageSignalId,
  bestArbitrage,
  type LegOutcome,
  resolveLegRisk,
} from "../../lib/domain/strategies/arbitrageLegs";
import type { L1Quote } from "../../lib/domain/types";

const q = (venue: string, bid: string, ask: string, size = "1"): L1Quote => ({
  ts: 1,
  venue,
  symbol: "BTC-USD",
  bid: new Decimal(bid),
  ask: new Decimal(ask),
  bidSize: new Decimal(size),
  askSize: new Decimal(size),
});
const venues = [...DEFAULT_VENUES, { id: "venue-c", makerFee: new Decimal("0.0002"), takerFee: new Decimal("0.0005") }];

describe("bestArbitrage", () => {
  it("buys where it is cheapest and sells where it is dearest, net of fees above the threshold", () => {
    const opp = bestArbitrage(
      [
        { quote: q("venue-b", "64160", "64170"), sequence: 4 },
        { quote: q("venue-a", "63990", "64000"), sequence: 9 },
      ],
      venues,
      { minSpreadBps: 10, maxQuantity: new Decimal("0.05"), lotSize: new Decimal("0.0001") },
    );
    expect(opp?.signal.buyVenue).toBe("venue-a");
    expect(opp?.signal.sellVenue).toBe("venue-b");
    expect(opp?.signal.quantity.toFixed()).toBe("0.05");
    expect(opp?.signal.grossSpreadBps).toBeCloseTo(25, 6);
    expect(opp?.signal.netSpreadBps).toBeGreaterThan(10);
    expect([opp?.buy.sequence, opp?.sell.sequence]).toEqual([9, 4]);
  });

  it("returns null when the spread does not beat threshold + fees (25 bps gross vs 20 bps threshold)", () => {
    const quotes = [
      { quote: q("venue-a", "63990", "64000"), sequence: 1 },
      { quote: q("venue-b", "64160", "64170"), sequence: 1 },
    ];
    expect(bestArbitrage(quotes, venues, { minSpreadBps: 20 })).toBeNull();
  });

  it("picks the best of several venue pairs", () => {
    const opp = bestArbitrage(
      [
        { quote: q("venue-a", "63990", "64000"), sequence: 1 },
        { quote: q("venue-b", "64160", "64170"), sequence: 1 },
        { quote: q("venue-c", "64300", "64310"), sequence: 1 },
      ],
      venues,
      { minSpreadBps: 10 },
    );
    expect([opp?.signal.buyVenue, opp?.signal.sellVenue]).toEqual(["venue-a", "venue-c"]);
  });
});

describe("arbitrageSignalId", () => {
  const quotes = [
    { quote: q("venue-a", "63990", "64000"), sequence: 1 },
    { quote: q("venue-b", "64160", "64170"), sequence: 1 },
  ];
  it("is the same for the same inputs and changes with any of them", () => {
    const a = bestArbitrage(quotes, venues, { minSpreadBps: 10 })!;
    const b = bestArbitrage([...quotes].reverse(), venues, { minSpreadBps: 10 })!;
    expect(arbitrageSignalId("arb-1", a)).toBe(arbitrageSignalId("arb-1", b));
    expect(arbitrageSignalId("arb-1", a)).toMatch(/^sig-[0-9a-f]{32}$/);
    expect(arbitrageSignalId("arb-2", a)).not.toBe(arbitrageSignalId("arb-1", a));
    const later = bestArbitrage([quotes[0]!, { ...quotes[1]!, sequence: 2 }], venues, { minSpreadBps: 10 })!;
    expect(arbitrageSignalId("arb-1", later)).not.toBe(arbitrageSignalId("arb-1", a));
  });
});

describe("resolveLegRisk", () => {
  const leg = (over: Partial<LegOutcome>): LegOutcome => ({
    clientOrderId: "c",
    venue: "venue-a",
    side: "BUY",
    quantity: new Decimal("0.05"),
    filled: new Decimal("0.05"),
    open: false,
    failed: false,
    ...over,
  });
  const quotes = [q("venue-a", "63990", "64000"), q("venue-b", "64160", "64170")];

  it("does nothing when both legs filled equally", () => {
    const d = resolveLegRisk("arb-1", "BTC-USD", [leg({}), leg({ side: "SELL", venue: "venue-b" })], quotes);
    expect(d).toEqual({ cancel: [] });
  });

  it("hedges a filled buy whose sell leg was rejected: market IOC sell on the best bid's venue", () => {
    const d = resolveLegRisk(
      "arb-1",
      "BTC-USD",
      [leg({}), leg({ side: "SELL", venue: "venue-b", filled: new Decimal(0), failed: true })],
      quotes,
      "arbitrage:s:hedge",
    );
    expect(d.cancel).toEqual([]);
    expect(d.hedge).toMatchObject({
      side: "SELL",
      venue: "venue-b",
      type: "MARKET",
      timeInForce: "IOC",
      tag: "arbitrage:s:hedge",
    });
    expect(d.hedge?.quantity.toFixed()).toBe("0.05");
  });

  it("hedges only the difference of a partial fill, buying back on the cheapest ask", () => {
    const d = resolveLegRisk(
      "arb-1",
      "BTC-USD",
      [leg({ filled: new Decimal("0.02") }), leg({ side: "SELL", venue: "venue-b" })],
      quotes,
    );
    expect(d.hedge).toMatchObject({ side: "BUY", venue: "venue-a" });
    expect(d.hedge?.quantity.toFixed()).toBe("0.03");
  });

  it("cancels a resting sibling of a failed leg, then hedges what the resting leg had filled", () => {
    const d = resolveLegRisk(
      "arb-1",
      "BTC-USD",
      [
        leg({ clientOrderId: "buy", open: true, filled: new Decimal("0.01") }),
        leg({ clientOrderId: "sell", side: "SELL", venue: "venue-b", filled: new Decimal(0), failed: true }),
      ],
      quotes,
    );
    expect(d.cancel).toEqual(["buy"]);
    expect(d.hedge?.side).toBe("SELL");
    expect(d.hedge?.quantity.toFixed()).toBe("0.01");
  });

  it("waits while a leg is still resting and nothing failed", () => {
    const d = resolveLegRisk(
      "arb-1",
      "BTC-USD",
      [leg({ open: true, filled: new Decimal(0) }), leg({ side: "SELL" })],
      quotes,
    );
    expect(d).toEqual({ cancel: [] });
  });
});
