// Balances of the exchange simulator per account, venue and asset: total and locked (reserved by open orders).
import Decimal from "decimal.js";
import type { Balance } from "../../gen/proto/tse/exchange/exchange";

export interface Bal {
  total: Decimal;
  locked: Decimal;
}

export class SimBalances {
  private readonly balances = new Map<string, Map<string, Map<string, Bal>>>();

  /** Every (account, venue) starts with these. */
  constructor(private readonly initialBalances: Readonly<Record<string, string>>) {}

  /** The live balance cell (created, with the venue's initial balances, on first use). */
  balance(account: string, venue: string, asset: string): Bal {
    let byVenue = this.balances.get(account);
    if (!byVenue) {
      byVenue = new Map();
      this.balances.set(account, byVenue);
    }
    let byAsset = byVenue.get(venue);
    if (!byAsset) {
      byAsset = new Map();
      for (const [a, amount] of Object.entries(this.initialBalances)) {
        byAsset.set(a, { total: new Decimal(amount), locked: new Decimal(0) });
      }
      byVenue.set(venue, byAsset);
    }
    let bal = byAsset.get(asset);
    if (!bal) {
      bal = { total: new Decimal(0), locked: new Decimal(0) };
      byAsset.set(asset, bal);
    }
    return bal;
  }

  list(account: string, venues: readonly string[]): Balance[] {
    const out: Balance[] = [];
    for (const v of venues) {
      this.balance(account, v, "USD"); // materialise initial balances
      for (const [asset, b] of this.balances.get(account)!.get(v)!) {
        out.push({
          venue: v,
          asset,
          total: b.total.toFixed(),
          locked: b.locked.toFixed(),
          available: b.total.minus(b.locked).toFixed(),
        });
      }
    }
    return out;
  }
}
