// The README's worked example of a strategy plug-in: joins the best bid with one small post-only
// order whenever the spread is wide. test/unit/example-strategy.test.ts keeps it working.
import { z } from "zod";
import { Decimal } from "../../lib/domain/decimal";
import { registerStrategy } from "../../lib/domain/strategies/registry";
import type { Strategy } from "../../lib/domain/strategies/Strategy";
import type { OrderIntent } from "../../lib/domain/types";

export const SpreadJoinerConfig = z.object({
  minSpreadBps: z.number().positive().default(8),
  orderQuantity: z.coerce.string().default("0.01"),
});
export type SpreadJoinerConfig = z.infer<typeof SpreadJoinerConfig>;

export function spreadJoiner(id: string, cfg: SpreadJoinerConfig): Strategy {
  const none: OrderIntent[] = [];
  return {
    id,
    name: "spread-joiner",
    onMarket(q, ctx) {
      const mid = q.bid.plus(q.ask).div(2);
      const spreadBps = q.ask.minus(q.bid).div(mid).times(10_000).toNumber();
      if (spreadBps < cfg.minSpreadBps || ctx.openOrders().length > 0) return none;
      return [
        {
          strategyId: id,
          venue: q.venue,
          symbol: q.symbol,
          side: "BUY",
          type: "LIMIT",
          timeInForce: "GTC",
          postOnly: true,
          quantity: new Decimal(cfg.orderQuantity),
          limitPrice: q.bid,
          tag: `join:${q.venue}:${q.symbol}`,
        },
      ];
    },
    onFill: () => none,
    onTimer: () => none,
  };
}

registerStrategy("spread-joiner", (id, cfg) => spreadJoiner(id, cfg), SpreadJoinerConfig, {
  description: "joins the best bid when the spread is wide",
});
