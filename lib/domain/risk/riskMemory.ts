// What the risk engine remembers between checks (rate windows, equity tracking), and its JSON snapshot: the
// form every path persists (docs/state.md, the RISKSTATE item). Pure: no clock, times are passed in.

export const RATE_WINDOW_MS = 1000;
const DAY_MS = 86_400_000;
/** Rapid-loss window points kept in a snapshot (the item stays small; merging only ever raises the max). */
export const MAX_SNAPSHOT_WINDOW_POINTS = 64;

/** "HH:MM" (UTC) → ms after midnight. The caller validated the format (limits schema). */
export function utcTimeOfDayMs(hhmm: string): number {
  const [h, m] = hhmm.split(":").map(Number);
  return ((h ?? 0) * 60 + (m ?? 0)) * 60_000;
}

/** Index of the trading day `now` falls in, for a day that starts `resetOffsetMs` after 00:00 UTC. */
export function tradingDay(now: number, resetOffsetMs: number): number {
  return Math.floor((now - resetOffsetMs) / DAY_MS);
}

/** Approval and breach times of one strategy, in fixed rings (no allocation per order). */
export class RateState {
  readonly times: Float64Array;
  head = 0;
  count = 0;
  readonly breaches: Float64Array;
  bHead = 0;
  bCount = 0;
  constructor(max: number, breachesToHalt: number) {
    this.times = new Float64Array(max);
    this.breaches = new Float64Array(breachesToHalt);
  }
  /** Orders approved within the window ending at `now`. */
  inWindow(now: number): number {
    const n = this.times.length;
    let c = 0;
    for (let i = 0; i < this.count; i++) {
      const t = this.times[(this.head - 1 - i + n * 2) % n]!;
      if (now - t < RATE_WINDOW_MS) c++;
      else break;
    }
    return c;
  }
  isFull(now: number): boolean {
    const n = this.times.length;
    if (this.count < n) return false;
    // Oldest of the last n approvals.
    return now - this.times[this.head % n]! < RATE_WINDOW_MS;
  }
  record(now: number): void {
    const n = this.times.length;
    this.times[this.head % n] = now;
    this.head = (this.head + 1) % n;
    if (this.count < n) this.count++;
  }
  /** Record a denial; true when the breach count within a second reaches the breaker threshold. */
  breach(now: number): boolean {
    const n = this.breaches.length;
    this.breaches[this.bHead] = now;
    this.bHead = (this.bHead + 1) % n;
    if (this.bCount < n) this.bCount++;
    return this.bCount === n && now - this.breaches[this.bHead % n]! < RATE_WINDOW_MS;
  }
  /** Approvals and breaches, oldest first, only those within the window before `now`. */
  toJSON(now: number): RateSnapshot {
    return {
      approvals: ring(this.times, this.head, this.count, now),
      breaches: ring(this.breaches, this.bHead, this.bCount, now),
    };
  }
  static from(s: RateSnapshot, max: number, breachesToHalt: number): RateState {
    const r = new RateState(max, breachesToHalt);
    for (const t of s.approvals) r.record(t);
    for (const t of s.breaches) {
      r.breaches[r.bHead] = t;
      r.bHead = (r.bHead + 1) % r.breaches.length;
      if (r.bCount < r.breaches.length) r.bCount++;
    }
    return r;
  }
}

function ring(buf: Float64Array, head: number, count: number, now: number): number[] {
  const n = buf.length;
  const out: number[] = [];
  for (let i = count; i >= 1; i--) {
    const t = buf[(head - i + n * 2) % n]!;
    if (now - t < RATE_WINDOW_MS) out.push(t);
  }
  return out;
}

export interface RateSnapshot {
  /** Approval times (epoch ms) within the last second, oldest first. */
  approvals: number[];
  /** Rate-limit denial times within the last second, oldest first. */
  breaches: number[];
}

/** The engine's memory as plain JSON (null = not known yet). The trading state travels beside it. */
export interface RiskMemorySnapshot {
  v: 1;
  equity: {
    sessionStart: number | null;
    /** Trading-day index (tradingDay) the day figures belong to. */
    day: number | null;
    dayStart: number | null;
    /** Realized PnL net of quote fees booked today (bookRealized). */
    dayRealized: number;
    peak: number | null;
    last: number | null;
    lastAt: number | null;
    /** The rapid-loss window's rolling-max deque: [ts, equity], oldest (highest) first, bounded. */
    window: [number, number][];
  };
  /** Per strategy: the order-rate window. Strategies without anything in the last second are left out. */
  rates: Record<string, RateSnapshot>;
}

export const nullable = (n: number): number | null => (Number.isNaN(n) ? null : n);
export const fromNullable = (n: number | null | undefined): number => (n === null || n === undefined ? Number.NaN : n);

/**
 * Bound a decreasing rolling-max deque to `max` points by merging neighbours: the pair closest in equity becomes
 * one point with the higher equity and the later time. The window's max is then never lower than the true one,
 * so a bounded snapshot can only trip the rapid-loss breaker earlier, never miss it.
 */
export function boundWindow(points: [number, number][], max = MAX_SNAPSHOT_WINDOW_POINTS): [number, number][] {
  const out = points.map((p) => [p[0], p[1]] as [number, number]);
  while (out.length > max) {
    let best = 0;
    for (let i = 1; i < out.length - 1; i++)
      if (out[i]![1] - out[i + 1]![1] < out[best]![1] - out[best + 1]![1]) best = i;
    out.splice(best, 2, [out[best + 1]![0], out[best]![1]]);
  }
  return out;
}
