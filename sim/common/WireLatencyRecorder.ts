// Tick-to-order latency on one clock: the market-data simulator notes when each L1 tick is first written
// to a stream; the exchange simulator notes when an order that names that tick (trigger_sequence) arrives.
import { build } from "hdr-histogram-js";

const MAX_TRACKED_TICKS = 200_000;

export interface WireLatencyStats {
  count: number;
  p50Us: number;
  p99Us: number;
  maxUs: number;
}

export class WireLatencyRecorder {
  private readonly written = new Map<string, bigint>();
  private histogram = build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });
  private unmatched = 0;

  /** First write of a tick wins (several streams may carry the same tick). */
  tickWritten(venue: string, symbol: string, sequence: number, atNs: bigint = process.hrtime.bigint()): void {
    const key = `${venue}|${symbol}|${sequence}`;
    if (this.written.has(key)) return;
    this.written.set(key, atNs);
    if (this.written.size > MAX_TRACKED_TICKS) {
      // Maps iterate in insertion order: drop the oldest.
      const oldest = this.written.keys().next().value;
      if (oldest !== undefined) this.written.delete(oldest);
    }
  }

  /** Records and returns the latency in µs, or undefined when the tick was never written here. */
  orderArrived(
    venue: string,
    symbol: string,
    sequence: number,
    atNs: bigint = process.hrtime.bigint(),
  ): number | undefined {
    const at = this.written.get(`${venue}|${symbol}|${sequence}`);
    if (at === undefined) {
      this.unmatched++;
      return undefined;
    }
    const us = Math.max(1, Number(atNs - at) / 1000);
    this.histogram.recordValue(Math.round(us));
    return us;
  }

  get unmatchedOrders(): number {
    return this.unmatched;
  }

  stats(): WireLatencyStats {
    const h = this.histogram;
    return {
      count: h.totalCount,
      p50Us: h.totalCount ? h.getValueAtPercentile(50) : 0,
      p99Us: h.totalCount ? h.getValueAtPercentile(99) : 0,
      maxUs: h.totalCount ? h.maxValue : 0,
    };
  }

  reset(): void {
    this.histogram = build({
      lowestDiscernibleValue: 1,
      highestTrackableValue: 60_000_000,
      numberOfSignificantValueDigits: 3,
    });
    this.unmatched = 0;
  }
}
