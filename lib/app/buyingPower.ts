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

/** One GetBalances (every account) per TTL, shared by concurrent askers; failures are not cached. */
export class CustodianBuyingPower implements BuyingPowerPort {
  private readonly cache = new LRUCache<"all", ReadonlyMap<string, number>>({ max: 1, ttl: 1_000 });
  private inflight: Promise<ReadonlyMap<string, number>> | undefined;

  constructor(private readonly custodian: Pick<CustodianPort, "getBalances">) {}

  async available(accountId: string, currency: string, ttlMs: number): Promise<BuyingPowerAnswer> {
    try {
      const balances = this.cache.get("all") ?? (await this.load(ttlMs));
      return { available: balances.get(`${accountId}|${currency}`) ?? 0 };
    } catch (e) {
      return {
        unavailable: `custodian balance of ${accountId} ${currency}: ${e instanceof Error ? e.message : String(e)}`,
      };
    }
  }

  private load(ttlMs: number): Promise<ReadonlyMap<string, number>> {
    this.inflight ??= this.custodian
      .getBalances()
      .then((bs) => {
        const m = new Map(bs.map((b) => [`${b.accountId}|${b.currency}`, Number(b.available)]));
        this.cache.set("all", m, { ttl: ttlMs });
        return m;
      })
      .finally(() => {
        this.inflight = undefined;
      });
    return this.inflight;
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
