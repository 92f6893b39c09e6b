// Order record and its pure lifecycle operations. Every operation returns a new Order.
import { type Decimal, type DecimalLike, dec, ZERO } from "../decimal";
import { DomainError, InvalidFieldError } from "../errors";
import type { OrderIntent, OrderTerms } from "../types";
import { canTransition, isOpen, type OrderStatus } from "./orderStatus";

/** An order: what was asked (its terms), its ids, and its progress. */
export interface Order extends OrderTerms {
  // ids
  orderId: string;
  clientOrderId: string;
  exchangeOrderId?: string;
  /** Signal that produced this order, when known. */
  signalId?: string;
  // progress
  status: OrderStatus;
  filledQuantity: Decimal;
  remainingQuantity: Decimal;
  /** Σ fill qty × price; averageFillPrice = filledNotional / filledQuantity. */
  filledNotional: Decimal;
  averageFillPrice?: Decimal;
  commission: Decimal;
  realizedPnl: Decimal;
  // time (epoch ms) and error
  createdAt: number;
  updatedAt: number;
  errorMessage?: string;
}

export class IllegalTransitionError extends DomainError {
  override name = "IllegalTransitionError";
  constructor(
    readonly from: OrderStatus,
    readonly to: OrderStatus,
    readonly orderId?: string,
  ) {
    super(`illegal order transition ${from} -> ${to}${orderId ? ` (order ${orderId})` : ""}`);
  }
}

/** A fill that would exceed the order quantity, or break FOK, or hit an order that cannot fill. */
export class FillError extends InvalidFieldError {
  override name = "FillError";
}

export interface NewOrderIds {
  orderId?: string;
  clientOrderId: string;
  signalId?: string;
}

/** Build a pending-new order from an intent. orderId defaults to the client order id. */
export function createOrder(intent: OrderIntent, ids: NewOrderIds, now: number): Order {
  const quantity = dec(intent.quantity, "quantity");
  if (quantity.lte(0)) throw new InvalidFieldError("quantity", quantity, "must be > 0");
  if (intent.type === "LIMIT" && intent.limitPrice === undefined)
    throw new InvalidFieldError("limitPrice", undefined, "required for LIMIT orders");
  if (intent.type === "MARKET" && intent.postOnly)
    throw new InvalidFieldError("postOnly", true, "not allowed on MARKET");
  const o: Order = {
    orderId: ids.orderId ?? ids.clientOrderId,
    clientOrderId: ids.clientOrderId,
    strategyId: intent.strategyId,
    symbol: intent.symbol,
    venue: intent.venue,
    side: intent.side,
    type: intent.type,
    timeInForce: intent.timeInForce,
    postOnly: intent.postOnly,
    quantity,
    status: "pending-new",
    filledQuantity: ZERO,
    remainingQuantity: quantity,
    filledNotional: ZERO,
    commission: ZERO,
    realizedPnl: ZERO,
    createdAt: now,
    updatedAt: now,
  };
  if (intent.limitPrice !== undefined) o.limitPrice = dec(intent.limitPrice, "limitPrice");
  if (intent.tag !== undefined) o.tag = intent.tag;
  if (ids.signalId !== undefined) o.signalId = ids.signalId;
  return o;
}

export interface TransitionDetails {
  errorMessage?: string;
  exchangeOrderId?: string;
}

/** Move to `to` if legal, else throw IllegalTransitionError naming both states. */
export function transition(order: Order, to: OrderStatus, now: number, details?: TransitionDetails): Order {
  if (!canTransition(order.status, to)) throw new IllegalTransitionError(order.status, to, order.orderId);
  if (to === "filled" && !order.remainingQuantity.isZero())
    throw new FillError(
      "status",
      to,
      `order ${order.orderId} still has ${order.remainingQuantity.toFixed()} remaining`,
    );
  const next: Order = { ...order, status: to, updatedAt: now };
  if (details?.errorMessage !== undefined) next.errorMessage = details.errorMessage;
  if (details?.exchangeOrderId !== undefined) next.exchangeOrderId = details.exchangeOrderId;
  return next;
}

export interface OrderFill {
  quantity: DecimalLike;
  price: DecimalLike;
  /** Commission charged for this fill (in the fee currency; usually the quote asset). */
  fee?: DecimalLike;
  /** Realized PnL this fill produced in the portfolio (from Portfolio.applyFill), if known. */
  realizedPnl?: DecimalLike;
}

/**
 * Apply an execution. Status becomes partially-filled or filled (a fill during pending-cancel
 * keeps pending-cancel unless it completes the order). A late fill on a canceled or expired order
 * is booked and keeps the terminal status unless it completes the order (then filled). Overfill throws FillError; a partial fill
 * of a FOK order throws FillError (FOK is all-or-nothing).
 */
export function applyFill(order: Order, fill: OrderFill, now: number): Order {
  // A late fill: the exchange executed before the cancel/expiry took effect, but the events arrived
  // out of order. The execution is the truth, so it is booked; the order stays terminal unless the
  // fill completes it, in which case it was in fact filled.
  const late = order.status === "canceled" || order.status === "expired";
  if (!late && !isOpen(order.status))
    throw new FillError(
      "status",
      order.status,
      `order ${order.orderId} cannot receive fills in status ${order.status}`,
    );
  const qty = dec(fill.quantity, "fill.quantity");
  const price = dec(fill.price, "fill.price");
  if (qty.lte(0)) throw new FillError("fill.quantity", qty, "must be > 0");
  if (price.lte(0)) throw new FillError("fill.price", price, "must be > 0");
  if (qty.gt(order.remainingQuantity))
    throw new FillError("fill.quantity", qty, `overfill: only ${order.remainingQuantity.toFixed()} remaining`);
  if (order.timeInForce === "FOK" && !qty.eq(order.remainingQuantity))
    throw new FillError("fill.quantity", qty, `FOK order must fill ${order.remainingQuantity.toFixed()} at once`);
  const filledQuantity = order.filledQuantity.plus(qty);
  const remainingQuantity = order.quantity.minus(filledQuantity);
  const filledNotional = order.filledNotional.plus(qty.times(price));
  const done = remainingQuantity.isZero();
  const status: OrderStatus = done
    ? "filled"
    : late || order.status === "pending-cancel"
      ? order.status
      : "partially-filled";
  if (!late && status !== order.status && !canTransition(order.status, status)) {
    throw new IllegalTransitionError(order.status, status, order.orderId);
  }
  return {
    ...order,
    status,
    filledQuantity,
    remainingQuantity,
    filledNotional,
    averageFillPrice: filledNotional.div(filledQuantity),
    commission: fill.fee === undefined ? order.commission : order.commission.plus(dec(fill.fee, "fill.fee")),
    realizedPnl:
      fill.realizedPnl === undefined
        ? order.realizedPnl
        : order.realizedPnl.plus(dec(fill.realizedPnl, "fill.realizedPnl")),
    updatedAt: now,
  };
}

/**
 * IOC/FOK: after the exchange has matched what it could, the unfilled remainder expires.
 * A fully filled order is returned unchanged. Throws for GTC orders.
 */
export function expireRemainder(order: Order, now: number): Order {
  if (order.timeInForce === "GTC")
    throw new InvalidFieldError("timeInForce", order.timeInForce, "only IOC/FOK remainders expire immediately");
  if (order.status === "filled") return order;
  return transition(order, "expired", now, {
    errorMessage: `${order.timeInForce} remainder ${order.remainingQuantity.toFixed()} expired unfilled`,
  });
}
