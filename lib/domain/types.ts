// Shared vocabulary of the domain. Pure types: no I/O, no clock.
import type Decimal from "decimal.js";

export type Side = "BUY" | "SELL";
export type OrderType = "MARKET" | "LIMIT";
export type TimeInForce = "GTC" | "IOC" | "FOK";
export type TradingState = "ACTIVE" | "REDUCING" | "HALTED";

/** A tradable pair on any venue, e.g. BTC-USD. Sizes and prices are exact decimals. */
export interface Instrument {
  symbol: string;
  baseAsset: string;
  quoteAsset: string;
  tickSize: Decimal;
  lotSize: Decimal;
  minNotional: Decimal;
}

/** Fees are fractions, e.g. 0.0005 = 5 bps. */
export interface Venue {
  id: string;
  makerFee: Decimal;
  takerFee: Decimal;
}

/** Top of book for one symbol on one venue; epoch milliseconds. */
export interface L1Quote {
  ts: number;
  venue: string;
  symbol: string;
  bid: Decimal;
  ask: Decimal;
  bidSize: Decimal;
  askSize: Decimal;
}

/** What is asked of an order: the terms an intent and the order made from it share. */
export interface OrderTerms {
  strategyId: string;
  venue: string;
  symbol: string;
  side: Side;
  type: OrderType;
  timeInForce: TimeInForce;
  postOnly: boolean;
  quantity: Decimal;
  limitPrice?: Decimal;
  /** Optional tag so strategies can recognise their own orders (e.g. "mm:bid:0", "arb:leg1"). */
  tag?: string;
}

/** What a strategy wants; the risk engine and sizing turn it into an order (or deny it). */
export interface OrderIntent extends OrderTerms {
  /** Cancel instead of place: the id of the order to cancel. */
  cancelOrderId?: string;
}
