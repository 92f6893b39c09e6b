// Where a p99 stall comes from, in the quoter process: GC pauses (PerformanceObserver 'gc'), event-loop delay
// (monitorEventLoopDelay) and bytes allocated (v8.GCProfiler: what each GC freed, plus the heap's growth).
// Off unless started (TSE_QUOTER_RUNTIME_STATS=1 in quoter/main.ts): the delay monitor's timer wakes the loop.
import { type IntervalHistogram, monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks";
import v8 from "node:v8";

export interface RuntimeSnapshot {
  allocatedBytes: number;
  gcCount: number;
  gcPauseUsTotal: number;
  gcPauseUsMax: number;
  loopDelayUs: { p50: number; p99: number; max: number };
}

interface GcStat {
  beforeGC: { heapStatistics: { usedHeapSize: number } };
  afterGC: { heapStatistics: { usedHeapSize: number } };
}

export class RuntimeStats {
  private readonly delay: IntervalHistogram;
  private readonly observer: PerformanceObserver;
  private profiler = new v8.GCProfiler();
  private freed = 0;
  private readonly usedAtStart: number;
  private gcCount = 0;
  private gcPauseUs = 0;
  private gcPauseMaxUs = 0;

  constructor(resolutionMs = 5) {
    this.delay = monitorEventLoopDelay({ resolution: resolutionMs });
    this.observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const us = e.duration * 1000;
        this.gcCount++;
        this.gcPauseUs += us;
        if (us > this.gcPauseMaxUs) this.gcPauseMaxUs = us;
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
    for (const s of data?.statistics ?? [])
      this.freed += Math.max(0, s.beforeGC.heapStatistics.usedHeapSize - s.afterGC.heapStatistics.usedHeapSize);
    const d = this.delay;
    return {
      allocatedBytes: this.freed + v8.getHeapStatistics().used_heap_size - this.usedAtStart,
      gcCount: this.gcCount,
      gcPauseUsTotal: Math.round(this.gcPauseUs),
      gcPauseUsMax: Math.round(this.gcPauseMaxUs),
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
