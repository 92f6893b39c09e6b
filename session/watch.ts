// What the running session watches: our executions at the exchange (fills per book, the dashboard's fills),
// the risk monitor's alerts, and, once per sample period, equity and positions from the state store, the
// open orders and quotes, the trading state and fills per strategy, for the dashboard, the terminal and the report.
import type { Execution } from "../gen/proto/tse/exchange/exchange";
import { type RiskAlert, Severity } from "../gen/proto/tse/risk/risk";
import { Decimal } from "../lib/domain/decimal";
import { unrealizedPnl } from "../lib/domain/portfolio/position";
import type { StateStore } from "../lib/ports/StateStore";
import type { Quoter } from "../quoter/Quoter";
import { DEFAULT_ACCOUNT } from "../sim/exchange/ExchangeEngine";
import type { RunningSimulators } from "../sim/main";
import type { DashboardState } from "./dashboard/DashboardState";
import type { DashboardSnapshot } from "./dashboard/types";
import type { RiskEventLog } from "./quoterSetup";
import type { SessionCustody } from "./SessionCustody";
import type { EquitySample, PositionSample } from "./sessionReport";
import { STARTING_EQUITY, SYMBOLS, VENUES } from "./types";

/** The session's parts the watch reads (getters: they exist once the session has started them). */
export interface WatchSource {
  dashboard: DashboardState;
  riskEvents: RiskEventLog;
  log: (l: string) => void;
  store: () => StateStore;
  sims: () => RunningSimulators;
  quoter: () => Quoter;
  strategyIds: () => readonly string[];
  custody: () => SessionCustody | undefined;
  /** Samples the report's curves keep at most (then thinned to every other one). */
  maxCurveSamples: number;
}

/** The report's equity and position curves keep at most this many samples: when full, every other one goes. */
export const MAX_CURVE_SAMPLES = 600;

export class SessionWatch {
  readonly equity: EquitySample[] = [];
  readonly positionCurve: PositionSample[] = [];
  /** Every how many samples one is kept in the curves (doubles each time they fill up). */
  curveStride = 1;
  private samplesTaken = 0;
  readonly fillsByBook = new Map<string, number>();
  readonly ourExecutionIds = new Set<string>();
  readonly tradesByStrategy = new Map<string, number>();
  private readonly ourNet = new Map<string, Decimal>();
  private readonly listeners = new Set<(s: DashboardSnapshot) => void>();
  private sampling = false;

  constructor(private readonly src: WatchSource) {}

  /** Called with every dashboard snapshot (about once a second). */
  onSample(listener: (s: DashboardSnapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** An execution at the exchange: ours (our account, an order we placed) counts once per execution id. */
  onExchangeExecution(e: Execution): void {
    if (e.accountId !== DEFAULT_ACCOUNT || e.clientOrderId === "") return;
    if (this.ourExecutionIds.has(e.executionId)) return;
    this.ourExecutionIds.add(e.executionId);
    const key = `${e.venue}|${e.symbol}`;
    this.fillsByBook.set(key, (this.fillsByBook.get(key) ?? 0) + 1);
    const sign = e.side === 1 ? 1 : -1;
    this.ourNet.set(e.symbol, (this.ourNet.get(e.symbol) ?? new Decimal(0)).plus(new Decimal(e.quantity).times(sign)));
    this.src.dashboard.addFill({
      ts: Number(e.timestampMs),
      venue: e.venue,
      symbol: e.symbol,
      side: e.side === 1 ? "BUY" : "SELL",
      qty: new Decimal(e.quantity).toFixed(),
      price: new Decimal(e.price).toFixed(),
      fee: new Decimal(e.fee || "0").toFixed(),
      ...(e.strategyId ? { strategyId: e.strategyId } : {}),
      liquidity: e.liquidity === 2 ? "TAKER" : "MAKER",
    });
  }

  /** A risk monitor alert: on the dashboard, and among the report's first 500 risk events. */
  onRiskAlert(al: RiskAlert): void {
    const ts = Number(al.timestampMs) || Date.now();
    const message = `risk monitor: ${al.message || `${al.limit} at ${al.utilisation}`} (${al.strategyId} ${al.symbol})`;
    this.src.dashboard.addAlert({
      ts,
      level: al.severity >= Severity.HIGH ? "CRITICAL" : al.severity === Severity.MEDIUM ? "WARN" : "INFO",
      message,
      ...(al.limit ? { rule: al.limit } : {}),
    });
    // The report keeps the first 500 alerts (a long session may raise many).
    const events = this.src.riskEvents;
    if (events.length < 500) events.push({ ts, kind: `risk-monitor:${Severity[al.severity] ?? al.severity}`, message });
  }

  private mid(venue: string, symbol: string): number | undefined {
    const q = this.src.sims().quotes?.quote(venue, symbol);
    if (!q) return undefined;
    return (Number(q.bid) + Number(q.ask)) / 2;
  }

  /** Mark per symbol: the average of the venues' mids. */
  private marks(): Map<string, Decimal> {
    const out = new Map<string, Decimal>();
    for (const s of SYMBOLS) {
      const mids = VENUES.map((v) => this.mid(v, s)).filter((m): m is number => m !== undefined);
      if (mids.length) out.set(s, new Decimal(mids.reduce((x, y) => x + y, 0) / mids.length).toDecimalPlaces(8));
    }
    return out;
  }

  /**
   * One sample into the report's curves, bounded: past maxCurveSamples every other kept sample is dropped and the
   * stride doubles (the report's period with it). The last sample (at stop) is always kept: the report reads its PnL.
   */
  private recordCurves(e: EquitySample, net: ReadonlyMap<string, Decimal>, final: boolean): void {
    if (this.samplesTaken++ % this.curveStride !== 0 && !final) return;
    this.equity.push(e);
    for (const s of SYMBOLS) this.positionCurve.push({ ts: e.ts, symbol: s, quantity: net.get(s) ?? new Decimal(0) });
    if (this.equity.length < this.src.maxCurveSamples) return;
    const keep = <T>(xs: T[], per: number) => {
      const kept = xs.filter((_, i) => Math.floor(i / per) % 2 === 0);
      xs.splice(0, xs.length, ...kept);
    };
    keep(this.equity, 1);
    keep(this.positionCurve, SYMBOLS.length);
    this.curveStride *= 2;
  }

  /** Equity and positions from the state store (the engine's books), the dashboard, the terminal. */
  async sample(final = false): Promise<void> {
    if (this.sampling) return;
    this.sampling = true;
    try {
      const now = Date.now();
      const store = this.src.store();
      const positions = await store.listPositions();
      const marks = this.marks();
      let realized = new Decimal(0);
      let unrealized = new Decimal(0);
      let fees = new Decimal(0);
      const net = new Map<string, Decimal>();
      const dashPositions = [];
      for (const p of positions) {
        realized = realized.plus(p.realizedPnl);
        fees = fees.plus(p.fees);
        const mark = marks.get(p.symbol) ?? p.averageEntryPrice;
        const u = unrealizedPnl(p, mark);
        unrealized = unrealized.plus(u);
        net.set(p.symbol, (net.get(p.symbol) ?? new Decimal(0)).plus(p.quantity));
        dashPositions.push({
          symbol: p.symbol,
          venue: p.venue,
          strategyId: p.strategyId,
          quantity: p.quantity.toFixed(),
          avgPrice: p.averageEntryPrice.toDecimalPlaces(8).toFixed(),
          markPrice: mark.toFixed(),
          unrealizedPnl: u.toDecimalPlaces(8).toFixed(),
          realizedPnl: p.realizedPnl.toDecimalPlaces(8).toFixed(),
        });
      }
      const equity = STARTING_EQUITY.plus(realized).plus(unrealized).minus(fees).toDecimalPlaces(8);
      this.recordCurves({ ts: now, equity, realized, unrealized, fees }, net, final);

      const d = this.src.dashboard;
      d.recordEquity(now, equity);
      const r8 = (x: Decimal) => x.toDecimalPlaces(8).toFixed();
      d.setPnl({
        total: r8(equity.minus(STARTING_EQUITY)),
        realized: r8(realized),
        unrealized: r8(unrealized),
        fees: r8(fees),
      });
      d.setPositions(dashPositions);
      const quoter = this.src.quoter();
      const open = quoter.openOrders();
      d.setOpenOrders(
        open.map((o) => ({
          orderId: o.exchangeOrderId ?? o.clientOrderId,
          clientOrderId: o.clientOrderId,
          strategyId: o.strategyId,
          venue: o.venue,
          symbol: o.symbol,
          side: o.side,
          type: "LIMIT" as const,
          ...(o.limitPrice ? { price: o.limitPrice.toFixed() } : {}),
          qty: o.quantity.toFixed(),
          filledQty: o.quantity.minus(o.remainingQuantity).toFixed(),
          status: o.pendingCancel ? "PENDING_CANCEL" : o.acked ? "NEW" : "PENDING_NEW",
          ts: o.createdAt,
        })),
      );
      for (const s of SYMBOLS) {
        for (const v of VENUES) {
          const q = this.src.sims().quotes?.quote(v, s);
          if (!q) continue;
          const ours = open.filter((o) => o.venue === v && o.symbol === s && o.limitPrice);
          const bestBid = ours
            .filter((o) => o.side === "BUY")
            .reduce<Decimal | undefined>((b, o) => (!b || o.limitPrice!.gt(b) ? o.limitPrice! : b), undefined);
          const bestAsk = ours
            .filter((o) => o.side === "SELL")
            .reduce<Decimal | undefined>((b, o) => (!b || o.limitPrice!.lt(b) ? o.limitPrice! : b), undefined);
          d.setQuote({
            venue: v,
            symbol: s,
            bid: new Decimal(q.bid).toFixed(),
            ask: new Decimal(q.ask).toFixed(),
            ...(q.bidSize ? { bidSize: new Decimal(q.bidSize).toFixed() } : {}),
            ...(q.askSize ? { askSize: new Decimal(q.askSize).toFixed() } : {}),
            ...(bestBid ? { ourBid: bestBid.toFixed() } : {}),
            ...(bestAsk ? { ourAsk: bestAsk.toFixed() } : {}),
            ts: q.timestamp || now,
          });
        }
      }
      const st = quoter.status();
      d.setRiskState(st.tradingState, st.tradingState === "ACTIVE" ? undefined : this.src.riskEvents.at(-1)?.message);
      for (const sid of this.src.strategyIds()) {
        // Counted from the state store's fills, refreshed once per sample.
        const fills = await store.listFillsByStrategy(sid);
        this.tradesByStrategy.set(sid, fills.length);
      }
      const custody = this.src.custody();
      if (custody) d.setCustody(custody.snapshot());
      const snap = d.snapshot();
      for (const l of this.listeners) l(snap);
    } catch (e) {
      this.src.log(`sample failed: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      this.sampling = false;
    }
  }
}
