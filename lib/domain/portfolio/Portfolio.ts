// Portfolio: netting positions per strategy+symbol, cash per asset, fees per currency, marks.
// Updates are explicit (applyFill mutates this portfolio and returns the new immutable Position).
import { type Decimal, type DecimalLike, dec, ZERO } from "../decimal";
import { DomainError, InvalidFieldError, UnknownInstrumentError } from "../errors";
import { DEFAULT_INSTRUMENTS } from "../instruments";
import type { Instrument, L1Quote } from "../types";
import {
  applyFillToPosition,
  type Position,
  type PositionFill,
  type PositionUpdate,
  positionToRecord,
  unrealizedPnl,
} from "./position";

export class MissingMarkError extends DomainError {
  override name = "MissingMarkError";
  constructor(readonly symbol: string) {
    super(`no mark price for ${symbol}`);
  }
}

export interface PortfolioOptions {
  instruments?: readonly Instrument[];
  /** Starting cash per asset, e.g. { USD: "1000000" }. */
  initialCash?: Readonly<Record<string, DecimalLike>>;
  /** Currency equity is reported in (default USD). */
  valuationCurrency?: string;
}

export interface FillResult extends PositionUpdate {
  fee: Decimal;
  feeCurrency: string;
}

interface PosSlot {
  pos: Position;
  // Number shadows for hot-path risk contexts.
  qtyNum: number;
}

export class Portfolio {
  readonly valuationCurrency: string;
  private readonly instruments = new Map<string, Instrument>();
  /** strategyId → symbol → slot. Nested maps avoid building a key string per fill. */
  private readonly book = new Map<string, Map<string, PosSlot>>();
  private readonly cashByAsset = new Map<string, Decimal>();
  private readonly cashNums = new Map<string, number>();
  /** asset → symbol that marks it in the valuation currency (precomputed: no string building per tick). */
  private readonly valuationSymbols = new Map<string, string>();
  private readonly feesByCurrency = new Map<string, Decimal>();
  private readonly marks = new Map<string, Decimal>();
  private readonly markNums = new Map<string, number>();
  private readonly netQtyNums = new Map<string, number>();
  private realizedTotal: Decimal = ZERO;

  constructor(opts: PortfolioOptions = {}) {
    this.valuationCurrency = opts.valuationCurrency ?? "USD";
    for (const i of opts.instruments ?? DEFAULT_INSTRUMENTS) {
      this.instruments.set(i.symbol, i);
      if (i.quoteAsset === this.valuationCurrency) this.valuationSymbols.set(i.baseAsset, i.symbol);
    }
    for (const [asset, amt] of Object.entries(opts.initialCash ?? {}))
      this.addCash(asset, dec(amt, `initialCash.${asset}`));
  }

  instrument(symbol: string): Instrument {
    const i = this.instruments.get(symbol);
    if (!i) throw new UnknownInstrumentError(symbol);
    return i;
  }

  /** Apply an execution: position, cash (base and quote), fees. */
  applyFill(fill: PositionFill): FillResult {
    const instr = this.instrument(fill.symbol);
    let bySymbol = this.book.get(fill.strategyId);
    if (!bySymbol) {
      bySymbol = new Map();
      this.book.set(fill.strategyId, bySymbol);
    }
    const slot = bySymbol.get(fill.symbol);
    const fee = fill.fee === undefined ? ZERO : dec(fill.fee, "fill.fee");
    const feeCurrency = fill.feeCurrency ?? instr.quoteAsset;
    const up = applyFillToPosition(slot?.pos, fill, feeCurrency === instr.quoteAsset ? fee : ZERO);
    const qtyNum = up.position.quantity.toNumber();
    if (slot) {
      slot.pos = up.position;
      slot.qtyNum = qtyNum;
    } else {
      bySymbol.set(fill.symbol, { pos: up.position, qtyNum });
    }
    // Re-sum (few strategies) rather than add deltas, so float error never accumulates.
    let net = 0;
    for (const m of this.book.values()) net += m.get(fill.symbol)?.qtyNum ?? 0;
    this.netQtyNums.set(fill.symbol, net);
    // Cash: base moves by the signed quantity, quote by −signed notional, fee leaves its currency.
    const qty = up.quantity;
    const notional = qty.times(up.price);
    const buy = fill.side === "BUY";
    this.addCash(instr.baseAsset, buy ? qty : qty.neg());
    this.addCash(instr.quoteAsset, buy ? notional.neg() : notional);
    if (!fee.isZero()) {
      this.addCash(feeCurrency, fee.neg());
      this.feesByCurrency.set(feeCurrency, (this.feesByCurrency.get(feeCurrency) ?? ZERO).plus(fee));
    }
    if (!up.realizedPnlDelta.isZero()) this.realizedTotal = this.realizedTotal.plus(up.realizedPnlDelta);
    return {
      position: up.position,
      previous: up.previous,
      realizedPnlDelta: up.realizedPnlDelta,
      closing: up.closing,
      quantityDelta: up.quantityDelta,
      quantity: up.quantity,
      price: up.price,
      fee,
      feeCurrency,
    };
  }

  /**
   * Take positions as stored (another process booked them) without touching cash: PnL, notional and net
   * positions are then queryable; equity() is not (the cash of those fills is not here).
   */
  loadPositions(positions: readonly Position[]): void {
    for (const pos of positions) {
      let bySymbol = this.book.get(pos.strategyId);
      if (!bySymbol) {
        bySymbol = new Map();
        this.book.set(pos.strategyId, bySymbol);
      }
      const old = bySymbol.get(pos.symbol);
      if (old) this.realizedTotal = this.realizedTotal.minus(old.pos.realizedPnl);
      bySymbol.set(pos.symbol, { pos, qtyNum: pos.quantity.toNumber() });
      this.realizedTotal = this.realizedTotal.plus(pos.realizedPnl);
    }
    for (const symbol of new Set(positions.map((p) => p.symbol))) {
      let net = 0;
      for (const m of this.book.values()) net += m.get(symbol)?.qtyNum ?? 0;
      this.netQtyNums.set(symbol, net);
    }
  }

  private addCash(asset: string, delta: Decimal): void {
    const next = (this.cashByAsset.get(asset) ?? ZERO).plus(delta);
    this.cashByAsset.set(asset, next);
    // Converted from the exact balance each time, so the number never drifts.
    this.cashNums.set(asset, next.toNumber());
  }

  /** Deposit/withdraw (negative) cash outside trading. */
  adjustCash(asset: string, delta: DecimalLike): void {
    this.addCash(asset, dec(delta, "delta"));
  }

  // ---------- marks ----------

  setMark(symbol: string, price: DecimalLike): void {
    const d = dec(price, "mark");
    if (!d.gt(0)) throw new InvalidFieldError("mark", d, "must be > 0");
    this.marks.set(symbol, d);
    this.markNums.set(symbol, d.toNumber());
  }
  /** Mark from an L1 quote's mid (the default mark). */
  markFromQuote(q: L1Quote): Decimal {
    const mid = dec(q.bid).plus(dec(q.ask)).div(2);
    this.setMark(q.symbol, mid);
    return mid;
  }
  mark(symbol: string): Decimal | undefined {
    return this.marks.get(symbol);
  }
  private requireMark(symbol: string): Decimal {
    const m = this.marks.get(symbol);
    if (!m) throw new MissingMarkError(symbol);
    return m;
  }

  // ---------- positions ----------

  position(strategyId: string, symbol: string): Position | undefined {
    return this.book.get(strategyId)?.get(symbol)?.pos;
  }
  positions(strategyId?: string): Position[] {
    const out: Position[] = [];
    for (const [sid, bySymbol] of this.book) {
      if (strategyId !== undefined && sid !== strategyId) continue;
      for (const slot of bySymbol.values()) out.push(slot.pos);
    }
    return out;
  }
  strategies(): string[] {
    return [...this.book.keys()];
  }
  /** Net quantity in a symbol across strategies. */
  netQuantity(symbol: string): Decimal {
    let q = ZERO;
    for (const bySymbol of this.book.values()) {
      const s = bySymbol.get(symbol);
      if (s) q = q.plus(s.pos.quantity);
    }
    return q;
  }

  // ---------- PnL ----------

  realizedPnl(strategyId?: string): Decimal {
    if (strategyId === undefined) return this.realizedTotal;
    let r = ZERO;
    for (const p of this.positions(strategyId)) r = r.plus(p.realizedPnl);
    return r;
  }
  /** Unrealized PnL at current marks; throws MissingMarkError for an open position without a mark. */
  unrealizedPnl(strategyId?: string): Decimal {
    let u = ZERO;
    for (const p of this.positions(strategyId)) {
      if (!p.quantity.isZero()) u = u.plus(unrealizedPnl(p, this.requireMark(p.symbol)));
    }
    return u;
  }
  /** Fees charged per currency. */
  fees(): ReadonlyMap<string, Decimal> {
    return this.feesByCurrency;
  }
  /** Quote-currency fees charged to a strategy (or all strategies). */
  strategyFees(strategyId?: string): Decimal {
    let f = ZERO;
    for (const p of this.positions(strategyId)) f = f.plus(p.fees);
    return f;
  }
  /** realized + unrealized − quote fees for one strategy (or the whole book). */
  netPnl(strategyId?: string): Decimal {
    return this.realizedPnl(strategyId).plus(this.unrealizedPnl(strategyId)).minus(this.strategyFees(strategyId));
  }

  // ---------- cash and equity ----------

  cash(asset: string): Decimal {
    return this.cashByAsset.get(asset) ?? ZERO;
  }
  balances(): ReadonlyMap<string, Decimal> {
    return this.cashByAsset;
  }
  /** Σ cash × mark in the valuation currency (asset X is marked via symbol X-<valuation>). */
  equity(): Decimal {
    let e = ZERO;
    for (const [asset, amt] of this.cashByAsset) {
      if (amt.isZero()) continue;
      e =
        asset === this.valuationCurrency
          ? e.plus(amt)
          : e.plus(amt.times(this.requireMark(this.valuationSymbol(asset))));
    }
    return e;
  }
  /** Σ |qty| × mark for a strategy or the whole book (gross exposure). */
  grossNotional(strategyId?: string): Decimal {
    let n = ZERO;
    for (const p of this.positions(strategyId)) {
      if (!p.quantity.isZero()) n = n.plus(p.quantity.abs().times(this.requireMark(p.symbol)));
    }
    return n;
  }

  // ---------- number fast paths (risk contexts on hot paths; not for storage) ----------

  netQuantityNumber(symbol: string): number {
    return this.netQtyNums.get(symbol) ?? 0;
  }
  positionNumber(strategyId: string, symbol: string): number {
    return this.book.get(strategyId)?.get(symbol)?.qtyNum ?? 0;
  }
  markNumber(symbol: string): number {
    return this.markNums.get(symbol) ?? Number.NaN;
  }
  private valuationSymbol(asset: string): string {
    return this.valuationSymbols.get(asset) ?? `${asset}-${this.valuationCurrency}`;
  }
  /** Cash balance as a number (exact balance converted; for risk contexts). */
  cashNumber(asset: string): number {
    return this.cashNums.get(asset) ?? 0;
  }
  /**
   * Equity as a number at current marks, for per-tick breaker feeds (RiskEngine.markEquity).
   * Assets without a mark count at 0 here (equity() throws instead).
   */
  equityNumber(): number {
    let e = 0;
    for (const [asset, amt] of this.cashNums) {
      if (amt === 0) continue;
      e += asset === this.valuationCurrency ? amt : amt * (this.markNums.get(this.valuationSymbol(asset)) ?? 0);
    }
    return e;
  }
  /** Gross notional in numbers; unmarked symbols count at 0. */
  grossNotionalNumber(strategyId?: string): number {
    let n = 0;
    for (const [sid, bySymbol] of this.book) {
      if (strategyId !== undefined && sid !== strategyId) continue;
      for (const [sym, slot] of bySymbol) {
        if (slot.qtyNum !== 0) n += Math.abs(slot.qtyNum) * (this.markNums.get(sym) ?? 0);
      }
    }
    return n;
  }

  /** JSON-able snapshot with exact decimal strings. */
  snapshot(): PortfolioSnapshot {
    const out: PortfolioSnapshot = {
      valuationCurrency: this.valuationCurrency,
      positions: this.positions().map(positionToRecord),
      cash: Object.fromEntries([...this.cashByAsset].map(([k, v]) => [k, v.toFixed()])),
      fees: Object.fromEntries([...this.feesByCurrency].map(([k, v]) => [k, v.toFixed()])),
      marks: Object.fromEntries([...this.marks].map(([k, v]) => [k, v.toFixed()])),
      realizedPnl: this.realizedTotal.toFixed(),
    };
    return out;
  }
}

export interface PortfolioSnapshot {
  valuationCurrency: string;
  positions: ReturnType<typeof positionToRecord>[];
  cash: Record<string, string>;
  fees: Record<string, string>;
  marks: Record<string, string>;
  realizedPnl: string;
}
