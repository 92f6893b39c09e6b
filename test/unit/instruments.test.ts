import DecimalJs from "decimal.js";
import { describe, expect, it } from "vitest";
import { Decimal, dec, decStr, zDecimal, zPositiveDecimal } from "../../lib/domain/decimal";
import { InvalidFieldError, UnknownInstrumentError } from "../../lib/domain/errors";
import {
  assertOrderShape,
  DEFAULT_INSTRUMENTS,
  DEFAULT_VENUES,
  InstrumentRegistry,
  instrumentFromConfig,
  numericInstrument,
  OrderShapeError,
  roundPrice,
  roundPriceNumber,
  roundQty,
  roundQtyNumber,
  validateOrderShape,
  venueFromConfig,
} from "../../lib/domain/instruments";

const reg = new InstrumentRegistry();
const BTC = reg.instrument("BTC-USD");
const ETH = reg.instrument("ETH-USD");

describe("default instruments and venues", () => {
  it("BTC-USD and ETH-USD carry tick, lot and min notional from configuration", () => {
    expect(BTC).toMatchObject({ symbol: "BTC-USD", baseAsset: "BTC", quoteAsset: "USD" });
    expect(BTC.tickSize.toFixed()).toBe("0.01");
    expect(BTC.lotSize.toFixed()).toBe("0.0001");
    expect(BTC.minNotional.toFixed()).toBe("10");
    expect(ETH.lotSize.toFixed()).toBe("0.001");
    expect(DEFAULT_INSTRUMENTS).toHaveLength(2);
  });
  it("venues have maker and taker fees (taker 5 bps)", () => {
    expect(DEFAULT_VENUES.map((v) => v.id)).toEqual(["venue-a", "venue-b"]);
    const a = reg.venue("venue-a");
    expect(a.takerFee.toFixed()).toBe("0.0005");
    expect(a.makerFee.toFixed()).toBe("0.0002");
  });
  it("unknown instrument / venue give typed errors naming the value", () => {
    expect(() => reg.instrument("DOGE-USD")).toThrow(UnknownInstrumentError);
    expect(() => reg.instrument("DOGE-USD")).toThrow(/symbol="DOGE-USD"/);
    expect(() => reg.venue("nope")).toThrow(/venue="nope"/);
  });
});

describe("instrumentFromConfig / venueFromConfig", () => {
  it("parses strings and numbers into Decimals and derives assets from the symbol", () => {
    const i = instrumentFromConfig({ symbol: "SOL-USDT", tickSize: 0.001, lotSize: "0.1", minNotional: "5" });
    expect(i.baseAsset).toBe("SOL");
    expect(i.quoteAsset).toBe("USDT");
    expect(i.tickSize.toFixed()).toBe("0.001");
  });
  it("rejects a bad field with a typed error naming field and value", () => {
    try {
      instrumentFromConfig({ symbol: "BTC-USD", tickSize: "-1", lotSize: "0.1" });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidFieldError);
      expect((e as InvalidFieldError).field).toBe("instrument.tickSize");
      expect((e as InvalidFieldError).value).toBe("-1");
    }
    expect(() => instrumentFromConfig({ symbol: "btcusd", tickSize: "1", lotSize: "1" })).toThrow(
      /instrument.symbol="btcusd"/,
    );
    expect(() => venueFromConfig({ id: "x", makerFee: "abc", takerFee: "0.1" })).toThrow(/venue.makerFee="abc"/);
  });
  it("allows a maker rebate (negative maker fee) but not a negative taker fee", () => {
    expect(venueFromConfig({ id: "x", makerFee: "-0.0001", takerFee: "0.0004" }).makerFee.toFixed()).toBe("-0.0001");
    expect(() => venueFromConfig({ id: "x", makerFee: "0", takerFee: "-0.1" })).toThrow(/venue.takerFee/);
  });
  it("registry from config", () => {
    const r = InstrumentRegistry.fromConfig({ instruments: [{ symbol: "X-USD", tickSize: "1", lotSize: "1" }] });
    expect(r.instrument("X-USD").minNotional.toFixed()).toBe("0");
    expect(r.findInstrument("BTC-USD")).toBeUndefined();
    expect(r.listVenues()).toHaveLength(2);
  });
});

describe("rounding is direction-aware", () => {
  it("bids round down, asks round up to the tick", () => {
    expect(roundPrice(BTC, "100.019", "BUY").toFixed()).toBe("100.01");
    expect(roundPrice(BTC, "100.011", "SELL").toFixed()).toBe("100.02");
    expect(roundPrice(BTC, "100.01", "BUY").toFixed()).toBe("100.01");
    expect(roundPrice(BTC, "100.01", "SELL").toFixed()).toBe("100.01");
  });
  it("sizes round down to the lot", () => {
    expect(roundQty(BTC, "0.12349").toFixed()).toBe("0.1234");
    expect(roundQty(ETH, "1.9999").toFixed()).toBe("1.999");
    expect(roundQty(BTC, "0.00009").toFixed()).toBe("0");
  });
  it("number versions agree and survive float noise", () => {
    const n = numericInstrument(BTC);
    expect(roundPriceNumber(n, 100.019, "BUY")).toBe(100.01);
    expect(roundPriceNumber(n, 100.011, "SELL")).toBe(100.02);
    // 0.1 + 0.2 = 0.30000000000000004 must not jump a tick up on the ask.
    expect(roundPriceNumber(n, 0.1 + 0.2, "SELL")).toBe(0.3);
    expect(roundPriceNumber(n, 0.3 - 1e-12, "BUY")).toBe(0.3);
    expect(roundQtyNumber(n, 0.12349)).toBe(0.1234);
    expect(roundQtyNumber(n, -0.12349)).toBe(-0.1234);
  });
  it("uses the domain Decimal clone (precision 50)", () => {
    expect(Decimal.precision).toBe(50);
    expect(dec("1").div(3).toFixed().length).toBeGreaterThan(45);
  });
});

describe("validateOrderShape", () => {
  it("accepts a well-formed order", () => {
    expect(validateOrderShape(BTC, { side: "BUY", type: "LIMIT", quantity: "0.5", limitPrice: "50000.01" })).toEqual(
      [],
    );
  });
  it("names field and value for each violation", () => {
    const errs = validateOrderShape(BTC, { side: "BUY", type: "LIMIT", quantity: "0.01005", limitPrice: "50000.005" });
    expect(errs.map((e) => [e.rule, e.field, String(e.value)])).toEqual([
      ["lot-size", "quantity", "0.01005"],
      ["tick-size", "limitPrice", "50000.005"],
    ]);
    expect(errs[0]).toBeInstanceOf(OrderShapeError);
  });
  it("min notional, positive quantity/price and required limit price", () => {
    expect(
      validateOrderShape(BTC, { side: "SELL", type: "LIMIT", quantity: "0.0001", limitPrice: "50000" })[0],
    ).toMatchObject({
      rule: "min-notional",
      field: "notional",
    });
    expect(validateOrderShape(BTC, { side: "SELL", type: "LIMIT", quantity: "0", limitPrice: "1" })[0]?.rule).toBe(
      "quantity-positive",
    );
    expect(validateOrderShape(BTC, { side: "SELL", type: "LIMIT", quantity: "1", limitPrice: "-1" })[0]?.rule).toBe(
      "price-positive",
    );
    expect(validateOrderShape(BTC, { side: "SELL", type: "LIMIT", quantity: "1" })[0]?.rule).toBe(
      "limit-price-required",
    );
    // Market orders are valued at the reference price.
    expect(validateOrderShape(BTC, { side: "BUY", type: "MARKET", quantity: "0.0001" }, "50000")[0]?.rule).toBe(
      "min-notional",
    );
    expect(validateOrderShape(BTC, { side: "BUY", type: "MARKET", quantity: "0.001" }, "50000")).toEqual([]);
    expect(() => assertOrderShape(BTC, { side: "BUY", type: "LIMIT", quantity: "1", limitPrice: "1.001" })).toThrow(
      /limitPrice=1.001/,
    );
  });
});

describe("domain Decimal helpers", () => {
  it("dec() re-wraps foreign decimal.js instances into the domain clone and names bad input", () => {
    const foreign = new DecimalJs("1");
    const d = dec(foreign);
    expect(d.constructor).toBe(Decimal);
    expect(d.div(3).toFixed().length).toBeGreaterThan(45); // domain precision, not decimal.js' default 20
    const own = dec("2");
    expect(dec(own)).toBe(own);
    expect(() => dec("abc", "price")).toThrow(/price="abc"/);
    expect(() => dec(Number.NaN, "qty")).toThrow(/qty=NaN/);
    expect(() => dec(Number.POSITIVE_INFINITY, "qty")).toThrow(InvalidFieldError);
  });
  it("decStr never uses exponent notation", () => {
    expect(decStr("1e-12")).toBe("0.000000000001");
    expect(decStr(dec("1e30"))).toBe("1000000000000000000000000000000");
  });
  it("zod decimal schemas", () => {
    expect(zDecimal.parse("1.50").toFixed()).toBe("1.5");
    expect(zDecimal.safeParse("x").success).toBe(false);
    expect(zPositiveDecimal.safeParse("0").success).toBe(false);
    expect(zPositiveDecimal.parse(2).toFixed()).toBe("2");
  });
});
