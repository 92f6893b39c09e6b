// Where a p99 stall comes from, in the quoter process: GC pauses (PerformanceObserver 'gc', by kind and by length),
// event-loop delay (monitorEventLoopDelay), bytes allocated and bytes promoted to the old generation (v8.GCProfiler:
// what each GC freed plus the heap's growth; old-space growth across each scavenge).
// Off unless started (TSE_QUOTER_RUNTIME_STATS=1 in quoter/main.ts): the delay monitor's timer wakes the loop.
import { constants, type IntervalHistogram, monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks";
import v8 from "node:v8";

/** Upper bounds (µs) of the GC pause buckets; a last, unbounded bucket follows. */
export const GC_PAUSE_BUCKETS_US = [500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000] as const;

export interface RuntimeSnapshot {
  allocatedBytes: number;
  /** Bytes moved from the young generation to the old one by scavenges (what major GCs later have to sweep). */
  promotedBytes: number;
  gcCount: number;
  gcPauseUsTotal: number;
  gcPauseUsMax: number;
  minor: { count: number; pauseUsTotal: number };
  major: { count: number; pauseUsTotal: number };
  /** Pauses per bucket of GC_PAUSE_BUCKETS_US (non-cumulative; the last entry is beyond the last bound). */
  pauseBuckets: number[];
  loopDelayUs: { p50: number; p99: number; max: number };
}

interface SpaceStat {
  spaceName: string;
  spaceUsedSize: number;
}
interface GcStat {
  gcType: string;
  beforeGC: { heapStatistics: { usedHeapSize: number }; heapSpaceStatistics: SpaceStat[] };
  afterGC: { heapStatistics: { usedHeapSize: number }; heapSpaceStatistics: SpaceStat[] };
}

const oldUsed = (spaces: SpaceStat[]) => {
  let n = 0;
  for (const s of spaces) if (s.spaceName === "old_space" || s.spaceName === "large_object_space") n += s.spaceUsedSize;
  return n;
};

export class RuntimeStats {
  private readonly delay: IntervalHistogram;
  private readonly observer: PerformanceObserver;
  private profiler = new v8.GCProfiler();
  private freed = 0;
  private promoted = 0;
  private readonly usedAtStart: number;
  private gcCount = 0;
  private gcPauseUs = 0;
  private gcPauseMaxUs = 0;
  private readonly minor = { count: 0, pauseUsTotal: 0 };
  private readonly major = { count: 0, pauseUsTotal: 0 };
  private readonly buckets = new Array<number>(GC_PAUSE_BUCKETS_US.length + 1).fill(0);

  constructor(resolutionMs = 5) {
    this.delay = monitorEventLoopDelay({ resolution: resolutionMs });
    this.observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const us = e.duration * 1000;
        this.gcCount++;
        this.gcPauseUs += us;
        if (us > this.gcPauseMaxUs) this.gcPauseMaxUs = us;
        const kind = (e as { detail?: { kind?: number } }).detail?.kind;
        const k =
          kind === constants.NODE_PERFORMANCE_GC_MINOR
            ? this.minor
            : kind === constants.NODE_PERFORMANCE_GC_MAJOR
              ? this.major
              : undefined;
        if (k) {
          k.count++;
          k.pauseUsTotal += us;
        }
        let b = 0;
        while (b < GC_PAUSE_BUCKETS_US.length && us > GC_PAUSE_BUCKETS_US[b]!) b++;
        this.buckets[b]!++;
      }
    });
    this.usedAtStart = v8.getHeapStatistics().used_heap_size;
    this.profiler.start();
    this.observer.observe({ entryTypes: ["gc"] });
    this.delay.enable();
  }

  snapshot(): RuntimeSnapshot {
    // The profiler hands its GCs over only when stopped: take them and start a new one.
    const data = this.profiler.stop() as { statistics?: GcStat[] } | undefined;
    this.profiler = new v8.GCProfiler();
    this.profiler.start();
    for (const s of data?.statistics ?? []) {
      this.freed += Math.max(0, s.beforeGC.heapStatistics.usedHeapSize - s.afterGC.heapStatistics.usedHeapSize);
      if (s.gcType === "Scavenge")
        this.promoted += Math.max(0, oldUsed(s.afterGC.heapSpaceStatistics) - oldUsed(s.beforeGC.heapSpaceStatistics));
    }
    const d = this.delay;
    return {
      allocatedBytes: this.freed + v8.getHeapStatistics().used_heap_size - this.usedAtStart,
      promotedBytes: this.promoted,
      gcCount: this.gcCount,
      gcPauseUsTotal: Math.round(this.gcPauseUs),
      gcPauseUsMax: Math.round(this.gcPauseMaxUs),
      minor: { count: this.minor.count, pauseUsTotal: Math.round(this.minor.pauseUsTotal) },
      major: { count: this.major.count, pauseUsTotal: Math.round(this.major.pauseUsTotal) },
      pauseBuckets: [...this.buckets],
      loopDelayUs: {
        p50: Math.round(d.percentile(50) / 1000),
        p99: Math.round(d.percentile(99) / 1000),
        max: Math.round(d.max / 1000),
      },
    };
  }

  stop(): void {
    this.profiler.stop();
    this.observer.disconnect();
    this.delay.disable();
  }
}

let current: RuntimeStats | undefined;
/** The process's runtime stats, once started. */
export const runtimeStats = (): RuntimeStats | undefined => current;
export function startRuntimeStats(resolutionMs?: number): RuntimeStats {
  current ??= new RuntimeStats(resolutionMs);
  return current;
}
