// Netting position per strategy+symbol and the pure fill-application rule.
//
// Accounting (see docs/domain.md): a position keeps its signed quantity and its cost basis
// (|qty| × entry price, summed exactly). The average entry price is cost/|qty| quantized to
// AVG_PRICE_DP places and only changes when the position grows. A reduction realizes
// closeQty × (price − avg) and removes closeQty × avg from the cost; closing to flat removes
// the whole remaining cost, so a round trip realizes exactly its cash PnL (no drift), and
// unrealized = sign × (|qty| × mark − cost) keeps equity change = realized + unrealized − fees exact.
import { type Decimal, type DecimalLike, dec, ZERO } from "../decimal";
import { InvalidFieldError } from "../errors";
import type { Side } from "../types";

export const AVG_PRICE_DP = 20;

export interface Position {
  readonly strategyId: string;
  readonly symbol: string;
  /** Venue of the latest fill (positions net across venues). */
  readonly venue: string;
  /** Signed: > 0 long, < 0 short. */
  readonly quantity: Decimal;
  /** 0 when flat. */
  readonly averageEntryPrice: Decimal;
  /** |quantity| × entry prices still open, exact. 0 when flat. */
  readonly costBasis: Decimal;
  /** Gross of fees. */
  readonly realizedPnl: Decimal;
  /** Fees charged in the instrument's quote asset. */
  readonly fees: Decimal;
  readonly fillCount: number;
  /** Optimistic-locking version: +1 per applied fill. */
  readonly version: number;
  readonly openedAt?: number;
  readonly updatedAt: number;
}

export interface PositionFill {
  strategyId: string;
  symbol: string;
  venue: string;
  side: Side;
  quantity: DecimalLike;
  price: DecimalLike;
  /** Fee amount (>= 0; a maker rebate may be negative). */
  fee?: DecimalLike;
  /** Fee asset; defaults to the instrument's quote asset. */
  feeCurrency?: string;
  ts: number;
  fillId?: string;
  orderId?: string;
}

export interface PositionUpdate {
  position: Position;
  previous: Position | undefined;
  /** Realized PnL produced by this fill (gross of fees). */
  realizedPnlDelta: Decimal;
  /** The fill reduced a position (a closing fill, see isClosingFill), even at break-even. */
  closing: boolean;
  /** Signed change of quantity (+ buy, − sell). */
  quantityDelta: Decimal;
  /** The fill's quantity and price, normalised to the domain Decimal. */
  quantity: Decimal;
  price: Decimal;
}

export function flatPosition(strategyId: string, symbol: string, venue: string, now: number): Position {
  return {
    strategyId,
    symbol,
    venue,
    quantity: ZERO,
    averageEntryPrice: ZERO,
    costBasis: ZERO,
    realizedPnl: ZERO,
    fees: ZERO,
    fillCount: 0,
    version: 0,
    updatedAt: now,
  };
}

/**
 * Apply one fill to a position (undefined = flat). `quoteFee` is the part of the fee charged in
 * the quote asset (added to `position.fees`); pass 0 when the fee is charged in another asset.
 */
export function applyFillToPosition(
  prev: Position | undefined,
  fill: PositionFill,
  quoteFee: Decimal = ZERO,
): PositionUpdate {
  const qty = dec(fill.quantity, "fill.quantity");
  const price = dec(fill.price, "fill.price");
  if (!qty.gt(0)) throw new InvalidFieldError("fill.quantity", qty, "must be > 0");
  if (!price.gt(0)) throw new InvalidFieldError("fill.price", price, "must be > 0");
  if (prev && (prev.strategyId !== fill.strategyId || prev.symbol !== fill.symbol))
    throw new InvalidFieldError(
      "fill.symbol",
      fill.symbol,
      `fill does not belong to position ${prev.strategyId}/${prev.symbol}`,
    );
  const p = prev ?? flatPosition(fill.strategyId, fill.symbol, fill.venue, fill.ts);
  const buy = fill.side === "BUY";
  const q = p.quantity;
  const sign = q.s; // 1 long/flat(+0), -1 short
  let quantity: Decimal;
  let cost: Decimal;
  let avg: Decimal;
  let realized = ZERO;
  let openedAt = p.openedAt;
  if (q.isZero() || (buy ? sign > 0 : sign < 0)) {
    // Opening or increasing.
    quantity = buy ? q.plus(qty) : q.minus(qty);
    const notional = qty.times(price);
    if (q.isZero()) {
      // Opening: the average is the price itself (skips a ~6 µs division).
      cost = notional;
      avg = price;
      openedAt = fill.ts;
    } else {
      cost = p.costBasis.plus(notional);
      avg = cost.div(quantity.abs()).toDecimalPlaces(AVG_PRICE_DP);
    }
  } else {
    const absQ = q.abs();
    if (qty.lt(absQ)) {
      // Partial reduction: avg unchanged.
      avg = p.averageEntryPrice;
      const removed = qty.times(avg);
      realized = sign > 0 ? qty.times(price).minus(removed) : removed.minus(qty.times(price));
      cost = p.costBasis.minus(removed);
      quantity = buy ? q.plus(qty) : q.minus(qty);
    } else {
      // Close to flat (and maybe flip): the whole remaining cost leaves, exactly.
      const proceeds = absQ.times(price);
      realized = sign > 0 ? proceeds.minus(p.costBasis) : p.costBasis.minus(proceeds);
      const rest = qty.minus(absQ);
      if (rest.isZero()) {
        quantity = ZERO;
        cost = ZERO;
        avg = ZERO;
        openedAt = undefined;
      } else {
        quantity = buy ? rest : rest.neg();
        cost = rest.times(price);
        avg = price;
        openedAt = fill.ts;
      }
    }
  }
  const position: Position = {
    strategyId: p.strategyId,
    symbol: p.symbol,
    venue: fill.venue,
    quantity,
    averageEntryPrice: avg,
    costBasis: cost,
    realizedPnl: realized.isZero() ? p.realizedPnl : p.realizedPnl.plus(realized),
    fees: quoteFee.isZero() ? p.fees : p.fees.plus(quoteFee),
    fillCount: p.fillCount + 1,
    version: p.version + 1,
    ...(openedAt !== undefined ? { openedAt } : {}),
    updatedAt: fill.ts,
  };
  return {
    position,
    previous: prev,
    realizedPnlDelta: realized,
    closing: isClosingFill(q, buy),
    quantityDelta: buy ? qty : qty.neg(),
    quantity: qty,
    price,
  };
}

/**
 * The one definition of a closing fill: it reduced a position (a sell against a long, a buy against a
 * short), whatever its PnL — a break-even close is still a close. Opening and increasing fills are not.
 */
export function isClosingFill(previousQuantity: Decimal | undefined, buy: boolean): boolean {
  return previousQuantity !== undefined && !previousQuantity.isZero() && previousQuantity.isNeg() === buy;
}

/** A closing fill's realized PnL as stored/published (exact string); null for an opening fill. */
export function closingRealizedPnl(update: Pick<PositionUpdate, "closing" | "realizedPnlDelta">): string | null {
  return update.closing ? update.realizedPnlDelta.toFixed() : null;
}

/** Unrealized PnL at `mark`, from the exact cost basis (0 when flat). */
export function unrealizedPnl(pos: Position, mark: DecimalLike): Decimal {
  if (pos.quantity.isZero()) return ZERO;
  const value = pos.quantity.abs().times(dec(mark, "mark"));
  return pos.quantity.s > 0 ? value.minus(pos.costBasis) : pos.costBasis.minus(value);
}

/** Storage/event form: exact decimal strings. */
export interface PositionRecord {
  strategyId: string;
  symbol: string;
  venue: string;
  quantity: string;
  averageEntryPrice: string;
  costBasis: string;
  realizedPnl: string;
  fees: string;
  fillCount: number;
  version: number;
  openedAt?: number;
  updatedAt: number;
}

export function positionToRecord(p: Position): PositionRecord {
  return {
    strategyId: p.strategyId,
    symbol: p.symbol,
    venue: p.venue,
    quantity: p.quantity.toFixed(),
    averageEntryPrice: p.averageEntryPrice.toFixed(),
    costBasis: p.costBasis.toFixed(),
    realizedPnl: p.realizedPnl.toFixed(),
    fees: p.fees.toFixed(),
    fillCount: p.fillCount,
    version: p.version,
    ...(p.openedAt !== undefined ? { openedAt: p.openedAt } : {}),
    updatedAt: p.updatedAt,
  };
}

export function positionFromRecord(r: PositionRecord): Position {
  return {
    strategyId: r.strategyId,
    symbol: r.symbol,
    venue: r.venue,
    quantity: dec(r.quantity, "quantity"),
    averageEntryPrice: dec(r.averageEntryPrice, "averageEntryPrice"),
    costBasis: dec(r.costBasis, "costBasis"),
    realizedPnl: dec(r.realizedPnl, "realizedPnl"),
    fees: dec(r.fees, "fees"),
    fillCount: r.fillCount,
    version: r.version,
    ...(r.openedAt !== undefined ? { openedAt: r.openedAt } : {}),
    updatedAt: r.updatedAt,
  };
}
