// The risk engine's equity memory: session start, the trading day (its start equity and booked realized PnL), the
// high-water mark, the last mark, and the rapid-loss window (a monotonic deque, O(1) amortized per mark).
import { boundWindow, fromNullable, nullable, type RiskMemorySnapshot, tradingDay } from "./riskMemory";

export class EquityTracker {
  sessionStart = Number.NaN;
  dayStart = Number.NaN;
  day = Number.NaN;
  /** Realized PnL net of quote fees booked today (fills). */
  dayRealized = 0;
  peak = Number.NaN;
  last = Number.NaN;
  lastAt = Number.NaN;
  // Decreasing equity marks within the window; the head is the window's max.
  private winTs: number[] = [];
  private winEq: number[] = [];
  private winHead = 0;

  /** `dayOffsetMs`: where the trading day starts, after 00:00 UTC (limits.dailyResetUtc). */
  constructor(public dayOffsetMs = 0) {}

  /** Record a mark; returns the max equity within the last `windowMs` (this mark included). */
  mark(equity: number, now: number, windowMs: number): number {
    if (Number.isNaN(this.sessionStart)) this.sessionStart = equity;
    this.rollDay(now, equity);
    if (Number.isNaN(this.peak) || equity > this.peak) this.peak = equity;
    this.last = equity;
    if (!(now <= this.lastAt)) this.lastAt = now;
    while (this.winEq.length > this.winHead && this.winEq[this.winEq.length - 1]! <= equity) {
      this.winEq.pop();
      this.winTs.pop();
    }
    this.winEq.push(equity);
    this.winTs.push(now);
    while (this.winHead < this.winTs.length - 1 && now - this.winTs[this.winHead]! > windowMs) this.winHead++;
    if (this.winHead > 1024) {
      this.winEq = this.winEq.slice(this.winHead);
      this.winTs = this.winTs.slice(this.winHead);
      this.winHead = 0;
    }
    return this.winEq[this.winHead]!;
  }

  /**
   * A new trading day starts the day's figures afresh: the day starts at the last equity seen (or `equity`),
   * realized PnL at 0. Only forward: an older time never reopens a past day.
   */
  rollDay(now: number, equity = Number.NaN): void {
    const day = tradingDay(now, this.dayOffsetMs);
    if (day > this.day || Number.isNaN(this.day)) {
      this.day = day;
      this.dayStart = Number.isNaN(this.last) ? equity : this.last;
      this.dayRealized = 0;
    }
    if (Number.isNaN(this.dayStart) && !Number.isNaN(equity)) this.dayStart = equity;
  }

  /** Book realized PnL (net of fees) into today's figure; a fill of an earlier day does not count against today. */
  book(pnl: number, now: number): void {
    if (!Number.isFinite(pnl)) return;
    this.rollDay(now);
    if (tradingDay(now, this.dayOffsetMs) === this.day) this.dayRealized += pnl;
  }

  /** Today's PnL: the marked change, or a booked realized loss when that is worse. */
  dailyPnl(): number {
    const marked = Number.isNaN(this.last) ? 0 : this.last - this.dayStart;
    return this.dayRealized < 0 ? Math.min(this.dayRealized, marked) : marked;
  }

  /** Drawdown from the high-water mark, as a fraction. */
  drawdown(): number {
    return this.peak > 0 ? (this.peak - this.last) / this.peak : 0;
  }

  toJSON(): RiskMemorySnapshot["equity"] {
    const window: [number, number][] = [];
    for (let i = this.winHead; i < this.winTs.length; i++) window.push([this.winTs[i]!, this.winEq[i]!]);
    return {
      sessionStart: nullable(this.sessionStart),
      day: nullable(this.day),
      dayStart: nullable(this.dayStart),
      dayRealized: this.dayRealized,
      peak: nullable(this.peak),
      last: nullable(this.last),
      lastAt: nullable(this.lastAt),
      window: boundWindow(window),
    };
  }

  restore(e: RiskMemorySnapshot["equity"]): void {
    this.sessionStart = fromNullable(e.sessionStart);
    this.day = fromNullable(e.day);
    this.dayStart = fromNullable(e.dayStart);
    this.dayRealized = e.dayRealized ?? 0;
    this.peak = fromNullable(e.peak);
    this.last = fromNullable(e.last);
    this.lastAt = fromNullable(e.lastAt);
    this.winTs = e.window.map((p) => p[0]);
    this.winEq = e.window.map((p) => p[1]);
    this.winHead = 0;
  }
}
