import { describe, expect, it } from "vitest";
import { dec } from "../../lib/domain/decimal";
import {
  applyFillToPosition,
  MissingMarkError,
  Portfolio,
  type PositionFill,
  positionFromRecord,
  positionToRecord,
  unrealizedPnl,
} from "../../lib/domain/portfolio";

const T = 1_700_000_000_000;
const f = (side: "BUY" | "SELL", qty: string, price: string, o: Partial<PositionFill> = {}): PositionFill => ({
  strategyId: "s1",
  symbol: "BTC-USD",
  venue: "venue-a",
  side,
  quantity: qty,
  price,
  fee: "0",
  ts: T,
  ...o,
});

describe("position accounting (hand-computed)", () => {
  it("average entry, realized on reduction, flip through zero, unrealized from mark", () => {
    const p = new Portfolio({ initialCash: { USD: "100000" } });
    p.applyFill(f("BUY", "1", "100"));
    let r = p.applyFill(f("BUY", "1", "110"));
    expect(r.position.averageEntryPrice.toFixed()).toBe("105");
    expect(r.realizedPnlDelta.toFixed()).toBe("0");
    r = p.applyFill(f("SELL", "1.5", "120"));
    expect(r.realizedPnlDelta.toFixed()).toBe("22.5");
    expect(r.position.quantity.toFixed()).toBe("0.5");
    expect(r.position.averageEntryPrice.toFixed()).toBe("105");
    // Sell 1 @100: closes 0.5 (realized -2.5) and opens short 0.5 @100.
    r = p.applyFill(f("SELL", "1", "100", { venue: "venue-b" }));
    expect(r.realizedPnlDelta.toFixed()).toBe("-2.5");
    expect(r.position.quantity.toFixed()).toBe("-0.5");
    expect(r.position.averageEntryPrice.toFixed()).toBe("100");
    expect(r.position.venue).toBe("venue-b");
    expect(r.position.realizedPnl.toFixed()).toBe("20");
    expect(r.position.version).toBe(4);
    p.setMark("BTC-USD", "90");
    expect(p.unrealizedPnl().toFixed()).toBe("5");
    expect(p.realizedPnl().toFixed()).toBe("20");
    // Cash: -100 -110 +180 +100 = +70 ; BTC -0.5 marked at 90 = -45 → equity 100025 = 100000 + 20 + 5.
    expect(p.cash("USD").toFixed()).toBe("100070");
    expect(p.cash("BTC").toFixed()).toBe("-0.5");
    expect(p.equity().toFixed()).toBe("100025");
  });

  it("short side: realized when buying back below entry", () => {
    let up = applyFillToPosition(undefined, f("SELL", "2", "200"));
    up = applyFillToPosition(up.position, f("BUY", "1", "150"));
    expect(up.realizedPnlDelta.toFixed()).toBe("50");
    expect(up.position.quantity.toFixed()).toBe("-1");
    expect(unrealizedPnl(up.position, "210").toFixed()).toBe("-10");
    up = applyFillToPosition(up.position, f("BUY", "1", "250"));
    expect(up.realizedPnlDelta.toFixed()).toBe("-50");
    expect(up.position.quantity.isZero()).toBe(true);
    expect(up.position.averageEntryPrice.toFixed()).toBe("0");
    expect(up.position.openedAt).toBeUndefined();
  });

  it("fees per currency and cash per asset; quote fees reduce position.fees", () => {
    const p = new Portfolio({ initialCash: { USD: "1000" } });
    p.applyFill(f("BUY", "0.01", "50000", { fee: "0.25" }));
    p.applyFill(f("SELL", "0.01", "50100", { fee: "0.0000001", feeCurrency: "BTC" }));
    expect(p.fees().get("USD")?.toFixed()).toBe("0.25");
    expect(p.fees().get("BTC")?.toFixed()).toBe("0.0000001");
    expect(p.cash("BTC").toFixed()).toBe("-0.0000001");
    expect(p.cash("USD").toFixed()).toBe("1000.75");
    expect(p.position("s1", "BTC-USD")?.fees.toFixed()).toBe("0.25");
    expect(p.strategyFees("s1").toFixed()).toBe("0.25");
  });

  it("nets per strategy and symbol; netQuantity sums strategies; gross notional", () => {
    const p = new Portfolio();
    p.applyFill(f("BUY", "2", "100"));
    p.applyFill(f("SELL", "3", "100", { strategyId: "s2" }));
    p.applyFill(f("BUY", "10", "10", { symbol: "ETH-USD" }));
    expect(p.position("s1", "BTC-USD")?.quantity.toFixed()).toBe("2");
    expect(p.position("s2", "BTC-USD")?.quantity.toFixed()).toBe("-3");
    expect(p.netQuantity("BTC-USD").toFixed()).toBe("-1");
    expect(p.netQuantityNumber("BTC-USD")).toBe(-1);
    expect(p.positionNumber("s2", "BTC-USD")).toBe(-3);
    expect(p.positions("s1")).toHaveLength(2);
    expect(p.strategies().sort()).toEqual(["s1", "s2"]);
    expect(() => p.grossNotional()).toThrow(MissingMarkError);
    p.setMark("BTC-USD", "110");
    p.setMark("ETH-USD", "12");
    expect(p.grossNotional().toFixed()).toBe("670");
    expect(p.grossNotional("s1").toFixed()).toBe("340");
    expect(p.grossNotionalNumber("s2")).toBe(330);
    expect(p.netPnl("s1").toFixed()).toBe("40");
  });

  it("number fast paths follow the exact balances", () => {
    const p = new Portfolio({ initialCash: { USD: "1000" } });
    p.applyFill(f("BUY", "0.1", "100", { fee: "0.01" }));
    p.applyFill(f("BUY", "1", "10", { symbol: "ETH-USD" }));
    expect(p.cashNumber("USD")).toBe(979.99);
    expect(p.cashNumber("BTC")).toBe(0.1);
    p.setMark("BTC-USD", "110");
    expect(p.equityNumber()).toBe(979.99 + 11); // ETH unmarked counts 0 in the number path
    expect(() => p.equity()).toThrow(MissingMarkError);
    p.setMark("ETH-USD", "12");
    expect(p.equity().toFixed()).toBe("1002.99");
    expect(p.equityNumber()).toBeCloseTo(1002.99, 9);
  });

  it("marks from an L1 quote use the mid", () => {
    const p = new Portfolio();
    const mid = p.markFromQuote({
      ts: T,
      venue: "venue-a",
      symbol: "BTC-USD",
      bid: dec("100"),
      ask: dec("100.03"),
      bidSize: dec(1),
      askSize: dec(1),
    });
    expect(mid.toFixed()).toBe("100.015");
    expect(p.markNumber("BTC-USD")).toBe(100.015);
    expect(() => p.setMark("BTC-USD", "0")).toThrow(/mark=0/);
  });

  it("records round-trip as exact strings", () => {
    const up = applyFillToPosition(undefined, f("BUY", "0.3", "101.01", { fee: "0.01" }), dec("0.01"));
    const rec = positionToRecord(up.position);
    expect(rec).toMatchObject({
      quantity: "0.3",
      averageEntryPrice: "101.01",
      costBasis: "30.303",
      fees: "0.01",
      version: 1,
    });
    expect(positionToRecord(positionFromRecord(JSON.parse(JSON.stringify(rec))))).toEqual(rec);
    const p = new Portfolio();
    p.applyFill(f("BUY", "1", "5"));
    expect(p.snapshot()).toMatchObject({ cash: { BTC: "1", USD: "-5" }, realizedPnl: "0" });
  });

  it("bad fills are typed errors naming the field", () => {
    const p = new Portfolio();
    expect(() => p.applyFill(f("BUY", "0", "1"))).toThrow(/fill.quantity=0/);
    expect(() => p.applyFill(f("BUY", "1", "abc"))).toThrow(/fill.price="abc"/);
    expect(() => p.applyFill(f("BUY", "1", "1", { symbol: "XRP-USD" }))).toThrow(/symbol="XRP-USD"/);
    const up = applyFillToPosition(undefined, f("BUY", "1", "1"));
    expect(() => applyFillToPosition(up.position, f("BUY", "1", "1", { symbol: "ETH-USD" }))).toThrow(/fill.symbol/);
  });
});
