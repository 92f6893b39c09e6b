// The simulator's background liquidity: three synthetic levels per side around an L1 quote.
import Decimal from "decimal.js";
import { OrderType, type PlaceOrderRequest, Side, TimeInForce } from "../../gen/proto/tse/exchange/exchange";
import type { Inst, SimVenue, ValidOrder } from "./simMarket";

export const LIQUIDITY_ACCOUNT = "__liquidity__";

/**
 * The background orders for one book, in placing order, around bid/ask widened by spreadMultiplier; levels that
 * round to nothing are left out.
 */
export function liquidityLadder(
  v: SimVenue,
  inst: Inst,
  bid: string,
  ask: string,
  bidSize: string,
  askSize: string,
  spreadMultiplier: number,
): { req: PlaceOrderRequest; order: ValidOrder }[] {
  const b = new Decimal(bid);
  const a = new Decimal(ask);
  const mid = b.plus(a).div(2);
  const half = a
    .minus(b)
    .div(2)
    .mul(spreadMultiplier > 0 ? spreadMultiplier : 1);
  const bidPx = mid.minus(half).toNearest(inst.tick, Decimal.ROUND_DOWN);
  let askPx = mid.plus(half).toNearest(inst.tick, Decimal.ROUND_UP);
  if (askPx.lte(bidPx)) askPx = bidPx.plus(inst.tick);
  const step = Decimal.max(inst.tick, half.toNearest(inst.tick, Decimal.ROUND_UP));
  const out: { req: PlaceOrderRequest; order: ValidOrder }[] = [];
  const place = (side: Side, px: Decimal, size: Decimal) => {
    const qty = size.toNearest(inst.lot, Decimal.ROUND_DOWN);
    if (qty.lte(0) || px.lte(0)) return;
    const req: PlaceOrderRequest = {
      clientOrderId: "",
      strategyId: "",
      accountId: LIQUIDITY_ACCOUNT,
      venue: v.id,
      symbol: inst.spec.symbol,
      side,
      type: OrderType.LIMIT,
      timeInForce: TimeInForce.GTC,
      postOnly: false,
      quantity: qty.toFixed(),
      price: px.toFixed(),
      riskChecked: true,
      riskCheckId: "",
      triggerSequence: 0,
      triggerVenue: "",
    };
    out.push({ req, order: { venue: v, inst, side: side === Side.BUY ? "BUY" : "SELL", qty, price: px } });
  };
  // Three levels per side, growing in size away from the touch.
  for (let i = 0; i < 3; i++) {
    place(Side.BUY, bidPx.minus(step.mul(i)), new Decimal(bidSize).mul(i + 1));
    place(Side.SELL, askPx.plus(step.mul(i)), new Decimal(askSize).mul(i + 1));
  }
  return out;
}
