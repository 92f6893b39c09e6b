// The exchange simulator's core: venues, books, balances, dedup, executions log, counters.
// Synchronous and clock-injected; the gRPC layer (ExchangeSimulator) adds chaos and streaming.
import Decimal from "decimal.js";
import {
  type AccountPosition,
  type Balance,
  type ExchangeCounters,
  type Execution,
  Liquidity,
  type Order,
  OrderStatus,
  OrderType,
  type PlaceOrderRequest,
  Side,
  TimeInForce,
} from "../../gen/proto/tse/exchange/exchange";
import { invalidArgument, notFound } from "../common/grpcErrors";
import { type BookSide, type Fill, OrderBook } from "./OrderBook";

export interface SimInstrument {
  symbol: string;
  baseAsset: string;
  quoteAsset: string;
  tickSize: string;
  lotSize: string;
  minNotional: string;
}

export interface SimVenue {
  id: string;
  makerFee: string;
  takerFee: string;
}

export const DEFAULT_SIM_INSTRUMENTS: readonly SimInstrument[] = [
  { symbol: "BTC-USD", baseAsset: "BTC", quoteAsset: "USD", tickSize: "0.01", lotSize: "0.0001", minNotional: "0" },
  { symbol: "ETH-USD", baseAsset: "ETH", quoteAsset: "USD", tickSize: "0.01", lotSize: "0.001", minNotional: "0" },
];

export const DEFAULT_SIM_VENUES: readonly SimVenue[] = [
  { id: "venue-a", makerFee: "0.0002", takerFee: "0.0005" },
  { id: "venue-b", makerFee: "0.0002", takerFee: "0.0005" },
];

/** Every new account starts with these on every venue. */
export const DEFAULT_INITIAL_BALANCES: Readonly<Record<string, string>> = { USD: "1000000", BTC: "10", ETH: "100" };

export const LIQUIDITY_ACCOUNT = "__liquidity__";
const MAX_UNITS = 1e12;
export const DEFAULT_ACCOUNT = "default";

export interface ExchangeEngineOptions {
  instruments?: readonly SimInstrument[];
  venues?: readonly SimVenue[];
  initialBalances?: Readonly<Record<string, string>>;
  now?: () => number;
  /** Executions kept for replay (StreamExecutions from a sequence); older ones are dropped. Default 100 000. */
  maxExecutionLog?: number;
}

interface Inst {
  spec: SimInstrument;
  tick: Decimal;
  lot: Decimal;
}

interface OrderRecord {
  order: Order;
  inst: Inst;
  venue: SimVenue;
  priceTicks: number | undefined;
  lots: number;
  filledLots: number;
  notional: Decimal;
  lockAsset: string;
  locked: Decimal;
  reserveRate: Decimal;
  background: boolean;
  /** The placing span's traceparent; its executions carry it. */
  traceparent?: string;
}

interface Bal {
  total: Decimal;
  locked: Decimal;
}

export interface PlaceResult {
  order: Order;
  duplicate: boolean;
  executions: Execution[];
}

const SIDE_NAME: Record<number, BookSide> = { [Side.BUY]: "BUY", [Side.SELL]: "SELL" };

function parseDecimal(field: string, raw: string): Decimal {
  let d: Decimal;
  try {
    d = new Decimal(raw.trim());
  } catch {
    throw invalidArgument(field, raw, "not a decimal number");
  }
  if (!d.isFinite()) throw invalidArgument(field, raw, "not a finite number");
  return d;
}

export class ExchangeEngine {
  readonly instruments = new Map<string, Inst>();
  readonly venues = new Map<string, SimVenue>();
  private readonly books = new Map<string, OrderBook>();
  private readonly orders = new Map<string, OrderRecord>();
  private readonly byClientId = new Map<string, string>();
  private readonly balances = new Map<string, Map<string, Map<string, Bal>>>();
  private readonly initialBalances: Readonly<Record<string, string>>;
  private readonly executionLog: Execution[] = [];
  /** Sequence of executionLog[0] (the log is trimmed from the front once over its bound). */
  private logBase = 1;
  private readonly maxExecutionLog: number;
  private readonly listeners = new Set<(e: Execution) => void>();
  private readonly backgroundIds = new Map<string, string[]>();
  private readonly now: () => number;
  private orderSeq = 0;
  private execSeq = 0;
  private readonly counters = {
    ordersReceived: 0,
    ordersWithoutRiskCheck: 0,
    duplicateOrders: 0,
    ordersRejected: 0,
    invalidRequests: 0,
    cancels: 0,
  };
  private readonly positions = new Map<
    string,
    {
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
  >();
  private readonly perStrategy = new Map<string, { received: number; withoutRisk: number; fills: number }>();
  /** Background liquidity's spread multiplier (chaos "spread widening"). */
  spreadMultiplier = 1;

  constructor(opts: ExchangeEngineOptions = {}) {
    for (const spec of opts.instruments ?? DEFAULT_SIM_INSTRUMENTS) {
      this.instruments.set(spec.symbol, { spec, tick: new Decimal(spec.tickSize), lot: new Decimal(spec.lotSize) });
    }
    for (const v of opts.venues ?? DEFAULT_SIM_VENUES) this.venues.set(v.id, v);
    this.initialBalances = opts.initialBalances ?? DEFAULT_INITIAL_BALANCES;
    this.now = opts.now ?? Date.now;
    this.maxExecutionLog = Math.max(1, opts.maxExecutionLog ?? 100_000);
  }

  book(venue: string, symbol: string): OrderBook {
    const key = `${venue}|${symbol}`;
    let b = this.books.get(key);
    if (!b) {
      b = new OrderBook(venue, symbol);
      this.books.set(key, b);
    }
    return b;
  }

  get lastSequence(): number {
    return this.execSeq;
  }

  // ---------------------------------------------------------------- validation

  private requireVenue(venue: string): SimVenue {
    const v = this.venues.get(venue);
    if (!v) throw invalidArgument("venue", venue, `unknown venue (known: ${[...this.venues.keys()].join(", ")})`);
    return v;
  }

  private requireInstrument(symbol: string): Inst {
    const i = this.instruments.get(symbol);
    if (!i) {
      throw invalidArgument("symbol", symbol, `unknown symbol (known: ${[...this.instruments.keys()].join(", ")})`);
    }
    return i;
  }

  private validate(req: PlaceOrderRequest) {
    if (!req.clientOrderId || req.clientOrderId.trim() === "") {
      throw invalidArgument("client_order_id", req.clientOrderId, "must not be empty");
    }
    const venue = this.requireVenue(req.venue);
    const inst = this.requireInstrument(req.symbol);
    const side = SIDE_NAME[req.side];
    if (!side) throw invalidArgument("side", req.side, "must be BUY or SELL");
    if (req.type !== OrderType.LIMIT && req.type !== OrderType.MARKET) {
      throw invalidArgument("type", req.type, "must be MARKET or LIMIT");
    }
    const tif = req.timeInForce;
    if (![TimeInForce.UNSPECIFIED, TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK].includes(tif)) {
      throw invalidArgument("time_in_force", tif, "must be GTC, IOC or FOK");
    }
    const qty = parseDecimal("quantity", req.quantity);
    if (qty.lte(0)) throw invalidArgument("quantity", req.quantity, "must be > 0");
    if (!qty.mod(inst.lot).isZero()) {
      throw invalidArgument("quantity", req.quantity, `not a multiple of the lot size ${inst.spec.lotSize}`);
    }
    // The book counts in integer lots and ticks held in plain numbers: keep them exact.
    if (qty.div(inst.lot).gt(MAX_UNITS)) throw invalidArgument("quantity", req.quantity, "too large");
    let price: Decimal | undefined;
    if (req.type === OrderType.LIMIT) {
      if (req.price.trim() === "") throw invalidArgument("price", req.price, "required for LIMIT orders");
      price = parseDecimal("price", req.price);
      if (price.lte(0)) throw invalidArgument("price", req.price, "must be > 0");
      if (!price.mod(inst.tick).isZero()) {
        throw invalidArgument("price", req.price, `not on the tick size ${inst.spec.tickSize}`);
      }
      if (price.div(inst.tick).gt(MAX_UNITS)) throw invalidArgument("price", req.price, "too large");
    } else {
      if (req.postOnly) throw invalidArgument("post_only", req.postOnly, "not allowed on MARKET orders");
    }
    return { venue, inst, side, qty, price };
  }

  // ---------------------------------------------------------------- balances

  private balance(account: string, venue: string, asset: string): Bal {
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

  getBalances(account: string, venue = ""): Balance[] {
    const acct = account || DEFAULT_ACCOUNT;
    if (venue) this.requireVenue(venue);
    const venues = venue ? [venue] : [...this.venues.keys()];
    const out: Balance[] = [];
    for (const v of venues) {
      this.balance(acct, v, "USD"); // materialise initial balances
      for (const [asset, b] of this.balances.get(acct)!.get(v)!) {
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

  setBalance(account: string, venue: string, asset: string, total: string): void {
    if (!account) throw invalidArgument("account_id", account, "must not be empty");
    this.requireVenue(venue);
    if (!asset) throw invalidArgument("asset", asset, "must not be empty");
    const t = parseDecimal("total", total);
    if (t.lt(0)) throw invalidArgument("total", total, "must be >= 0");
    this.balance(account, venue, asset).total = t;
  }

  // ---------------------------------------------------------------- orders

  private strategyCounters(strategyId: string) {
    let c = this.perStrategy.get(strategyId);
    if (!c) {
      c = { received: 0, withoutRisk: 0, fills: 0 };
      this.perStrategy.set(strategyId, c);
    }
    return c;
  }

  placeOrder(req: PlaceOrderRequest, opts: { chaosReject?: boolean; traceparent?: string } = {}): PlaceResult {
    let v: ReturnType<ExchangeEngine["validate"]>;
    try {
      v = this.validate(req);
    } catch (err) {
      this.counters.invalidRequests++;
      throw err;
    }
    const account = req.accountId || DEFAULT_ACCOUNT;
    const strat = this.strategyCounters(req.strategyId);
    this.counters.ordersReceived++;
    strat.received++;
    if (!req.riskChecked && !req.riskCheckId) {
      this.counters.ordersWithoutRiskCheck++;
      strat.withoutRisk++;
    }
    const dedupKey = `${account}\u0000${req.clientOrderId}`;
    const existingId = this.byClientId.get(dedupKey);
    if (existingId) {
      this.counters.duplicateOrders++;
      return { order: { ...this.orders.get(existingId)!.order }, duplicate: true, executions: [] };
    }
    const result = this.execute(account, req, v, {
      chaosReject: opts.chaosReject ?? false,
      background: false,
      traceparent: opts.traceparent,
    });
    this.byClientId.set(dedupKey, result.order.orderId);
    return result;
  }

  private execute(
    account: string,
    req: PlaceOrderRequest,
    v: ReturnType<ExchangeEngine["validate"]>,
    opts: { chaosReject: boolean; background: boolean; traceparent?: string },
  ): PlaceResult {
    const { venue, inst, side, qty, price } = v;
    const now = this.now();
    const isMarket = req.type === OrderType.MARKET;
    const tif = isMarket
      ? TimeInForce.IOC
      : req.timeInForce === TimeInForce.UNSPECIFIED
        ? TimeInForce.GTC
        : req.timeInForce;
    const orderId = `${opts.background ? "bg" : "ord"}-${(++this.orderSeq).toString().padStart(8, "0")}`;
    const lots = qty.div(inst.lot).toNumber();
    const priceTicks = price ? price.div(inst.tick).toNumber() : undefined;
    const reserveRate = Decimal.max(new Decimal(venue.makerFee), new Decimal(venue.takerFee), 0);
    const rec: OrderRecord = {
      order: {
        orderId,
        clientOrderId: req.clientOrderId,
        strategyId: req.strategyId,
        accountId: account,
        venue: venue.id,
        symbol: inst.spec.symbol,
        side: req.side,
        type: req.type,
        timeInForce: tif,
        postOnly: req.postOnly,
        quantity: qty.toFixed(),
        price: price ? price.toFixed() : "",
        filledQuantity: "0",
        remainingQuantity: qty.toFixed(),
        averageFillPrice: "",
        feesPaid: "0",
        status: OrderStatus.NEW,
        rejectReason: "",
        createdAtMs: now,
        updatedAtMs: now,
        riskChecked: req.riskChecked,
        riskCheckId: req.riskCheckId,
      },
      inst,
      venue,
      priceTicks,
      lots,
      filledLots: 0,
      notional: new Decimal(0),
      lockAsset: side === "BUY" ? inst.spec.quoteAsset : inst.spec.baseAsset,
      locked: new Decimal(0),
      reserveRate,
      background: opts.background,
      ...(opts.traceparent ? { traceparent: opts.traceparent } : {}),
    };
    const book = this.book(venue.id, inst.spec.symbol);
    const reject = (reason: string, status = OrderStatus.REJECTED): PlaceResult => {
      rec.order.status = status;
      rec.order.rejectReason = reason;
      rec.order.remainingQuantity = "0";
      if (status === OrderStatus.REJECTED) this.counters.ordersRejected++;
      if (!opts.background) this.orders.set(orderId, rec);
      return { order: { ...rec.order }, duplicate: false, executions: [] };
    };

    if (opts.chaosReject) return reject("chaos: random rejection");
    if (req.postOnly && book.crosses(side, priceTicks)) return reject("post-only order would take liquidity");
    if (tif === TimeInForce.FOK && book.executable(side, priceTicks, lots).lots < lots) {
      return reject("FOK order cannot be filled completely", OrderStatus.EXPIRED);
    }

    if (!opts.background) {
      // Funds: buyers reserve quote (limit price, or the walked cost for market orders) plus the fee; sellers the base.
      let need: Decimal;
      if (side === "BUY") {
        const notional = isMarket
          ? new Decimal(book.executable(side, undefined, lots).tickLots).mul(inst.tick).mul(inst.lot)
          : qty.mul(price!);
        need = notional.mul(reserveRate.plus(1));
      } else {
        need = qty;
      }
      const bal = this.balance(account, venue.id, rec.lockAsset);
      const available = bal.total.minus(bal.locked);
      if (available.lt(need)) {
        return reject(`insufficient funds: need ${need.toFixed()} ${rec.lockAsset}, available ${available.toFixed()}`);
      }
      bal.locked = bal.locked.plus(need);
      rec.locked = need;
    }
    this.orders.set(orderId, rec);

    const fills = book.match(side, priceTicks, lots);
    const executions: Execution[] = [];
    for (const f of fills) executions.push(...this.applyFill(rec, f, now));

    const remainingLots = lots - rec.filledLots;
    if (remainingLots > 0) {
      if (tif === TimeInForce.GTC && priceTicks !== undefined) {
        book.add(orderId, side, priceTicks, remainingLots);
        rec.order.status = rec.filledLots > 0 ? OrderStatus.PARTIALLY_FILLED : OrderStatus.NEW;
      } else {
        rec.order.status = OrderStatus.EXPIRED;
        rec.order.remainingQuantity = "0";
        this.close(rec);
      }
    }
    rec.order.updatedAtMs = now;
    return { order: { ...rec.order }, duplicate: false, executions };
  }

  /** Apply one book fill to taker and maker; returns the executions of real (non-background) accounts. */
  private applyFill(taker: OrderRecord, f: Fill, now: number): Execution[] {
    const maker = this.orders.get(f.maker.orderId);
    if (!maker) throw new Error(`resting order ${f.maker.orderId} has no record`);
    const price = new Decimal(f.priceTicks).mul(taker.inst.tick);
    const qty = new Decimal(f.lots).mul(taker.inst.lot);
    const out: Execution[] = [];
    for (const [rec, liq] of [
      [taker, Liquidity.TAKER],
      [maker, Liquidity.MAKER],
    ] as const) {
      const feeRate = new Decimal(liq === Liquidity.TAKER ? rec.venue.takerFee : rec.venue.makerFee);
      const notional = price.mul(qty);
      const fee = notional.mul(feeRate).toDecimalPlaces(8, Decimal.ROUND_HALF_EVEN);
      rec.filledLots += f.lots;
      rec.notional = rec.notional.plus(notional);
      const filledQty = new Decimal(rec.filledLots).mul(rec.inst.lot);
      const remaining = rec.lots - rec.filledLots;
      rec.order.filledQuantity = filledQty.toFixed();
      rec.order.remainingQuantity = new Decimal(remaining).mul(rec.inst.lot).toFixed();
      rec.order.averageFillPrice = rec.notional.div(filledQty).toDecimalPlaces(8, Decimal.ROUND_HALF_EVEN).toFixed();
      rec.order.feesPaid = new Decimal(rec.order.feesPaid).plus(fee).toFixed();
      rec.order.status = remaining === 0 ? OrderStatus.FILLED : OrderStatus.PARTIALLY_FILLED;
      rec.order.updatedAtMs = now;
      if (!rec.background) {
        const { baseAsset, quoteAsset } = rec.inst.spec;
        const quote = this.balance(rec.order.accountId, rec.venue.id, quoteAsset);
        const base = this.balance(rec.order.accountId, rec.venue.id, baseAsset);
        if (rec.order.side === Side.BUY) {
          const refPrice = rec.priceTicks !== undefined ? new Decimal(rec.priceTicks).mul(rec.inst.tick) : price;
          const release = Decimal.min(rec.locked, qty.mul(refPrice).mul(rec.reserveRate.plus(1)));
          rec.locked = rec.locked.minus(release);
          quote.locked = quote.locked.minus(release);
          quote.total = quote.total.minus(notional).minus(fee);
          base.total = base.total.plus(qty);
        } else {
          const release = Decimal.min(rec.locked, qty);
          rec.locked = rec.locked.minus(release);
          base.locked = base.locked.minus(release);
          base.total = base.total.minus(qty);
          quote.total = quote.total.plus(notional).minus(fee);
        }
        this.strategyCounters(rec.order.strategyId).fills++;
        this.notePosition(rec, qty, notional, fee);
        const exec: Execution = {
          sequence: ++this.execSeq,
          executionId: `exec-${this.execSeq.toString().padStart(10, "0")}`,
          orderId: rec.order.orderId,
          clientOrderId: rec.order.clientOrderId,
          strategyId: rec.order.strategyId,
          accountId: rec.order.accountId,
          venue: rec.venue.id,
          symbol: rec.inst.spec.symbol,
          side: rec.order.side,
          price: price.toFixed(),
          quantity: qty.toFixed(),
          fee: fee.toFixed(),
          feeAsset: quoteAsset,
          liquidity: liq,
          timestampMs: now,
          cumulativeQuantity: filledQty.toFixed(),
          remainingQuantity: rec.order.remainingQuantity,
          orderStatus: rec.order.status,
          traceparent: rec.traceparent ?? "",
        };
        this.appendExecution(exec);
        out.push(exec);
      }
      if (remaining === 0) this.close(rec);
    }
    for (const e of out) for (const l of this.listeners) l(e);
    return out;
  }

  /** Release whatever the order still holds; forget background orders. */
  private close(rec: OrderRecord): void {
    if (rec.locked.gt(0)) {
      const bal = this.balance(rec.order.accountId, rec.venue.id, rec.lockAsset);
      bal.locked = bal.locked.minus(rec.locked);
      rec.locked = new Decimal(0);
    }
    if (rec.background) this.orders.delete(rec.order.orderId);
  }

  private find(orderId: string, clientOrderId: string, account: string): OrderRecord {
    if (!orderId && !clientOrderId) {
      throw invalidArgument("order_id", orderId, "one of order_id or client_order_id is required");
    }
    const id = orderId || this.byClientId.get(`${account || DEFAULT_ACCOUNT}\u0000${clientOrderId}`);
    const rec = id ? this.orders.get(id) : undefined;
    if (!rec || rec.background) throw notFound("order", orderId || clientOrderId);
    return rec;
  }

  getOrder(orderId: string, clientOrderId: string, account = ""): Order {
    return { ...this.find(orderId, clientOrderId, account).order };
  }

  cancelOrder(orderId: string, clientOrderId: string, account = ""): { order: Order; canceled: boolean } {
    const rec = this.find(orderId, clientOrderId, account);
    const removed = this.book(rec.venue.id, rec.inst.spec.symbol).remove(rec.order.orderId);
    if (!removed) return { order: { ...rec.order }, canceled: false };
    rec.order.status = OrderStatus.CANCELED;
    rec.order.remainingQuantity = "0";
    rec.order.updatedAtMs = this.now();
    this.close(rec);
    this.counters.cancels++;
    return { order: { ...rec.order }, canceled: true };
  }

  listOpenOrders(filter: { accountId?: string; venue?: string; symbol?: string; strategyId?: string }): Order[] {
    const out: Order[] = [];
    for (const rec of this.orders.values()) {
      if (rec.background) continue;
      const o = rec.order;
      if (o.status !== OrderStatus.NEW && o.status !== OrderStatus.PARTIALLY_FILLED) continue;
      if (filter.accountId && o.accountId !== filter.accountId) continue;
      if (filter.venue && o.venue !== filter.venue) continue;
      if (filter.symbol && o.symbol !== filter.symbol) continue;
      if (filter.strategyId && o.strategyId !== filter.strategyId) continue;
      out.push({ ...o });
    }
    return out;
  }

  private notePosition(rec: OrderRecord, qty: Decimal, notional: Decimal, fee: Decimal): void {
    const o = rec.order;
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
  getPositions(
    filter: { accountId?: string; strategyId?: string; venue?: string; symbol?: string } = {},
  ): AccountPosition[] {
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

  // ---------------------------------------------------------------- executions

  /** Executions with sequence >= from (inclusive), in order; those trimmed off the bounded log are gone. */
  executionsFrom(from: number): Execution[] {
    return this.executionLog.slice(Math.max(0, from - this.logBase));
  }

  /** Bounded memory: trim in chunks (a tenth of the bound) so appends stay O(1) amortised. */
  private appendExecution(exec: Execution): void {
    this.executionLog.push(exec);
    const over = this.executionLog.length - this.maxExecutionLog;
    if (over > Math.max(0, Math.floor(this.maxExecutionLog / 10))) {
      this.executionLog.splice(0, over);
      this.logBase += over;
    }
  }

  get executionLogSize(): number {
    return this.executionLog.length;
  }

  onExecution(listener: (e: Execution) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---------------------------------------------------------------- background liquidity

  /**
   * Replace the synthetic resting liquidity on one book around an L1 quote (widened by spreadMultiplier).
   * New background orders that cross resting client orders fill them (the client is the maker).
   */
  refreshLiquidity(venue: string, symbol: string, bid: string, ask: string, bidSize: string, askSize: string): void {
    const inst = this.instruments.get(symbol);
    const v = this.venues.get(venue);
    if (!inst || !v) return;
    const key = `${venue}|${symbol}`;
    const book = this.book(venue, symbol);
    for (const id of this.backgroundIds.get(key) ?? []) {
      book.remove(id);
      this.orders.delete(id);
    }
    const b = new Decimal(bid);
    const a = new Decimal(ask);
    const mid = b.plus(a).div(2);
    const half = a
      .minus(b)
      .div(2)
      .mul(this.spreadMultiplier > 0 ? this.spreadMultiplier : 1);
    const bidPx = mid.minus(half).toNearest(inst.tick, Decimal.ROUND_DOWN);
    let askPx = mid.plus(half).toNearest(inst.tick, Decimal.ROUND_UP);
    if (askPx.lte(bidPx)) askPx = bidPx.plus(inst.tick);
    const step = Decimal.max(inst.tick, half.toNearest(inst.tick, Decimal.ROUND_UP));
    const ids: string[] = [];
    const place = (side: Side, px: Decimal, size: Decimal) => {
      const qty = size.toNearest(inst.lot, Decimal.ROUND_DOWN);
      if (qty.lte(0) || px.lte(0)) return;
      const req: PlaceOrderRequest = {
        clientOrderId: "",
        strategyId: "",
        accountId: LIQUIDITY_ACCOUNT,
        venue,
        symbol,
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
      const r = this.execute(
        LIQUIDITY_ACCOUNT,
        req,
        { venue: v, inst, side: side === Side.BUY ? "BUY" : "SELL", qty, price: px },
        { chaosReject: false, background: true },
      );
      if (r.order.status === OrderStatus.NEW || r.order.status === OrderStatus.PARTIALLY_FILLED)
        ids.push(r.order.orderId);
    };
    // Three levels per side, growing in size away from the touch.
    for (let i = 0; i < 3; i++) {
      place(Side.BUY, bidPx.minus(step.mul(i)), new Decimal(bidSize).mul(i + 1));
      place(Side.SELL, askPx.plus(step.mul(i)), new Decimal(askSize).mul(i + 1));
    }
    this.backgroundIds.set(key, ids);
  }

  // ---------------------------------------------------------------- counters

  getCounters(): ExchangeCounters {
    return {
      ordersReceived: this.counters.ordersReceived,
      ordersWithoutRiskCheck: this.counters.ordersWithoutRiskCheck,
      duplicateOrders: this.counters.duplicateOrders,
      ordersRejected: this.counters.ordersRejected,
      invalidRequests: this.counters.invalidRequests,
      executions: this.execSeq,
      cancels: this.counters.cancels,
      lastSequence: this.execSeq,
      wireLatencyCount: 0,
      wireLatencyP50Us: 0,
      wireLatencyP99Us: 0,
      wireLatencyMaxUs: 0,
      strategies: [...this.perStrategy.entries()].map(([strategyId, c]) => ({
        strategyId,
        ordersReceived: c.received,
        ordersWithoutRiskCheck: c.withoutRisk,
        fills: c.fills,
      })),
    };
  }
}
