// Values every currency of a portfolio in one valuation currency through an explicit route: a fixed
// rate from config, a quote series in the data (e.g. USDT-USD), an instrument quoted in the valuation
// currency (BTC-USD), or an instrument into a currency that itself has a rate (BTC-USDT × USDT-USD).
// A currency without a route is refused up front, naming it; nothing is ever valued at 0.
import { type Decimal, type DecimalLike, dec, ONE, ZERO } from "../decimal";
import { DomainError } from "../errors";
import type { Instrument, L1Quote } from "../types";
import type { Portfolio } from "./Portfolio";

export type RateSpec = DecimalLike | { series: string };

export interface ValuationOptions {
  /** Default USD. */
  currency?: string;
  instruments: readonly Instrument[];
  /** Currencies held besides the instruments' (e.g. initial cash). */
  assets?: Iterable<string>;
  /** Per currency: a fixed rate into the valuation currency, or { series: "USDT-USD" }. */
  rates?: Readonly<Record<string, RateSpec>>;
}

export class MissingRateError extends DomainError {
  override name = "MissingRateError";
  constructor(
    readonly currencies: readonly string[],
    readonly valuationCurrency: string,
  ) {
    const c = currencies[0]!;
    super(
      `no conversion rate into ${valuationCurrency} for ${currencies.join(", ")}: set "rates": { "${c}": "<rate>" } ` +
        `or { "${c}": { "series": "${c}-${valuationCurrency}" } } with that quote series in the data`,
    );
  }
}

type Route =
  | { kind: "fixed"; rate: Decimal; label: string }
  | { kind: "series"; symbol: string }
  | { kind: "mark"; symbol: string }
  | { kind: "cross"; symbol: string; via: string };

export class CurrencyValuation {
  readonly currency: string;
  private readonly routes = new Map<string, Route>();
  /** Rate series symbol → latest mid. */
  private readonly seriesMid = new Map<string, Decimal | undefined>();
  private readonly seriesQuote = new Map<string, L1Quote>();

  constructor(opts: ValuationOptions) {
    const v = opts.currency ?? "USD";
    this.currency = v;
    const assets = new Set<string>(opts.assets ?? []);
    for (const i of opts.instruments) assets.add(i.baseAsset).add(i.quoteAsset);
    const direct = (a: string): Route | undefined => {
      const spec = opts.rates?.[a];
      if (spec !== undefined) {
        if (typeof spec === "object" && spec !== null && "series" in spec) {
          this.seriesMid.set(spec.series, undefined);
          return { kind: "series", symbol: spec.series };
        }
        const rate = dec(spec as DecimalLike, `rates.${a}`);
        if (!rate.gt(0)) throw new MissingRateError([a], v);
        return { kind: "fixed", rate, label: rate.toFixed() };
      }
      const inst = opts.instruments.find((i) => i.baseAsset === a && i.quoteAsset === v);
      return inst ? { kind: "mark", symbol: inst.symbol } : undefined;
    };
    const missing: string[] = [];
    for (const a of assets) {
      if (a === v) continue;
      let r = direct(a);
      if (!r) {
        const hop = opts.instruments.find((i) => i.baseAsset === a && i.quoteAsset !== v && direct(i.quoteAsset));
        if (hop) r = { kind: "cross", symbol: hop.symbol, via: hop.quoteAsset };
      }
      if (r) this.routes.set(a, r);
      else {
        // Name the currency that lacks a rate: for BTC only quoted in USDT, that is USDT.
        missing.push(opts.instruments.find((i) => i.baseAsset === a && i.quoteAsset !== v)?.quoteAsset ?? a);
      }
    }
    if (missing.length > 0) throw new MissingRateError([...new Set(missing)], v);
    for (const r of [...this.routes.values()])
      if (r.kind === "cross" && !this.routes.has(r.via)) this.routes.set(r.via, direct(r.via)!);
  }

  /** True for symbols that are rate series (not tradable instruments). */
  isRateSeries(symbol: string): boolean {
    return this.seriesMid.size !== 0 && this.seriesMid.has(symbol);
  }

  /** Feed a rate-series quote; its mid is the rate. */
  onRateQuote(q: L1Quote): void {
    if (this.seriesQuote.get(q.symbol) === q) return;
    this.seriesQuote.set(q.symbol, q);
    this.seriesMid.set(q.symbol, dec(q.bid).plus(q.ask).div(2));
  }

  /** Rate of one unit of `asset` in the valuation currency now; undefined until its source has a price. */
  rate(asset: string, p: Portfolio): Decimal | undefined {
    if (asset === this.currency) return ONE;
    const r = this.routes.get(asset);
    if (!r) throw new MissingRateError([asset], this.currency);
    switch (r.kind) {
      case "fixed":
        return r.rate;
      case "series":
        return this.seriesMid.get(r.symbol);
      case "mark":
        return p.mark(r.symbol);
      case "cross": {
        const m = p.mark(r.symbol);
        const via = this.rate(r.via, p);
        return m && via ? m.times(via) : undefined;
      }
    }
  }

  /** Σ balance × rate; undefined while a held currency has no price yet (never counted as 0). */
  equity(p: Portfolio): Decimal | undefined {
    let e = ZERO;
    for (const [asset, amt] of p.balances()) {
      if (amt.isZero()) continue;
      const r = this.rate(asset, p);
      if (r === undefined) return undefined;
      e = e.plus(amt.times(r));
    }
    return e;
  }

  /** How each currency is valued, for the report. */
  describe(): { currency: string; rates: Record<string, string> } {
    const rates: Record<string, string> = {};
    for (const [a, r] of this.routes)
      rates[a] =
        r.kind === "fixed"
          ? `fixed ${r.label}`
          : r.kind === "series"
            ? `series ${r.symbol}`
            : r.kind === "mark"
              ? `mark ${r.symbol}`
              : `mark ${r.symbol} × ${r.via}`;
    return { currency: this.currency, rates };
  }
}
