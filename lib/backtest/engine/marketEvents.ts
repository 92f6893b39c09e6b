// What the backtester replays: L1 quotes and trade prints, in exchange-time order.
import type { Decimal } from "../../domain/decimal";
import type { FastL1Quote } from "../../domain/strategies/quoteMath";
import type { Side } from "../../domain/types";

/** One print on the tape. `side` is the aggressor: a SELL hits the bids, a BUY lifts the asks. */
export interface TradePrint {
  kind: "trade";
  ts: number;
  venue: string;
  symbol: string;
  price: Decimal;
  qty: Decimal;
  side: Side;
  /** Number mirrors of price and qty (hot path). */
  px: number;
  size: number;
}

export type BacktestEvent = FastL1Quote | TradePrint;

export function isTradePrint(e: BacktestEvent): e is TradePrint {
  return (e as TradePrint).kind === "trade";
}

export function tradePrint(t: Omit<TradePrint, "kind" | "px" | "size">): TradePrint {
  return { kind: "trade", ...t, px: t.price.toNumber(), size: t.qty.toNumber() };
}
