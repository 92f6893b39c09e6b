// The simulated venue: per venue+symbol books with number mirrors, orders that arrive after the order latency,
// taker fills against the displayed touch, resting fills when a later quote crosses them or a trade print
// reaches them (the fill model's queue), cancels and expiries, each outcome told to its strategy after the ack
// latency. Orders move on the domain state machine; fills go into the ledger.
import { type Decimal, ZERO } from "../../domain/decimal";
import { InvalidFieldError } from "../../domain/errors";
import { roundQty } from "../../domain/instruments";
import { applyFill as applyOrderFill, createOrder, type Order, transition } from "../../domain/orders";
import { decimalToNumber, type FastL1Quote, quoteNums, tickInfo } from "../../domain/strategies/quoteMath";
import type { FillView, OpenOrderView, OrderEventView } from "../../domain/strategies/Strategy";
import type { Instrument, L1Quote, OrderIntent, Side, Venue } from "../../domain/types";
import type { QueueFills, QueuePosition } from "./fills/queue";
import type { DelayQueue, LatencyModel } from "./latency";
import type { BacktestLedger } from "./ledger";
import type { TradePrint } from "./marketEvents";
import type { BacktestSlot } from "./slot";

/** A resting order in the simulated book, with number mirrors for the matching loop. */
export interface Resting {
  order: Order;
  strat: BacktestSlot;
  side: Side;
  px: number;
  remaining: number;
  view: OpenOrderView;
  /** In the simulated book (false while in flight and once done/cancelled). */
  live: boolean;
  q: QueuePosition;
}

/** Per venue+symbol state. */
export interface Book {
  venue: Venue;
  instrument: Instrument;
  quote: L1Quote | undefined;
  bid: number;
  ask: number;
  /** Displayed size still available at the touch in the current quote (our fills consume it). */
  bidLeft: number;
  askLeft: number;
  /** Displayed touch sizes of the current quote (queue models). */
  bidQty: number;
  askQty: number;
  lot: number;
  buys: Resting[];
  sells: Resting[];
}

export interface SimVenueOptions {
  instruments: ReadonlyMap<string, Instrument>;
  venues: ReadonlyMap<string, Venue>;
  ledger: BacktestLedger;
  latency: LatencyModel;
  /** Delayed actions; undefined when every latency is 0 (then everything runs synchronously). */
  delayed: DelayQueue | undefined;
  /** The fill model's queue; undefined when resting orders fill only on a crossing quote. */
  queue: QueueFills | undefined;
  /** What a strategy returned from a fill or an order event. */
  onIntents: (s: BacktestSlot, intents: readonly OrderIntent[], ts: number) => void;
  /** The list the venue appends each new book to (shared with the ledger, which marks from it). */
  bookList: Book[];
}

export class SimVenue {
  /** Every book, in creation order. */
  readonly bookList: Book[];
  placed = 0;
  rejected = 0;
  private readonly books = new Map<string, Map<string, Book>>();
  private readonly instruments: ReadonlyMap<string, Instrument>;
  private readonly venues: ReadonlyMap<string, Venue>;
  private readonly ledger: BacktestLedger;
  private readonly latency: LatencyModel;
  private readonly delayed: DelayQueue | undefined;
  private readonly queue: QueueFills | undefined;
  private readonly onIntents: SimVenueOptions["onIntents"];
  private readonly tradeFills: [Resting, number][] = [];
  private lastBook: Book | undefined;

  constructor(opts: SimVenueOptions) {
    this.instruments = opts.instruments;
    this.venues = opts.venues;
    this.ledger = opts.ledger;
    this.latency = opts.latency;
    this.delayed = opts.delayed;
    this.queue = opts.queue;
    this.onIntents = opts.onIntents;
    this.bookList = opts.bookList;
  }

  book(venue: string, symbol: string): Book | undefined {
    return this.books.get(venue)?.get(symbol);
  }

  private bookFor(q: { venue: string; symbol: string }): Book {
    // Consecutive events mostly hit the same book: skip the two map lookups then.
    const last = this.lastBook;
    if (last !== undefined && last.venue.id === q.venue && last.instrument.symbol === q.symbol) return last;
    const b = this.findOrAddBook(q);
    this.lastBook = b;
    return b;
  }

  private findOrAddBook(q: { venue: string; symbol: string }): Book {
    let byVenue = this.books.get(q.venue);
    if (!byVenue) {
      byVenue = new Map();
      this.books.set(q.venue, byVenue);
    }
    let b = byVenue.get(q.symbol);
    if (!b) {
      const venue = this.venues.get(q.venue);
      if (!venue) throw new InvalidFieldError("venue", q.venue, "unknown venue (no fee schedule)");
      const instrument = this.instruments.get(q.symbol);
      if (!instrument) throw new InvalidFieldError("symbol", q.symbol, "unknown instrument");
      b = {
        venue,
        instrument,
        quote: undefined,
        bid: 0,
        ask: 0,
        bidLeft: 0,
        askLeft: 0,
        bidQty: 0,
        askQty: 0,
        lot: tickInfo(instrument).lot,
        buys: [],
        sells: [],
      };
      byVenue.set(q.symbol, b);
      this.bookList.push(b);
    }
    return b;
  }

  /** A new quote on its book: queue positions move, the touch is replaced, resting orders it crosses fill. */
  onQuote(q: L1Quote, ts: number): void {
    const b = this.bookFor(q);
    const n = (q as FastL1Quote).n ?? quoteNums(q);
    const queue = this.queue;
    if (queue !== undefined && (b.buys.length !== 0 || b.sells.length !== 0)) {
      queue.touch(b.buys, true, b.bid, b.bidQty, n.bid, n.bidSize);
      queue.touch(b.sells, false, b.ask, b.askQty, n.ask, n.askSize);
    }
    b.quote = q;
    b.bid = n.bid;
    b.ask = n.ask;
    b.bidLeft = b.bidQty = n.bidSize;
    b.askLeft = b.askQty = n.askSize;
    if (b.buys.length !== 0 || b.sells.length !== 0) this.matchResting(b, ts);
  }

  /** A trade print: queue models advance and fill our resting orders on the side it hit. */
  onTrade(t: TradePrint): void {
    const ts = t.ts;
    const b = this.bookFor(t);
    const buy = t.side === "SELL"; // a sell aggressor hits our bids
    const list = buy ? b.buys : b.sells;
    if (this.queue !== undefined && list.length !== 0) {
      const out = this.tradeFills;
      this.queue.trade(list, buy, t.px, t.size, b.lot, out);
      if (out.length !== 0) {
        // Fill callbacks may place or cancel orders (and so re-enter here): work on a copy.
        const fills = out.splice(0);
        for (const [r, qty] of fills)
          if (r.live && r.remaining > 0) this.fill(b, r, Math.min(qty, r.remaining), r.order.limitPrice!, "MAKER", ts);
      }
    }
  }

  /** Resting orders fill at their own price when the new quote crosses them (maker). */
  private matchResting(b: Book, ts: number): void {
    if (b.buys.length !== 0 && b.ask > 0 && crossesAny(b.buys, b.ask, true)) {
      // Snapshot: a strategy's onFill may place or cancel orders on this book while we iterate.
      for (const r of b.buys.slice()) {
        if (b.askLeft <= 0) break;
        if (r.remaining <= 0 || !r.live || b.ask > r.px) continue;
        const qty = Math.min(r.remaining, b.askLeft);
        b.askLeft -= qty;
        this.fill(b, r, qty, r.order.limitPrice!, "MAKER", ts);
      }
    }
    if (b.sells.length !== 0 && b.bid > 0 && crossesAny(b.sells, b.bid, false)) {
      for (const r of b.sells.slice()) {
        if (b.bidLeft <= 0) break;
        if (r.remaining <= 0 || !r.live || b.bid < r.px) continue;
        const qty = Math.min(r.remaining, b.bidLeft);
        b.bidLeft -= qty;
        this.fill(b, r, qty, r.order.limitPrice!, "MAKER", ts);
      }
    }
  }

  /** Run `fn` when the strategy learns of an exchange outcome: now, or after the ack latency. */
  private notify(s: BacktestSlot, ts: number, fn: (t: number) => void): void {
    if (!this.delayed) {
      s.now = ts;
      fn(ts);
      return;
    }
    const at = Math.max(ts + this.latency.ack(), s.lastAck);
    s.lastAck = at;
    if (at === ts) {
      s.now = ts;
      fn(ts);
    } else
      this.delayed.push(at, () => {
        s.now = at;
        fn(at);
      });
  }

  /** A strategy's cancel: at once, or after the order latency (the order shows pendingCancel meanwhile). */
  requestCancel(s: BacktestSlot, orderId: string, ts: number): void {
    if (!this.delayed) {
      this.cancel(s, orderId, ts, false);
      return;
    }
    const r = s.open.get(orderId);
    if (!r || r.view.pendingCancel) return;
    r.view = { ...r.view, pendingCancel: true };
    s.invalidate();
    const at = Math.max(ts + this.latency.order(), s.lastArrival);
    s.lastArrival = at;
    const land = () => {
      if (!r.live) return; // filled, rejected or expired first: its own ack removes it
      r.order = transition(r.order, "canceled", at);
      this.unbook(r);
      this.notify(s, at, () => this.forget(s, r));
    };
    if (at === ts) land();
    else this.delayed.push(at, land);
  }

  cancel(s: BacktestSlot, orderId: string, ts: number, notify: boolean): void {
    const r = s.open.get(orderId);
    if (!r || (this.delayed && !r.live)) return; // done, or still in flight (cancelled once it rests)
    // Simulated venue acks the cancel at once: accepted/partially-filled → canceled is legal.
    r.order = transition(r.order, "canceled", ts);
    this.unbook(r);
    this.forget(r.strat, r);
    if (notify) this.orderEvent(s, r.order, "CANCELED", ts);
  }

  /** Out of the simulated book. */
  private unbook(r: Resting): void {
    r.live = false;
    const b = this.book(r.order.venue, r.order.symbol)!;
    const list = r.side === "BUY" ? b.buys : b.sells;
    const k = list.indexOf(r);
    if (k >= 0) list.splice(k, 1);
  }

  /** Out of the strategy's open orders. */
  private forget(s: BacktestSlot, r: Resting): void {
    s.open.delete(r.order.orderId);
    s.invalidate();
  }

  private orderEvent(s: BacktestSlot, o: Order, kind: OrderEventView["kind"], ts: number, reason?: string): void {
    if (!s.strategy.onOrderEvent) return;
    const out = s.strategy.onOrderEvent(eventView(o, kind, ts, reason), s);
    if (out.length) this.onIntents(s, out, ts);
  }

  /** An intent the strategy host approved: it travels to the simulated venue. */
  place(s: BacktestSlot, it: OrderIntent, ts: number, id: string, b: Book): void {
    let order = createOrder(it, { clientOrderId: id }, ts);
    const qtyNum = decimalToNumber(it.quantity);
    const px = it.limitPrice === undefined ? Number.NaN : decimalToNumber(it.limitPrice);
    this.placed++;
    order = transition(order, "submitted", ts);
    const r: Resting = {
      order,
      strat: s,
      side: it.side,
      px,
      remaining: qtyNum,
      view: openView(order, order.quantity),
      live: false,
      q: { ahead: 0, traded: 0 },
    };
    if (!this.delayed) {
      this.arrive(s, b, r, it, ts);
      return;
    }
    // In flight: the strategy already lists it as open (as an order tracker would).
    s.open.set(order.orderId, r);
    s.invalidate();
    const at = Math.max(ts + this.latency.order(), s.lastArrival);
    s.lastArrival = at;
    if (at === ts) this.arrive(s, b, r, it, ts);
    else this.delayed.push(at, () => this.arrive(s, b, r, it, at));
  }

  /** Exchange side of a placement, against the book as it is when the order arrives. */
  private arrive(s: BacktestSlot, b: Book, r: Resting, it: OrderIntent, ts: number): void {
    const buy = it.side === "BUY";
    const px = r.px;
    const crosses = it.type === "MARKET" || (buy ? b.ask > 0 && px >= b.ask : b.bid > 0 && px <= b.bid);
    if (it.postOnly && crosses) {
      r.order = transition(r.order, "rejected", ts, { errorMessage: "post-only order would take liquidity" });
      this.rejected++;
      this.notify(s, ts, (t) => {
        this.forget(s, r);
        this.orderEvent(s, r.order, "REJECTED", t, "post-only would cross");
      });
      return;
    }
    r.order = transition(r.order, "accepted", ts);
    if (!this.delayed) {
      s.open.set(r.order.orderId, r);
      s.invalidate();
    }
    if (crosses) {
      // Taker: trade against the displayed opposite side at its price, up to its size.
      const avail = buy ? b.askLeft : b.bidLeft;
      const qty = Math.min(r.remaining, avail);
      const fok = it.timeInForce === "FOK";
      if (qty > 0 && !(fok && qty < r.remaining)) {
        if (buy) b.askLeft -= qty;
        else b.bidLeft -= qty;
        const price = buy ? b.quote!.ask : b.quote!.bid;
        if (this.fill(b, r, qty, price, "TAKER", ts, false)) return;
      }
      if (it.timeInForce !== "GTC") {
        this.expire(s, r, `${it.timeInForce} remainder ${r.order.remainingQuantity.toFixed()} expired`, ts);
        return;
      }
    } else if (it.timeInForce !== "GTC") {
      this.expire(s, r, `${it.timeInForce} did not cross`, ts);
      return;
    }
    if (this.queue) this.queue.join(r.q, buy, px, buy ? b.bid : b.ask, buy ? b.bidQty : b.askQty);
    r.live = true;
    (buy ? b.buys : b.sells).push(r);
  }

  private expire(s: BacktestSlot, r: Resting, message: string, ts: number): void {
    r.order = transition(r.order, "expired", ts, { errorMessage: message });
    this.notify(s, ts, (t) => {
      this.forget(s, r);
      this.orderEvent(s, r.order, "EXPIRED", t);
    });
  }

  /**
   * Execute `qtyNum` of a resting/new order at `price`: order state, portfolio, trade record, strategy
   * callback. Returns true when the order is done (and no longer resting).
   */
  private fill(
    b: Book,
    r: Resting,
    qtyNum: number,
    price: Decimal,
    liquidity: "MAKER" | "TAKER",
    ts: number,
    resting = true,
  ): boolean {
    const o = r.order;
    // Displayed size may be finer than our remaining: round down to the lot, exact remainder when it is all.
    let qty: Decimal;
    if (qtyNum >= r.remaining) qty = o.remainingQuantity;
    else {
      qty = roundQty(b.instrument, qtyNum);
      if (!qty.gt(0)) return false;
    }
    const feeRate = liquidity === "MAKER" ? b.venue.makerFee : b.venue.takerFee;
    const fee = qty.times(price).times(feeRate);
    const res = this.ledger.applyFill(o, qty, price, fee, ts);
    r.order = applyOrderFill(o, { quantity: qty, price, fee, realizedPnl: res.realizedPnlDelta }, ts);
    r.remaining = r.order.remainingQuantity.toNumber();
    this.ledger.recordTrade(o, qty, price, fee, liquidity, ts, res);

    const done = r.order.status === "filled";
    const s = r.strat;
    if (done) {
      if (resting) this.unbook(r);
      r.live = false;
    }
    const after = r.order;
    const fv: FillView = {
      ts,
      orderId: o.orderId,
      venue: o.venue,
      symbol: o.symbol,
      side: o.side,
      quantity: qty,
      price,
      fee,
      liquidity,
      remainingQuantity: r.order.remainingQuantity,
    };
    if (o.tag !== undefined) fv.tag = o.tag;
    this.notify(s, ts, (t) => {
      if (done) this.forget(s, r);
      else {
        const v = openView(after, after.remainingQuantity);
        if (r.view.pendingCancel) v.pendingCancel = true;
        r.view = v;
        s.invalidate();
      }
      if (this.delayed)
        s.seenPos.set(o.symbol, (s.seenPos.get(o.symbol) ?? ZERO).plus(o.side === "BUY" ? qty : qty.neg()));
      const out = s.strategy.onFill(fv, s);
      if (out.length) this.onIntents(s, out, t);
    });
    return done;
  }
}

/** Does the quote's opposite touch reach any of these resting orders? */
function crossesAny(list: readonly Resting[], touch: number, buys: boolean): boolean {
  for (let i = 0; i < list.length; i++) {
    const px = list[i]!.px;
    if (buys ? touch <= px : touch >= px) return true;
  }
  return false;
}

function eventView(o: Order, kind: OrderEventView["kind"], ts: number, reason?: string): OrderEventView {
  const ev: OrderEventView = {
    ts,
    kind,
    orderId: o.orderId,
    venue: o.venue,
    symbol: o.symbol,
    side: o.side,
    filledQuantity: o.filledQuantity,
  };
  if (o.tag !== undefined) ev.tag = o.tag;
  const why = reason ?? o.errorMessage;
  if (why !== undefined) ev.reason = why;
  return ev;
}

/** Views always have the same shape (every key present) so strategies' scans stay monomorphic. */
function openView(o: Order, remaining: Decimal): OpenOrderView {
  return {
    orderId: o.orderId,
    venue: o.venue,
    symbol: o.symbol,
    side: o.side,
    limitPrice: o.limitPrice,
    quantity: o.quantity,
    remainingQuantity: remaining,
    tag: o.tag,
    pendingCancel: false,
  };
}
