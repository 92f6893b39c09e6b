// Per-method call latency behind ClientManager.stats(). The default keeps a window of recent samples: a few
// hundred bytes of code, so the functions carry no hdr-histogram (86 KB, plus pako's 47 KB). Long-running
// processes (the quoter) inject hdrLatencyHistogram (lib/grpc/hdrLatency.ts) for all-time percentiles.

/** The part of hdr-histogram-js's Histogram the client layer uses (values in microseconds). */
export interface LatencyHistogram {
  recordValue(us: number): void;
  getValueAtPercentile(percentile: number): number;
  readonly maxValue: number;
  readonly mean: number;
  destroy(): void;
}

export type LatencyHistogramFactory = () => LatencyHistogram;

/** Percentiles over the last `size` samples (nearest rank); max and mean over every sample recorded. */
export class RecentLatencyWindow implements LatencyHistogram {
  private readonly samples: Float64Array;
  private recorded = 0;
  private sum = 0;
  maxValue = 0;

  constructor(readonly size = 1024) {
    this.samples = new Float64Array(size);
  }

  recordValue(us: number): void {
    this.samples[this.recorded++ % this.size] = us;
    this.sum += us;
    if (us > this.maxValue) this.maxValue = us;
  }

  get mean(): number {
    return this.recorded ? this.sum / this.recorded : 0;
  }

  getValueAtPercentile(percentile: number): number {
    const n = Math.min(this.recorded, this.size);
    if (n === 0) return 0;
    const sorted = this.samples.slice(0, n).sort();
    return sorted[Math.min(n - 1, Math.max(0, Math.ceil((percentile / 100) * n) - 1))]!;
  }

  destroy(): void {}
}

export const recentLatencyWindow: LatencyHistogramFactory = () => new RecentLatencyWindow();
