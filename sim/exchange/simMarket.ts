// The simulator's instruments and venues, and the validation of a PlaceOrder request against them.
import Decimal from "decimal.js";
import { OrderType, type PlaceOrderRequest, Side, TimeInForce } from "../../gen/proto/tse/exchange/exchange";
import { invalidArgument } from "../common/grpcErrors";
import type { BookSide } from "./OrderBook";

export interface SimInstrument {
  symbol: string;
  baseAsset: string;
  quoteAsset: string;
  tickSize: string;
  lotSize: string;
  minNotional: string;
}

export interface SimVenue {
  id: string;
  makerFee: string;
  takerFee: string;
}

export const DEFAULT_SIM_INSTRUMENTS: readonly SimInstrument[] = [
  { symbol: "BTC-USD", baseAsset: "BTC", quoteAsset: "USD", tickSize: "0.01", lotSize: "0.0001", minNotional: "0" },
  { symbol: "ETH-USD", baseAsset: "ETH", quoteAsset: "USD", tickSize: "0.01", lotSize: "0.001", minNotional: "0" },
];

export const DEFAULT_SIM_VENUES: readonly SimVenue[] = [
  { id: "venue-a", makerFee: "0.0002", takerFee: "0.0005" },
  { id: "venue-b", makerFee: "0.0002", takerFee: "0.0005" },
];

/** An instrument with its tick and lot as decimals. */
export interface Inst {
  spec: SimInstrument;
  tick: Decimal;
  lot: Decimal;
}

const MAX_UNITS = 1e12;
const SIDE_NAME: Record<number, BookSide> = { [Side.BUY]: "BUY", [Side.SELL]: "SELL" };

export function parseDecimal(field: string, raw: string): Decimal {
  let d: Decimal;
  try {
    d = new Decimal(raw.trim());
  } catch {
    throw invalidArgument(field, raw, "not a decimal number");
  }
  if (!d.isFinite()) throw invalidArgument(field, raw, "not a finite number");
  return d;
}

export function requireVenue(venues: ReadonlyMap<string, SimVenue>, venue: string): SimVenue {
  const v = venues.get(venue);
  if (!v) throw invalidArgument("venue", venue, `unknown venue (known: ${[...venues.keys()].join(", ")})`);
  return v;
}

export function requireInstrument(instruments: ReadonlyMap<string, Inst>, symbol: string): Inst {
  const i = instruments.get(symbol);
  if (!i) {
    throw invalidArgument("symbol", symbol, `unknown symbol (known: ${[...instruments.keys()].join(", ")})`);
  }
  return i;
}

export interface ValidOrder {
  venue: SimVenue;
  inst: Inst;
  side: BookSide;
  qty: Decimal;
  price: Decimal | undefined;
}

export function validateOrder(
  req: PlaceOrderRequest,
  venues: ReadonlyMap<string, SimVenue>,
  instruments: ReadonlyMap<string, Inst>,
): ValidOrder {
  if (!req.clientOrderId || req.clientOrderId.trim() === "") {
    throw invalidArgument("client_order_id", req.clientOrderId, "must not be empty");
  }
  const venue = requireVenue(venues, req.venue);
  const inst = requireInstrument(instruments, req.symbol);
  const side = SIDE_NAME[req.side];
  if (!side) throw invalidArgument("side", req.side, "must be BUY or SELL");
  if (req.type !== OrderType.LIMIT && req.type !== OrderType.MARKET) {
    throw invalidArgument("type", req.type, "must be MARKET or LIMIT");
  }
  const tif = req.timeInForce;
  if (![TimeInForce.UNSPECIFIED, TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK].includes(tif)) {
    throw invalidArgument("time_in_force", tif, "must be GTC, IOC or FOK");
  }
  const qty = parseDecimal("quantity", req.quantity);
  if (qty.lte(0)) throw invalidArgument("quantity", req.quantity, "must be > 0");
  if (!qty.mod(inst.lot).isZero()) {
    throw invalidArgument("quantity", req.quantity, `not a multiple of the lot size ${inst.spec.lotSize}`);
  }
  // The book counts in integer lots and ticks held in plain numbers: keep them exact.
  if (qty.div(inst.lot).gt(MAX_UNITS)) throw invalidArgument("quantity", req.quantity, "too large");
  let price: Decimal | undefined;
  if (req.type === OrderType.LIMIT) {
    if (req.price.trim() === "") throw invalidArgument("price", req.price, "required for LIMIT orders");
    price = parseDecimal("price", req.price);
    if (price.lte(0)) throw invalidArgument("price", req.price, "must be > 0");
    if (!price.mod(inst.tick).isZero()) {
      throw invalidArgument("price", req.price, `not on the tick size ${inst.spec.tickSize}`);
    }
    if (price.div(inst.tick).gt(MAX_UNITS)) throw invalidArgument("price", req.price, "too large");
  } else {
    if (req.postOnly) throw invalidArgument("post_only", req.postOnly, "not allowed on MARKET orders");
  }
  return { venue, inst, side, qty, price };
}
