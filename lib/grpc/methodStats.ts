// Per-method call stats for the client manager: count, errors and a latency recorder per "service.Method".
import { performance } from "node:perf_hooks";
import type { MethodStats } from "./clientTypes";
import type { LatencyHistogram, LatencyHistogramFactory } from "./latency";

export interface StatCell {
  count: number;
  errors: number;
  hist: LatencyHistogram;
}

/** What a caller keeps per method: its stats key and the cell last used (revalidated after a reset). */
export interface StatSlot {
  readonly key: string;
  cell: StatCell | undefined;
}

export class MethodStatsTable {
  private readonly cells = new Map<string, StatCell>();

  constructor(private readonly newHistogram: LatencyHistogramFactory) {}

  record(slot: StatSlot, startedMs: number, error: boolean): void {
    let cell = slot.cell;
    if (!cell || this.cells.get(slot.key) !== cell) {
      cell = this.cells.get(slot.key);
      if (!cell) {
        cell = { count: 0, errors: 0, hist: this.newHistogram() };
        this.cells.set(slot.key, cell);
      }
      slot.cell = cell;
    }
    cell.count++;
    if (error) cell.errors++;
    cell.hist.recordValue(Math.max(1, Math.round((performance.now() - startedMs) * 1000)));
  }

  /** Keyed "service.Method" (latency of the whole call incl. retries, microseconds). */
  snapshot(): Record<string, MethodStats> {
    const out: Record<string, MethodStats> = {};
    for (const [key, c] of this.cells) {
      out[key] = {
        count: c.count,
        errors: c.errors,
        p50Us: c.hist.getValueAtPercentile(50),
        p90Us: c.hist.getValueAtPercentile(90),
        p99Us: c.hist.getValueAtPercentile(99),
        maxUs: c.hist.maxValue,
        meanUs: Math.round(c.hist.mean),
      };
    }
    return out;
  }

  reset(): void {
    for (const c of this.cells.values()) c.hist.destroy();
    this.cells.clear();
  }
}
