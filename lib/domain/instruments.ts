// Instruments and venues: configuration, direction-aware rounding and order-shape validation.
import * as z from "zod";
import { Decimal, type DecimalLike, dec, zDecimal, zNonNegativeDecimal, zPositiveDecimal } from "./decimal";
import { InvalidFieldError, UnknownInstrumentError, UnknownVenueError } from "./errors";
import type { Instrument, OrderType, Side, Venue } from "./types";

export const InstrumentConfigSchema = z
  .object({
    symbol: z.string().regex(/^[A-Z0-9]+-[A-Z0-9]+$/, "symbol must look like BASE-QUOTE"),
    baseAsset: z.string().min(1).optional(),
    quoteAsset: z.string().min(1).optional(),
    tickSize: zPositiveDecimal,
    lotSize: zPositiveDecimal,
    minNotional: zNonNegativeDecimal.default(new Decimal(0)),
  })
  .strict();
export type InstrumentConfig = z.input<typeof InstrumentConfigSchema>;

export const VenueConfigSchema = z
  .object({
    id: z.string().min(1),
    // Maker fee may be negative (a rebate).
    makerFee: zDecimal,
    takerFee: zNonNegativeDecimal,
  })
  .strict();
export type VenueConfig = z.input<typeof VenueConfigSchema>;

/** Turn a zod failure into the domain's typed error naming the first bad field and its value. */
export function zodToFieldError(prefix: string, input: unknown, err: z.ZodError): InvalidFieldError {
  const issue = err.issues[0];
  const path = issue?.path ?? [];
  let value: unknown = input;
  for (const k of path) value = value == null ? undefined : (value as Record<PropertyKey, unknown>)[k as PropertyKey];
  const field = [prefix, ...path.map(String)].filter(Boolean).join(".");
  return new InvalidFieldError(field || prefix, value, issue?.message ?? "invalid");
}

export function instrumentFromConfig(input: unknown): Instrument {
  const r = InstrumentConfigSchema.safeParse(input);
  if (!r.success) throw zodToFieldError("instrument", input, r.error);
  const [base, quote] = r.data.symbol.split("-") as [string, string];
  return {
    symbol: r.data.symbol,
    baseAsset: r.data.baseAsset ?? base,
    quoteAsset: r.data.quoteAsset ?? quote,
    tickSize: r.data.tickSize,
    lotSize: r.data.lotSize,
    minNotional: r.data.minNotional,
  };
}

export function venueFromConfig(input: unknown): Venue {
  const r = VenueConfigSchema.safeParse(input);
  if (!r.success) throw zodToFieldError("venue", input, r.error);
  return { id: r.data.id, makerFee: r.data.makerFee, takerFee: r.data.takerFee };
}

export const DEFAULT_INSTRUMENT_CONFIGS: readonly InstrumentConfig[] = [
  { symbol: "BTC-USD", tickSize: "0.01", lotSize: "0.0001", minNotional: "10" },
  { symbol: "ETH-USD", tickSize: "0.01", lotSize: "0.001", minNotional: "10" },
];
export const DEFAULT_VENUE_CONFIGS: readonly VenueConfig[] = [
  { id: "venue-a", makerFee: "0.0002", takerFee: "0.0005" },
  { id: "venue-b", makerFee: "0.0002", takerFee: "0.0005" },
];
export const DEFAULT_INSTRUMENTS: readonly Instrument[] = DEFAULT_INSTRUMENT_CONFIGS.map(instrumentFromConfig);
export const DEFAULT_VENUES: readonly Venue[] = DEFAULT_VENUE_CONFIGS.map(venueFromConfig);

/** Lookup tables built once from configuration; throw typed errors for unknown keys. */
export class InstrumentRegistry {
  private readonly instruments = new Map<string, Instrument>();
  private readonly venues = new Map<string, Venue>();
  constructor(instruments: readonly Instrument[] = DEFAULT_INSTRUMENTS, venues: readonly Venue[] = DEFAULT_VENUES) {
    for (const i of instruments) this.instruments.set(i.symbol, i);
    for (const v of venues) this.venues.set(v.id, v);
  }
  static fromConfig(cfg: { instruments?: unknown[]; venues?: unknown[] }): InstrumentRegistry {
    return new InstrumentRegistry(
      cfg.instruments ? cfg.instruments.map(instrumentFromConfig) : DEFAULT_INSTRUMENTS,
      cfg.venues ? cfg.venues.map(venueFromConfig) : DEFAULT_VENUES,
    );
  }
  instrument(symbol: string): Instrument {
    const i = this.instruments.get(symbol);
    if (!i) throw new UnknownInstrumentError(symbol);
    return i;
  }
  venue(id: string): Venue {
    const v = this.venues.get(id);
    if (!v) throw new UnknownVenueError(id);
    return v;
  }
  findInstrument(symbol: string): Instrument | undefined {
    return this.instruments.get(symbol);
  }
  findVenue(id: string): Venue | undefined {
    return this.venues.get(id);
  }
  listInstruments(): Instrument[] {
    return [...this.instruments.values()];
  }
  listVenues(): Venue[] {
    return [...this.venues.values()];
  }
}

// ---------- rounding ----------

/** Bids round down, asks round up, to the tick: never pay more / sell for less than the strategy asked. */
export function roundPrice(instr: Instrument, price: DecimalLike, side: Side): Decimal {
  return dec(price, "price").toNearest(instr.tickSize, side === "BUY" ? Decimal.ROUND_FLOOR : Decimal.ROUND_CEIL);
}

/** Sizes round down to the lot (towards zero): never trade more than asked. */
export function roundQty(instr: Instrument, qty: DecimalLike): Decimal {
  return dec(qty, "quantity").toNearest(instr.lotSize, Decimal.ROUND_DOWN);
}

/** Number twin of an instrument for hot paths (quoter, backtester). */
export interface NumericInstrument {
  symbol: string;
  tick: number;
  lot: number;
  minNotional: number;
  priceDecimals: number;
  qtyDecimals: number;
}
const numericCache = new WeakMap<Instrument, NumericInstrument>();
export function numericInstrument(instr: Instrument): NumericInstrument {
  let n = numericCache.get(instr);
  if (!n) {
    n = {
      symbol: instr.symbol,
      tick: instr.tickSize.toNumber(),
      lot: instr.lotSize.toNumber(),
      minNotional: instr.minNotional.toNumber(),
      priceDecimals: Math.max(0, instr.tickSize.decimalPlaces()),
      qtyDecimals: Math.max(0, instr.lotSize.decimalPlaces()),
    };
    numericCache.set(instr, n);
  }
  return n;
}
// Guard so 0.30000000000000004/0.01 style float noise does not move a value to the next tick.
const EPS = 1e-9;
/** Number version of roundPrice; result is an exact multiple of the tick up to its decimals. */
export function roundPriceNumber(n: NumericInstrument, price: number, side: Side): number {
  const steps = price / n.tick;
  const k = side === "BUY" ? Math.floor(steps + EPS) : Math.ceil(steps - EPS);
  return Number((k * n.tick).toFixed(n.priceDecimals));
}
/** Number version of roundQty (down to the lot). */
export function roundQtyNumber(n: NumericInstrument, qty: number): number {
  const k = Math.floor(Math.abs(qty) / n.lot + EPS) * Math.sign(qty);
  return Number((k * n.lot).toFixed(n.qtyDecimals)) + 0;
}

// ---------- order shape ----------

export type OrderShapeRule =
  | "quantity-positive"
  | "lot-size"
  | "limit-price-required"
  | "price-positive"
  | "tick-size"
  | "min-notional";

export class OrderShapeError extends InvalidFieldError {
  override name = "OrderShapeError";
  constructor(
    readonly rule: OrderShapeRule,
    field: string,
    value: unknown,
    reason: string,
  ) {
    super(field, value, reason);
  }
}

export interface OrderShape {
  side: Side;
  type: OrderType;
  quantity: DecimalLike;
  limitPrice?: DecimalLike;
}

/**
 * Every tick/lot/min-notional violation of an order, each naming the field and value.
 * `referencePrice` (e.g. mid) values a market order for the min-notional check.
 */
export function validateOrderShape(
  instr: Instrument,
  order: OrderShape,
  referencePrice?: DecimalLike,
): OrderShapeError[] {
  const errors: OrderShapeError[] = [];
  const qty = dec(order.quantity, "quantity");
  if (qty.lte(0)) errors.push(new OrderShapeError("quantity-positive", "quantity", qty, "must be > 0"));
  else if (!qty.mod(instr.lotSize).isZero())
    errors.push(
      new OrderShapeError("lot-size", "quantity", qty, `not a multiple of lot size ${instr.lotSize.toFixed()}`),
    );
  let px: Decimal | undefined;
  if (order.type === "LIMIT") {
    if (order.limitPrice === undefined) {
      errors.push(new OrderShapeError("limit-price-required", "limitPrice", undefined, "required for LIMIT orders"));
    } else {
      px = dec(order.limitPrice, "limitPrice");
      if (px.lte(0)) errors.push(new OrderShapeError("price-positive", "limitPrice", px, "must be > 0"));
      else if (!px.mod(instr.tickSize).isZero())
        errors.push(
          new OrderShapeError("tick-size", "limitPrice", px, `not a multiple of tick size ${instr.tickSize.toFixed()}`),
        );
    }
  } else if (referencePrice !== undefined) {
    px = dec(referencePrice, "referencePrice");
  }
  if (px?.gt(0) && qty.gt(0)) {
    const notional = qty.times(px);
    if (notional.lt(instr.minNotional))
      errors.push(
        new OrderShapeError("min-notional", "notional", notional, `below min notional ${instr.minNotional.toFixed()}`),
      );
  }
  return errors;
}

/** Throws the first violation. */
export function assertOrderShape(instr: Instrument, order: OrderShape, referencePrice?: DecimalLike): void {
  const e = validateOrderShape(instr, order, referencePrice)[0];
  if (e) throw e;
}
