// The backtester's accounting: the Portfolio every fill goes into, the trade list, marks at each symbol's
// newest mid, the sampled equity and position curves, the numeric risk context, and the run's metrics.
import { type Decimal, type DecimalLike, dec } from "../../domain/decimal";
import { computeMetrics, type EquitySample, type MetricsFill, type PerformanceMetrics } from "../../domain/metrics";
import type { Order } from "../../domain/orders";
import { type FillResult, Portfolio } from "../../domain/portfolio";
import { CurrencyValuation, type RateSpec } from "../../domain/portfolio/valuation";
import type { RiskContext, RiskEngine } from "../../domain/risk";
import { DecimalNumberCache } from "../../domain/strategies/quoteMath";
import type { Instrument, L1Quote } from "../../domain/types";
import { newRiskContext } from "../../engine/StrategyHost";
import type { BacktestResult, BacktestTrade } from "./types";
import type { Book } from "./venue";

export interface LedgerOptions {
  instruments: readonly Instrument[];
  initialCash: Readonly<Record<string, DecimalLike>>;
  valuation?: { currency?: string; rates?: Readonly<Record<string, RateSpec>> } | undefined;
  recordPositions: boolean;
}

export class BacktestLedger {
  readonly portfolio: Portfolio;
  readonly valuator: CurrencyValuation;
  readonly trades: BacktestTrade[] = [];
  readonly equity: EquitySample[] = [];
  readonly positions: BacktestResult["positionCurve"] = [];
  private readonly symbols: readonly string[];
  private readonly recordPositions: boolean;
  private readonly cashNumber = new DecimalNumberCache();
  private readonly feeNums = new WeakMap<Decimal, number>();
  private readonly riskCtx: RiskContext = newRiskContext();
  /** Symbol → the quote its current mark came from. */
  private readonly markSource = new Map<string, L1Quote>();

  constructor(
    opts: LedgerOptions,
    /** The venue's books, in creation order (marks read their quotes). */
    private readonly books: readonly Book[],
  ) {
    const currency = opts.valuation?.currency ?? "USD";
    this.portfolio = new Portfolio({
      instruments: opts.instruments,
      initialCash: opts.initialCash,
      valuationCurrency: currency,
    });
    this.valuator = new CurrencyValuation({
      currency,
      instruments: opts.instruments,
      assets: Object.keys(opts.initialCash),
      ...(opts.valuation?.rates ? { rates: opts.valuation.rates } : {}),
    });
    this.symbols = [...new Set(opts.instruments.map((i) => i.symbol))];
    this.recordPositions = opts.recordPositions;
  }

  /** One execution of `o` into the portfolio. */
  applyFill(o: Order, quantity: Decimal, price: Decimal, fee: Decimal, ts: number): FillResult {
    return this.portfolio.applyFill({
      strategyId: o.strategyId,
      symbol: o.symbol,
      venue: o.venue,
      side: o.side,
      quantity,
      price,
      fee,
      ts,
      orderId: o.orderId,
    });
  }

  /** The trade record of an applied fill; risk notional and equity then see the traded symbol's current mark. */
  recordTrade(
    o: Order,
    qty: Decimal,
    price: Decimal,
    fee: Decimal,
    liquidity: "MAKER" | "TAKER",
    ts: number,
    res: FillResult,
  ): void {
    const trade: BacktestTrade = {
      ts,
      orderId: o.orderId,
      strategyId: o.strategyId,
      venue: o.venue,
      symbol: o.symbol,
      side: o.side,
      qty,
      price,
      fee,
      liquidity,
    };
    if (res.closing) trade.realizedPnl = res.realizedPnlDelta;
    this.trades.push(trade);
    this.refreshMarks(o.symbol);
  }

  /** Numeric risk context from the portfolio's number shadows (reused object, cached cash conversion). */
  riskContext(strategyId: string, b: Book, mid: number): RiskContext {
    const p = this.portfolio;
    const sym = b.instrument.symbol;
    const c = this.riskCtx;
    c.mid = mid;
    c.position = p.netQuantityNumber(sym);
    c.strategyPosition = p.positionNumber(strategyId, sym);
    c.strategyNotional = p.grossNotionalNumber(strategyId);
    c.portfolioNotional = p.grossNotionalNumber();
    c.availableQuote = this.cashNumber.get(p.cash(b.instrument.quoteAsset));
    c.availableBase = 0;
    c.feeRate = this.numCache(b.venue.takerFee);
    return c;
  }

  /** A Decimal that does not change (fees, minimum notionals) as a number, converted once. */
  numCache(d: Decimal): number {
    let n = this.feeNums.get(d);
    if (n === undefined) {
      n = d.toNumber();
      this.feeNums.set(d, n);
    }
    return n;
  }

  refreshMarks(only?: string): void {
    // Each symbol is marked at the mid of its most recent quote (any venue); re-mark only on change.
    const newest = new Map<string, L1Quote>();
    for (const b of this.books) {
      const q = b.quote;
      if (!q || (only !== undefined && q.symbol !== only)) continue;
      const cur = newest.get(q.symbol);
      if (!cur || q.ts >= cur.ts) newest.set(q.symbol, q);
    }
    for (const [sym, q] of newest) {
      if (this.markSource.get(sym) === q) continue;
      this.markSource.set(sym, q);
      this.portfolio.setMark(sym, dec(q.bid).plus(q.ask).div(2));
    }
  }

  /** Undefined while a held currency has no price yet: such a period gets no equity point. */
  private equityNow(): Decimal | undefined {
    this.refreshMarks();
    return this.valuator.equity(this.portfolio);
  }

  /** The equity and position points of the period ending at ts; the risk engine sees equity and each PnL. */
  sample(ts: number, risk: RiskEngine, strategyIds: readonly { readonly id: string }[]): void {
    const eq = this.equityNow();
    if (eq !== undefined) {
      this.equity.push({ ts, equity: eq });
      risk.markEquity(eq.toNumber(), ts);
    }
    if (this.recordPositions) {
      for (const sym of this.symbols) {
        const q = this.portfolio.netQuantity(sym);
        if (!q.isZero() || this.positions.length > 0) this.positions.push({ ts, symbol: sym, quantity: q });
      }
    }
    for (const s of strategyIds) {
      try {
        risk.markStrategyPnl(s.id, this.portfolio.netPnl(s.id).toNumber(), ts);
      } catch {
        /* missing mark: skip this sample */
      }
    }
  }

  /** A boundary sample at the last event's ts was taken before that event: drop it for the final one. */
  dropSampleAt(ts: number): void {
    const last = this.equity[this.equity.length - 1];
    if (last && last.ts === ts) {
      this.equity.pop();
      while (this.positions.length > 0 && this.positions[this.positions.length - 1]!.ts === ts) this.positions.pop();
    }
  }

  metrics(periodMs: number): PerformanceMetrics {
    const fills: MetricsFill[] = this.trades.map((t) =>
      t.realizedPnl === undefined
        ? { qty: t.qty, price: t.price, fee: t.fee }
        : { qty: t.qty, price: t.price, fee: t.fee, realizedPnl: t.realizedPnl },
    );
    return computeMetrics({
      equityCurve: this.equity,
      fills,
      realizedPnl: this.portfolio.realizedPnl(),
      unrealizedPnl: this.portfolio.unrealizedPnl(),
      fees: this.portfolio.strategyFees(),
      periodMs,
    });
  }
}
