// The strategy plug-in interface. A strategy is pure: it reads a read-only context and returns order
// intents (places and cancels). The engine (quoter, functions, backtester) owns orders, risk and state.
import type { Decimal } from "../decimal";
import type { Instrument, L1Quote, OrderIntent, Side, Venue } from "../types";

/** One of this strategy's open (resting) orders, as the engine sees it. */
export interface OpenOrderView {
  orderId: string;
  venue: string;
  symbol: string;
  side: Side;
  limitPrice?: Decimal;
  quantity: Decimal;
  remainingQuantity: Decimal;
  /** The tag of the intent that created it. */
  tag?: string;
  /** True once a cancel has been requested. */
  pendingCancel?: boolean;
}

/** An execution of one of this strategy's orders. */
export interface FillView {
  ts: number;
  orderId: string;
  venue: string;
  symbol: string;
  side: Side;
  quantity: Decimal;
  price: Decimal;
  fee: Decimal;
  liquidity: "MAKER" | "TAKER";
  tag?: string;
  /** Remaining quantity of the order after this fill (0 = order done). */
  remainingQuantity: Decimal;
}

/** An order of this strategy ended without (fully) filling, or was never placed. */
export interface OrderEventView {
  ts: number;
  kind: "REJECTED" | "DENIED" | "CANCELED" | "EXPIRED";
  orderId?: string;
  venue: string;
  symbol: string;
  side: Side;
  tag?: string;
  /** Quantity filled before the order ended. */
  filledQuantity: Decimal;
  reason?: string;
}

/** Read-only view the engine passes to every callback. */
export interface StrategyContext {
  readonly now: number;
  /** Net position of this strategy in a symbol (all venues), signed base quantity. */
  position(symbol: string): Decimal;
  /** This strategy's open orders. */
  openOrders(): readonly OpenOrderView[];
  /** Latest quote per venue/symbol. */
  quote(venue: string, symbol: string): L1Quote | undefined;
  quotes(): Iterable<L1Quote>;
  instrument(symbol: string): Instrument | undefined;
  venue(id: string): Venue | undefined;
  venues(): readonly Venue[];
  /** Largest quantity the risk limits still allow on this side (undefined = engine does not say). */
  headroom?(symbol: string, side: Side): Decimal | undefined;
}

export interface Strategy {
  readonly id: string;
  /** Registered name, e.g. "market-making". */
  readonly name: string;
  onMarket(quote: L1Quote, ctx: StrategyContext): OrderIntent[];
  onFill(fill: FillView, ctx: StrategyContext): OrderIntent[];
  onTimer(now: number, ctx: StrategyContext): OrderIntent[];
  /** Optional: an order ended unfilled/partly filled or was refused (by risk or venue). */
  onOrderEvent?(event: OrderEventView, ctx: StrategyContext): OrderIntent[];
}

/** Helper for cancel intents: the engine only reads cancelOrderId, the rest identifies the order. */
/** A market IOC order (hedges, liquidations, chaos tests). */
export function marketIocIntent(
  strategyId: string,
  venue: string,
  symbol: string,
  side: Side,
  quantity: Decimal,
  tag?: string,
): OrderIntent {
  return {
    strategyId,
    venue,
    symbol,
    side,
    type: "MARKET",
    timeInForce: "IOC",
    postOnly: false,
    quantity,
    ...(tag !== undefined ? { tag } : {}),
  };
}

export function cancelIntent(strategyId: string, order: OpenOrderView): OrderIntent {
  return {
    strategyId,
    venue: order.venue,
    symbol: order.symbol,
    side: order.side,
    type: "LIMIT",
    timeInForce: "GTC",
    postOnly: false,
    quantity: order.remainingQuantity,
    ...(order.limitPrice ? { limitPrice: order.limitPrice } : {}),
    ...(order.tag !== undefined ? { tag: order.tag } : {}),
    cancelOrderId: order.orderId,
  };
}

/** Deterministic PRNG (mulberry32) so strategies that need randomness stay pure and replayable. */
export type Rng = () => number;
export function seededRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What a strategy factory receives besides its validated config. */
export interface StrategyDeps {
  /** Required by strategies that use randomness (chaos-slow-leak). */
  rng?: Rng;
}
