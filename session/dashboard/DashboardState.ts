// An in-memory DashboardSource a session feeds as things happen (equity samples, fills, orders,
// quotes, risk changes). It keeps bounded windows so a long session never grows memory, and tracks
// the all-time equity peak so drawdown is right even after old points leave the window.
import Decimal from "decimal.js";
import { clip, MAX_REASON_CHARS } from "../../lib/domain/bounds";
import type { TradingState } from "../../lib/domain/types";
import type {
  DashboardAlert,
  DashboardCustody,
  DashboardFill,
  DashboardOpenOrder,
  DashboardPosition,
  DashboardQuote,
  DashboardSnapshot,
  DashboardSource,
} from "./types";

export interface DashboardStateOptions {
  /** Called by setTradingState before the local state changes; the session points it at the control API. */
  onSetTradingState?: (state: TradingState, reason: string) => Promise<void>;
  /** Equity points kept for the live chart. Default 900 (15 min at 1/s). */
  maxEquityPoints?: number;
  /** Default 50. */
  maxFills?: number;
  /** Default 50. */
  maxAlerts?: number;
  clock?: () => number;
  runId?: string;
  mode?: string;
  scenario?: string;
  strategies?: string[];
  initialState?: TradingState;
}

export class DashboardStateError extends Error {
  constructor(
    readonly field: string,
    readonly value: unknown,
    message: string,
  ) {
    super(`${field}: ${message} (got ${JSON.stringify(value)})`);
    this.name = "DashboardStateError";
  }
}

/** Rows kept per table (positions, open orders, quote board): the page and memory stay bounded. */
const MAX_ROWS = 500;
const MAX_ALERT_CHARS = 512;

function positiveInt(field: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw new DashboardStateError(field, value, "must be a positive integer");
  return value;
}

export class DashboardState implements DashboardSource {
  private readonly opts: DashboardStateOptions;
  private readonly maxEquityPoints: number;
  private readonly maxFills: number;
  private readonly maxAlerts: number;
  private readonly clock: () => number;
  private equity: { ts: number; equity: string }[] = [];
  private ddCurve: { ts: number; drawdownPct: number }[] = [];
  private peak: Decimal | null = null;
  private current = { dd: new Decimal(0), pct: 0 };
  private max = { dd: new Decimal(0), pct: 0 };
  private pnl: DashboardSnapshot["pnl"];
  private positions: DashboardPosition[] = [];
  private openOrders: DashboardOpenOrder[] = [];
  private fills: DashboardFill[] = [];
  private alerts: DashboardAlert[] = [];
  private quotes = new Map<string, DashboardQuote>();
  private riskState: TradingState;
  private riskReason: string | undefined;
  private custody: DashboardCustody | undefined;

  constructor(opts: DashboardStateOptions = {}) {
    this.opts = opts;
    this.maxEquityPoints = positiveInt("maxEquityPoints", opts.maxEquityPoints, 900);
    this.maxFills = positiveInt("maxFills", opts.maxFills, 50);
    this.maxAlerts = positiveInt("maxAlerts", opts.maxAlerts, 50);
    this.clock = opts.clock ?? Date.now;
    this.riskState = opts.initialState ?? "ACTIVE";
  }

  /** Append an equity sample (decimal string or Decimal). */
  recordEquity(ts: number, equity: string | Decimal): void {
    let e: Decimal;
    try {
      e = new Decimal(equity);
    } catch {
      throw new DashboardStateError("equity", equity, "must be a decimal");
    }
    if (!e.isFinite()) throw new DashboardStateError("equity", equity, "must be finite");
    if (!Number.isFinite(ts)) throw new DashboardStateError("ts", ts, "must be epoch milliseconds");
    if (this.peak === null || e.gt(this.peak)) this.peak = e;
    const dd = this.peak.minus(e);
    const pct = this.peak.gt(0) ? dd.div(this.peak).mul(100).toNumber() : 0;
    this.current = { dd, pct };
    if (dd.gt(this.max.dd)) this.max = { dd, pct: Math.max(this.max.pct, pct) };
    else if (pct > this.max.pct) this.max = { dd: this.max.dd, pct };
    this.equity.push({ ts, equity: e.toFixed() });
    this.ddCurve.push({ ts, drawdownPct: pct });
    if (this.equity.length > this.maxEquityPoints) {
      this.equity.splice(0, this.equity.length - this.maxEquityPoints);
      this.ddCurve.splice(0, this.ddCurve.length - this.maxEquityPoints);
    }
  }

  setPnl(pnl: NonNullable<DashboardSnapshot["pnl"]>): void {
    this.pnl = { ...pnl };
  }

  setPositions(positions: readonly DashboardPosition[]): void {
    this.positions = positions.slice(0, MAX_ROWS).map((p) => ({ ...p }));
  }

  setOpenOrders(orders: readonly DashboardOpenOrder[]): void {
    this.openOrders = orders.slice(0, MAX_ROWS).map((o) => ({ ...o }));
  }

  addFill(fill: DashboardFill): void {
    this.fills.push({ ...fill });
    if (this.fills.length > this.maxFills) this.fills.splice(0, this.fills.length - this.maxFills);
  }

  addAlert(alert: DashboardAlert): void {
    this.alerts.push({ ...alert, message: clip(alert.message, MAX_ALERT_CHARS) });
    if (this.alerts.length > this.maxAlerts) this.alerts.splice(0, this.alerts.length - this.maxAlerts);
  }

  setQuote(quote: DashboardQuote): void {
    const key = `${quote.venue}\u0000${quote.symbol}`;
    if (!this.quotes.has(key) && this.quotes.size >= MAX_ROWS) return; // a bounded board, first books win
    this.quotes.set(key, { ...quote });
  }

  /** Record a state change that happened in the engine (circuit breaker, control API). */
  setRiskState(state: TradingState, reason?: string): void {
    if (state === this.riskState && reason === this.riskReason) return;
    const from = this.riskState;
    this.riskState = state;
    this.riskReason = reason === undefined ? undefined : clip(reason, MAX_REASON_CHARS);
    if (from !== state) {
      this.addAlert({
        ts: this.clock(),
        level: state === "HALTED" ? "CRITICAL" : state === "REDUCING" ? "WARN" : "INFO",
        message: `Trading state ${from} \u2192 ${state}${this.riskReason ? `: ${this.riskReason}` : ""}`,
        rule: "trading-state",
      });
    }
  }

  get tradingState(): TradingState {
    return this.riskState;
  }

  async setTradingState(state: TradingState, reason: string): Promise<void> {
    if (this.opts.onSetTradingState) await this.opts.onSetTradingState(state, reason);
    this.setRiskState(state, reason);
  }

  setCustody(c: DashboardCustody): void {
    this.custody = { settlement: { ...c.settlement }, reconciliation: { ...c.reconciliation } };
  }

  snapshot(): DashboardSnapshot {
    return {
      now: this.clock(),
      ...(this.opts.runId !== undefined ? { runId: this.opts.runId } : {}),
      ...(this.opts.mode !== undefined ? { mode: this.opts.mode } : {}),
      ...(this.opts.scenario !== undefined ? { scenario: this.opts.scenario } : {}),
      ...(this.opts.strategies !== undefined ? { strategies: [...this.opts.strategies] } : {}),
      equityCurve: this.equity.slice(),
      drawdownCurve: this.ddCurve.slice(),
      drawdown: {
        current: this.current.dd.toFixed(),
        currentPct: this.current.pct,
        max: this.max.dd.toFixed(),
        maxPct: this.max.pct,
      },
      ...(this.pnl ? { pnl: { ...this.pnl } } : {}),
      positions: this.positions.map((p) => ({ ...p })),
      openOrders: this.openOrders.map((o) => ({ ...o })),
      recentFills: this.fills.slice(),
      riskState: this.riskState,
      ...(this.riskReason !== undefined ? { riskReason: this.riskReason } : {}),
      alerts: this.alerts.slice(),
      ...(this.custody ? { custody: this.custody } : {}),
      quotes: [...this.quotes.values()].sort(
        (a, b) => a.symbol.localeCompare(b.symbol) || a.venue.localeCompare(b.venue),
      ),
    };
  }
}
