// Net traded positions of the exchange simulator, from fills, per account, strategy, venue and symbol.
import Decimal from "decimal.js";
import { type AccountPosition, type Order, Side } from "../../gen/proto/tse/exchange/exchange";

interface Position {
  accountId: string;
  strategyId: string;
  venue: string;
  symbol: string;
  bought: Decimal;
  sold: Decimal;
  boughtNotional: Decimal;
  soldNotional: Decimal;
  fees: Decimal;
  fills: number;
}

export class SimPositions {
  private readonly positions = new Map<string, Position>();

  note(o: Order, qty: Decimal, notional: Decimal, fee: Decimal): void {
    const key = `${o.accountId}|${o.strategyId}|${o.venue}|${o.symbol}`;
    let p = this.positions.get(key);
    if (!p) {
      const zero = new Decimal(0);
      p = {
        accountId: o.accountId,
        strategyId: o.strategyId,
        venue: o.venue,
        symbol: o.symbol,
        bought: zero,
        sold: zero,
        boughtNotional: zero,
        soldNotional: zero,
        fees: zero,
        fills: 0,
      };
      this.positions.set(key, p);
    }
    if (o.side === Side.BUY) {
      p.bought = p.bought.plus(qty);
      p.boughtNotional = p.boughtNotional.plus(notional);
    } else {
      p.sold = p.sold.plus(qty);
      p.soldNotional = p.soldNotional.plus(notional);
    }
    p.fees = p.fees.plus(fee);
    p.fills++;
  }

  /** Net traded positions from fills, per account, strategy, venue and symbol (empty filters match all). */
  list(filter: { accountId?: string; strategyId?: string; venue?: string; symbol?: string }): AccountPosition[] {
    const out: AccountPosition[] = [];
    for (const p of this.positions.values()) {
      if (filter.accountId && p.accountId !== filter.accountId) continue;
      if (filter.strategyId && p.strategyId !== filter.strategyId) continue;
      if (filter.venue && p.venue !== filter.venue) continue;
      if (filter.symbol && p.symbol !== filter.symbol) continue;
      out.push({
        accountId: p.accountId,
        strategyId: p.strategyId,
        venue: p.venue,
        symbol: p.symbol,
        netQuantity: p.bought.minus(p.sold).toFixed(),
        boughtQuantity: p.bought.toFixed(),
        soldQuantity: p.sold.toFixed(),
        boughtNotional: p.boughtNotional.toFixed(),
        soldNotional: p.soldNotional.toFixed(),
        fees: p.fees.toFixed(),
        fills: p.fills,
      });
    }
    return out;
  }
}
