// Paces a strategy's order placements to an order-rate budget before the risk engine sees them, so an
// honest strategy on a fast feed never trips the rate-limit breaker. Pure: time is passed in, no timers.
// The window matches the RiskEngine's (an order counts while now − t < windowMs), so whatever the
// throttle lets through can never exceed the risk engine's rate limit.

export interface IntentThrottleOptions {
  /** Placements allowed per window and key (e.g. RiskLimits.maxOrdersPerSecond). */
  maxPerWindow: number;
  /** Sliding window length in ms of the injected clock. Default 1000. */
  windowMs?: number;
}

/** Sliding-window counter per key (strategy id), a ring of the last `maxPerWindow` send times. */
export class IntentThrottle {
  readonly maxPerWindow: number;
  readonly windowMs: number;
  private readonly rings = new Map<string, { times: Float64Array; head: number; count: number }>();

  constructor(opts: IntentThrottleOptions) {
    if (!Number.isInteger(opts.maxPerWindow) || opts.maxPerWindow <= 0)
      throw new RangeError(`maxPerWindow must be a positive integer, got ${opts.maxPerWindow}`);
    const w = opts.windowMs ?? 1000;
    if (!(w > 0)) throw new RangeError(`windowMs must be > 0, got ${w}`);
    this.maxPerWindow = opts.maxPerWindow;
    this.windowMs = w;
  }

  /** True (and the send is counted) when one more placement fits the budget at `now`. */
  tryAcquire(key: string, now: number): boolean {
    let r = this.rings.get(key);
    if (!r) {
      r = { times: new Float64Array(this.maxPerWindow), head: 0, count: 0 };
      this.rings.set(key, r);
    }
    const n = this.maxPerWindow;
    // Full when the oldest of the last n sends is still inside the window.
    if (r.count === n && now - r.times[r.head]! < this.windowMs) return false;
    r.times[r.head] = now;
    r.head = (r.head + 1) % n;
    if (r.count < n) r.count++;
    return true;
  }

  /** Placements counted within the window ending at `now`. */
  inWindow(key: string, now: number): number {
    const r = this.rings.get(key);
    if (!r) return 0;
    const n = this.maxPerWindow;
    let c = 0;
    for (let i = 0; i < r.count; i++) {
      if (now - r.times[(r.head - 1 - i + 2 * n) % n]! < this.windowMs) c++;
      else break;
    }
    return c;
  }
}
