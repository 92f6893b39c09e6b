// The exchange simulator's core: venues, books, orders, dedup and counters; balances, positions, the executions
// log and request validation are in SimBalances, SimPositions, ExecutionLog and simMarket.
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
import { LIQUIDITY_ACCOUNT, liquidityLadder } from "./backgroundLiquidity";
import { ExecutionLog } from "./ExecutionLog";
import { type Fill, OrderBook } from "./OrderBook";
import { SimBalances } from "./SimBalances";
import { SimPositions } from "./SimPositions";
import {
  DEFAULT_SIM_INSTRUMENTS,
  DEFAULT_SIM_VENUES,
  type Inst,
  parseDecimal,
  requireVenue,
  type SimInstrument,
  type SimVenue,
  type ValidOrder,
  validateOrder,
} from "./simMarket";

export { LIQUIDITY_ACCOUNT } from "./backgroundLiquidity";
export { DEFAULT_SIM_INSTRUMENTS, DEFAULT_SIM_VENUES, type SimInstrument, type SimVenue } from "./simMarket";

/** Every new account starts with these on every venue. */
export const DEFAULT_INITIAL_BALANCES: Readonly<Record<string, string>> = { USD: "1000000", BTC: "10", ETH: "100" };

export const DEFAULT_ACCOUNT = "default";

export interface ExchangeEngineOptions {
  instruments?: readonly SimInstrument[];
  venues?: readonly SimVenue[];
  initialBalances?: Readonly<Record<string, string>>;
  now?: () => number;
  /** Executions kept for replay (StreamExecutions from a sequence); older ones are dropped. Default 100 000. */
  maxExecutionLog?: number;
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

export interface PlaceResult {
  order: Order;
  duplicate: boolean;
  executions: Execution[];
}

export class ExchangeEngine {
  readonly instruments = new Map<string, Inst>();
  readonly venues = new Map<string, SimVenue>();
  private readonly books = new Map<string, OrderBook>();
  private readonly orders = new Map<string, OrderRecord>();
  private readonly byClientId = new Map<string, string>();
  private readonly funds: SimBalances;
  private readonly executionLog: ExecutionLog;
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
  private readonly positions = new SimPositions();
  private readonly perStrategy = new Map<string, { received: number; withoutRisk: number; fills: number }>();
  /** Background liquidity's spread multiplier (chaos "spread widening"). */
  spreadMultiplier = 1;

  constructor(opts: ExchangeEngineOptions = {}) {
    for (const spec of opts.instruments ?? DEFAULT_SIM_INSTRUMENTS) {
      this.instruments.set(spec.symbol, { spec, tick: new Decimal(spec.tickSize), lot: new Decimal(spec.lotSize) });
    }
    for (const v of opts.venues ?? DEFAULT_SIM_VENUES) this.venues.set(v.id, v);
    this.funds = new SimBalances(opts.initialBalances ?? DEFAULT_INITIAL_BALANCES);
    this.now = opts.now ?? Date.now;
    this.executionLog = new ExecutionLog(Math.max(1, opts.maxExecutionLog ?? 100_000));
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

  private requireVenue(venue: string): SimVenue {
    return requireVenue(this.venues, venue);
  }

  // ---------------------------------------------------------------- balances

  private balance(account: string, venue: string, asset: string) {
    return this.funds.balance(account, venue, asset);
  }

  getBalances(account: string, venue = ""): Balance[] {
    const acct = account || DEFAULT_ACCOUNT;
    if (venue) this.requireVenue(venue);
    return this.funds.list(acct, venue ? [venue] : [...this.venues.keys()]);
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
    let v: ValidOrder;
    try {
      v = validateOrder(req, this.venues, this.instruments);
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
    v: ValidOrder,
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
        this.positions.note(rec.order, qty, notional, fee);
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
        this.executionLog.append(exec);
        out.push(exec);
      }
      if (remaining === 0) this.close(rec);
    }
    this.executionLog.publish(out);
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

  /** Net traded positions from fills, per account, strategy, venue and symbol (empty filters match all). */
  getPositions(
    filter: { accountId?: string; strategyId?: string; venue?: string; symbol?: string } = {},
  ): AccountPosition[] {
    return this.positions.list(filter);
  }

  // ---------------------------------------------------------------- executions

  /** Executions with sequence >= from (inclusive), in order; those trimmed off the bounded log are gone. */
  executionsFrom(from: number): Execution[] {
    return this.executionLog.from(from);
  }

  get executionLogSize(): number {
    return this.executionLog.size;
  }

  onExecution(listener: (e: Execution) => void): () => void {
    return this.executionLog.onExecution(listener);
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
    const ids: string[] = [];
    for (const { req, order } of liquidityLadder(v, inst, bid, ask, bidSize, askSize, this.spreadMultiplier)) {
      const r = this.execute(LIQUIDITY_ACCOUNT, req, order, { chaosReject: false, background: true });
      if (r.order.status === OrderStatus.NEW || r.order.status === OrderStatus.PARTIALLY_FILLED)
        ids.push(r.order.orderId);
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
