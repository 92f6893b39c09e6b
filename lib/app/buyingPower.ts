// Buying power for the balance rule: the custodian's available balance of the order's account (venue) and quote
// currency, cached for a short TTL (lru-cache), failing closed when the custodian cannot be read.
import { LRUCache } from "lru-cache";
import type { RiskContext } from "../domain/risk/RiskEngine";
import type { CustodianPort } from "../ports/Custodian";
import type { EngineSettings } from "./settings";

export type BuyingPowerAnswer = { available: number } | { unavailable: string };

export interface BuyingPowerPort {
  available(accountId: string, currency: string, ttlMs: number): Promise<BuyingPowerAnswer>;
}

/** One GetBalances per account per TTL (concurrent askers share the call); failures are not cached. */
export class CustodianBuyingPower implements BuyingPowerPort {
  private readonly cache = new LRUCache<string, ReadonlyMap<string, number>>({ max: 256, ttl: 1_000 });
  private readonly inflight = new Map<string, Promise<ReadonlyMap<string, number>>>();

  constructor(private readonly custodian: Pick<CustodianPort, "getBalances">) {}

  async available(accountId: string, currency: string, ttlMs: number): Promise<BuyingPowerAnswer> {
    try {
      const balances = this.cache.get(accountId) ?? (await this.load(accountId, ttlMs));
      return { available: balances.get(currency) ?? 0 };
    } catch (e) {
      return {
        unavailable: `custodian balance of ${accountId} ${currency}: ${e instanceof Error ? e.message : String(e)}`,
      };
    }
  }

  private load(accountId: string, ttlMs: number): Promise<ReadonlyMap<string, number>> {
    let p = this.inflight.get(accountId);
    if (!p) {
      p = this.custodian
        .getBalances(accountId)
        .then((bs) => {
          const m = new Map(bs.filter((b) => b.accountId === accountId).map((b) => [b.currency, Number(b.available)]));
          this.cache.set(accountId, m, { ttl: ttlMs });
          return m;
        })
        .finally(() => this.inflight.delete(accountId));
      this.inflight.set(accountId, p);
    }
    return p;
  }
}

/** The RiskContext's balance fields for an order on `venue` paying in `quoteCurrency`. */
export async function buyingPowerContext(
  provider: BuyingPowerPort | undefined,
  settings: EngineSettings,
  venue: string,
  quoteCurrency: string,
): Promise<Pick<RiskContext, "availableQuote" | "balanceUnavailable">> {
  if (settings.settlement.balanceSource === "settings") return { availableQuote: Number(settings.availableQuote) };
  const a = provider
    ? await provider.available(venue, quoteCurrency, settings.settlement.balanceTtlMs)
    : { unavailable: "no custodian configured" };
  return "available" in a ? { availableQuote: a.available } : { availableQuote: 0, balanceUnavailable: a.unavailable };
}
