// BDD (domain level): "Trading Engine executes basic arbitrage when spreads are wide".
import { describe, expect, it } from "vitest";
import { Decimal } from "../../lib/domain/decimal";
import { venueFromConfig } from "../../lib/domain/instruments";
import { createStrategy, detectArbitrage } from "../../lib/domain/strategies";
import type { OrderIntent } from "../../lib/domain/types";
import { quote, TestContext } from "./support/strategyContext";

// Both venues charge 5 bps taker fees.
const venues = [
  venueFromConfig({ id: "venue-a", makerFee: "0.0002", takerFee: "0.0005" }),
  venueFromConfig({ id: "venue-b", makerFee: "0.0002", takerFee: "0.0005" }),
];
// venue-b ask 30000; venue-a bid 30075 = 75/30000 = 25 bps above it.
const wideB = quote("venue-b", "BTC-USD", "29999", "30000", 1_000, "0.8");
const wideA = quote("venue-a", "BTC-USD", "30075", "30076", 1_001, "0.5");
// venue-a bid 30015 = 5 bps above venue-b's ask.
const narrowA = quote("venue-a", "BTC-USD", "30015", "30016", 1_001, "0.5");

function setup() {
  const ctx = new TestContext(undefined, venues);
  const arb = createStrategy("arbitrage", "arb-1");
  return { ctx, arb };
}

describe("Feature: Trading Engine executes basic arbitrage when spreads are wide", () => {
  it("Scenario: venues 25 bps apart with 5 bps taker fees each -> exactly one two-leg signal", () => {
    // Given two venues whose prices are 25 bps apart and 5 bps taker fees on each
    const { ctx, arb } = setup();
    expect(arb.onMarket(ctx.see(wideB), ctx)).toEqual([]);
    // When the wide quote arrives
    const legs = arb.onMarket(ctx.see(wideA), ctx);
    // Then one two-leg signal: buy on B (IOC limit at B's ask), sell on A (IOC limit at A's bid)
    expect(legs).toHaveLength(2);
    const [buy, sell] = legs as [OrderIntent, OrderIntent];
    expect(buy).toMatchObject({ side: "BUY", venue: "venue-b", type: "LIMIT", timeInForce: "IOC" });
    expect(sell).toMatchObject({ side: "SELL", venue: "venue-a", type: "LIMIT", timeInForce: "IOC" });
    expect(buy.limitPrice!.toFixed()).toBe("30000");
    expect(sell.limitPrice!.toFixed()).toBe("30075");
    // sized by the smaller top-of-book size: min(0.8 on B's ask, 0.5 on A's bid) = 0.5
    expect(buy.quantity.toFixed()).toBe("0.5");
    expect(sell.quantity.toFixed()).toBe("0.5");
    // and only one: the same wide quotes while the legs are open give nothing more
    expect(arb.onMarket(ctx.see({ ...wideA, ts: 1_002 }), ctx)).toEqual([]);
    expect(arb.onMarket(ctx.see({ ...wideB, ts: 1_003 }), ctx)).toEqual([]);
  });

  it("Scenario: the pure detector reports the net edge after fees", () => {
    const sig = detectArbitrage(wideA, wideB, venues, { minSpreadBps: 10 });
    expect(sig).not.toBeNull();
    // gross 25 bps; net = (30075*(1-0.0005) - 30000*(1.0005)) / 30000 = (30059.9625 - 30015)/30000 = 14.9875 bps
    expect(sig!.grossSpreadBps).toBeCloseTo(25, 10);
    expect(sig!.netSpreadBps).toBeCloseTo(14.9875, 10);
    expect(sig!.buyVenue).toBe("venue-b");
    expect(sig!.sellVenue).toBe("venue-a");
  });

  it("Scenario: venues 5 bps apart -> no signal", () => {
    const { ctx, arb } = setup();
    arb.onMarket(ctx.see(wideB), ctx);
    expect(arb.onMarket(ctx.see(narrowA), ctx)).toEqual([]);
    expect(detectArbitrage(narrowA, wideB, venues, { minSpreadBps: 10 })).toBeNull();
  });

  it("Scenario: sizing respects the risk headroom", () => {
    const { ctx, arb } = setup();
    ctx.headroomBySide.set("BTC-USD|BUY", new Decimal("0.2"));
    arb.onMarket(ctx.see(wideB), ctx);
    const legs = arb.onMarket(ctx.see(wideA), ctx);
    expect(legs.map((l) => l.quantity.toFixed())).toEqual(["0.2", "0.2"]);
  });

  it("Scenario: one leg rejected -> a hedge intent flattens the difference", () => {
    const { ctx, arb } = setup();
    arb.onMarket(ctx.see(wideB), ctx);
    const [buy, sell] = arb.onMarket(ctx.see(wideA), ctx) as [OrderIntent, OrderIntent];
    // Given the buy leg filled in full
    const afterBuy = arb.onFill(
      {
        ts: 1_002,
        orderId: "o-buy",
        venue: buy.venue,
        symbol: buy.symbol,
        side: "BUY",
        quantity: new Decimal("0.5"),
        price: new Decimal("30000"),
        fee: new Decimal("7.5"),
        liquidity: "TAKER",
        tag: buy.tag!,
        remainingQuantity: new Decimal(0),
      },
      ctx,
    );
    expect(afterBuy).toEqual([]); // the other leg is still open
    // When the sell leg is rejected by the venue
    const hedge = arb.onOrderEvent!(
      {
        ts: 1_003,
        kind: "REJECTED",
        orderId: "o-sell",
        venue: sell.venue,
        symbol: sell.symbol,
        side: "SELL",
        tag: sell.tag!,
        filledQuantity: new Decimal(0),
        reason: "venue rejected",
      },
      ctx,
    );
    // Then a hedge sells the 0.5 bought, on the venue with the best bid (venue-a)
    expect(hedge).toHaveLength(1);
    expect(hedge[0]).toMatchObject({ side: "SELL", type: "MARKET", timeInForce: "IOC", venue: "venue-a" });
    expect(hedge[0]!.quantity.toFixed()).toBe("0.5");
    expect(hedge[0]!.tag).toMatch(/:HEDGE$/);
  });

  it("Scenario: one leg partially filled -> hedge the difference", () => {
    const { ctx, arb } = setup();
    arb.onMarket(ctx.see(wideB), ctx);
    const [buy, sell] = arb.onMarket(ctx.see(wideA), ctx) as [OrderIntent, OrderIntent];
    const fill = (i: OrderIntent, qty: string, remaining: string) =>
      arb.onFill(
        {
          ts: 1_002,
          orderId: `o-${i.side}`,
          venue: i.venue,
          symbol: i.symbol,
          side: i.side,
          quantity: new Decimal(qty),
          price: i.limitPrice!,
          fee: new Decimal(0),
          liquidity: "TAKER",
          tag: i.tag!,
          remainingQuantity: new Decimal(remaining),
        },
        ctx,
      );
    expect(fill(buy, "0.5", "0")).toEqual([]);
    expect(fill(sell, "0.2", "0.3")).toEqual([]);
    const hedge = arb.onOrderEvent!(
      {
        ts: 1_003,
        kind: "EXPIRED",
        venue: sell.venue,
        symbol: sell.symbol,
        side: "SELL",
        tag: sell.tag!,
        filledQuantity: new Decimal("0.2"),
      },
      ctx,
    );
    expect(hedge).toHaveLength(1);
    expect(hedge[0]!.side).toBe("SELL");
    expect(hedge[0]!.quantity.toFixed()).toBe("0.3");
  });

  it("Scenario: both legs filled -> no hedge, and a new signal may fire after the cooldown", () => {
    const { ctx, arb } = setup();
    arb.onMarket(ctx.see(wideB), ctx);
    const legs = arb.onMarket(ctx.see(wideA), ctx);
    for (const l of legs)
      expect(
        arb.onFill(
          {
            ts: 1_002,
            orderId: `o-${l.side}`,
            venue: l.venue,
            symbol: l.symbol,
            side: l.side,
            quantity: l.quantity,
            price: l.limitPrice!,
            fee: new Decimal(0),
            liquidity: "TAKER",
            tag: l.tag!,
            remainingQuantity: new Decimal(0),
          },
          ctx,
        ),
      ).toEqual([]);
    expect(arb.onMarket(ctx.see({ ...wideA, ts: 1_500 }), ctx)).toEqual([]); // cooldown 1000 ms
    expect(arb.onMarket(ctx.see({ ...wideA, ts: 2_100 }), ctx)).toHaveLength(2);
  });
});
