// Bridge from the quoter's streams to the bus: every execution → ExecutionReported, market snapshots conflated per
// venue+symbol → MarketSnapshot. A bounded queue in front of the EventBus port; the EventBridge adapter does the
// PutEvents batching (≤ 10 entries / 256 KB) and retries only the failed entries. The bridge adds:
// - lingering so PutEvents calls go out full (≥ 10 queued, or the oldest entry waited lingerMs);
// - conflation: at most one pending snapshot per venue+symbol, replaced by newer ones;
// - back-pressure: executions are never dropped; when the queue is full, `publishExecution` waits for room
//   (the execution stream consumer awaits it, so gRPC flow control slows the producer); snapshots are shed.

import { createHash } from "node:crypto";
import { executionEvent } from "../../lib/adapters/exchangeWire";
import { buildBusEvent } from "../../lib/events/build";
import type { BusEvent, EventBus } from "../../lib/ports/EventBus";
import type { ExecutionReport as Execution } from "../../lib/ports/Exchange";
import type { MarketQuote as L1Quote } from "../../lib/ports/MarketData";
import { activeTraceparent, createMessage, type MessagingSystem } from "../../lib/telemetry/spans";
import { tracing } from "../../lib/telemetry/tracing";

const QUOTER_SERVICE = "tse-quoter";

export interface SnapshotConflation {
  /** At most one snapshot per venue+symbol per this many ms (unless a move crosses a threshold). Default 1000. */
  minIntervalMs: number;
  /** Publish early when mid moved more than this many bps since the last published snapshot. Default 5. */
  priceMoveBps: number;
  /** Publish early when the spread changed by more than this many bps of mid. Default 2. */
  spreadMoveBps: number;
  /**
   * Batch mode: one MarketSnapshotBatch entry at most every `minIntervalMs` for all venues and symbols, carrying the
   * latest snapshot of every book seen (not only those that changed), instead of a MarketSnapshot per book. The move
   * thresholds do not apply. Default false.
   */
  batch: boolean;
  /** Batch mode: the first batch of every window of this many ms is marked `checkpoint` (stored). Default 60 000. */
  checkpointMs: number;
}

export interface BusBridgeOptions {
  bus: EventBus;
  /** What the bus is, for the messaging spans. Default: EventBridge bus "default". */
  messaging?: { system: MessagingSystem; destination: string };
  /** Max queued events (executions + snapshots) before back-pressure. Default 10 000. */
  maxQueue?: number;
  /** Events handed to one `bus.publish` call (the adapter splits them into PutEvents of ≤ 10). Default 100. */
  maxPublishEvents?: number;
  /** How long a partial batch (< 10) may wait for company. Default 50 ms. */
  lingerMs?: number;
  snapshots?: Partial<SnapshotConflation>;
  /** PutEvents-level counters of the adapter, when it has them (EventBridgeEventBus.getStats). */
  putEventsStats?: () => { putEventsCalls: number; entriesSent: number; entriesRetried?: number };
  logger?: {
    warn(msg: string, attrs?: Record<string, unknown>): void;
    error(msg: string, attrs?: Record<string, unknown>): void;
  };
  now?: () => number;
}

export interface BusBridgeStats {
  queueDepth: number;
  pendingSnapshots: number;
  publishCalls: number;
  eventsPublished: number;
  eventsFailed: number;
  executionsQueued: number;
  snapshotsQueued: number;
  snapshotsConflated: number;
  snapshotsShed: number;
  backpressureWaits: number;
  /** PutEvents calls / entries as the adapter counted them (0 when it does not say). */
  putEventsCalls: number;
  putEventsEntries: number;
  putEventsRetriedEntries: number;
  avgPutEventsBatch: number;
}

interface Last {
  mid: number;
  spreadBps: number;
  at: number;
}

export class BusBridge {
  private readonly bus: EventBus;
  private readonly system: MessagingSystem;
  private readonly destination: string;
  private readonly maxQueue: number;
  private readonly maxPublish: number;
  private readonly lingerMs: number;
  private readonly conflation: SnapshotConflation;
  private readonly now: () => number;
  private readonly queue: { event: () => BusEvent | undefined; at: number }[] = [];
  private readonly pendingSnap = new Map<string, L1Quote>();
  private readonly lastSnap = new Map<string, Last>();
  /** Batch mode: the latest snapshot of every book, whether it has changed since the last batch, and that batch. */
  private readonly latest = new Map<string, L1Quote>();
  private batchDirty = false;
  private batchQueued = false;
  private lastBatchAt: number | undefined;
  private lastCheckpointWindow: number | undefined;
  private readonly roomWaiters: (() => void)[] = [];
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly s = {
    publishCalls: 0,
    eventsPublished: 0,
    eventsFailed: 0,
    executionsQueued: 0,
    snapshotsQueued: 0,
    snapshotsConflated: 0,
    snapshotsShed: 0,
    backpressureWaits: 0,
  };
  /** Events refused permanently (after the adapter's retries); kept for inspection, bounded. */
  readonly deadLetters: { detailType: string; errorCode: string; errorMessage: string }[] = [];

  constructor(private readonly opts: BusBridgeOptions) {
    this.bus = opts.bus;
    this.system = opts.messaging?.system ?? "aws_eventbridge";
    this.destination = opts.messaging?.destination ?? "default";
    this.maxQueue = positiveInt("maxQueue", opts.maxQueue ?? 10_000);
    this.maxPublish = positiveInt("maxPublishEvents", opts.maxPublishEvents ?? 100);
    this.lingerMs = nonNegative("lingerMs", opts.lingerMs ?? 50);
    this.conflation = {
      minIntervalMs: nonNegative("snapshots.minIntervalMs", opts.snapshots?.minIntervalMs ?? 1000),
      priceMoveBps: nonNegative("snapshots.priceMoveBps", opts.snapshots?.priceMoveBps ?? 5),
      spreadMoveBps: nonNegative("snapshots.spreadMoveBps", opts.snapshots?.spreadMoveBps ?? 2),
      batch: opts.snapshots?.batch ?? false,
      checkpointMs: nonNegative("snapshots.checkpointMs", opts.snapshots?.checkpointMs ?? 60_000),
    };
    this.now = opts.now ?? Date.now;
  }

  /** Queue an ExecutionReported. Resolves at once while there is room; otherwise waits (back-pressure). */
  async publishExecution(ex: Execution): Promise<void> {
    if (this.closed) throw new Error("BusBridge is closed");
    while (this.queue.length >= this.maxQueue) {
      this.s.backpressureWaits++;
      this.kick(true);
      await new Promise<void>((r) => this.roomWaiters.push(r));
    }
    this.s.executionsQueued++;
    this.queue.push({
      event: () =>
        createMessage(QUOTER_SERVICE, this.system, this.destination, "ExecutionReported", ex.traceparent, () =>
          executionEvent(ex),
        ),
      at: this.now(),
    });
    this.kick(false);
  }

  /**
   * Offer a market tick (cheap, synchronous): it becomes a MarketSnapshot only when the interval elapsed or price /
   * spread moved beyond the thresholds; until it is sent, newer ticks of the same venue+symbol replace it.
   */
  offerSnapshot(q: L1Quote): void {
    if (this.closed) return;
    const bid = Number(q.bid);
    const ask = Number(q.ask);
    if (!(bid > 0) || !(ask >= bid)) return;
    const key = `${q.venue}|${q.symbol}`;
    if (this.conflation.batch) {
      this.offerToBatch(key, q);
      return;
    }
    if (this.pendingSnap.has(key)) {
      this.pendingSnap.set(key, q); // conflate: the newest state wins
      this.s.snapshotsConflated++;
      return;
    }
    const now = this.now();
    const mid = (bid + ask) / 2;
    const spreadBps = ((ask - bid) / mid) * 10_000;
    const last = this.lastSnap.get(key);
    if (last) {
      const moved = (Math.abs(mid - last.mid) / last.mid) * 10_000;
      const c = this.conflation;
      if (
        now - last.at < c.minIntervalMs &&
        moved <= c.priceMoveBps &&
        Math.abs(spreadBps - last.spreadBps) <= c.spreadMoveBps
      ) {
        this.s.snapshotsConflated++;
        return;
      }
    }
    if (this.queue.length >= this.maxQueue) {
      this.s.snapshotsShed++; // snapshots are disposable state; executions are not
      return;
    }
    this.lastSnap.set(key, { mid, spreadBps, at: now });
    this.pendingSnap.set(key, q);
    this.s.snapshotsQueued++;
    // The tick that offered it (the quoter's decision span) is the snapshot's cause.
    const cause = tracing().enabled ? activeTraceparent() : undefined;
    this.queue.push({
      event: () => {
        const latest = this.pendingSnap.get(key);
        this.pendingSnap.delete(key);
        if (!latest) return undefined;
        return createMessage(QUOTER_SERVICE, this.system, this.destination, "MarketSnapshot", cause, () =>
          snapshotEvent(latest),
        );
      },
      at: now,
    });
    this.kick(false);
  }

  /** Batch mode: keep the book's latest; queue a batch when none is waiting and the interval has elapsed. */
  private offerToBatch(key: string, q: L1Quote): void {
    this.latest.set(key, q);
    this.batchDirty = true;
    const now = this.now();
    if (
      this.batchQueued ||
      (this.lastBatchAt !== undefined && now - this.lastBatchAt < this.conflation.minIntervalMs)
    ) {
      this.s.snapshotsConflated++;
      return;
    }
    if (this.queue.length >= this.maxQueue) {
      this.s.snapshotsShed++;
      return;
    }
    this.queueBatch(now);
  }

  private queueBatch(now: number): void {
    this.lastBatchAt = now;
    this.batchQueued = true;
    this.s.snapshotsQueued++;
    const cause = tracing().enabled ? activeTraceparent() : undefined;
    this.queue.push({
      event: () => {
        // Built when sent: the newest state of every book by then.
        this.batchQueued = false;
        this.batchDirty = false;
        const snapshots = [...this.latest.values()];
        const ts = Math.max(...snapshots.map((x) => x.timestamp));
        const window = this.conflation.checkpointMs > 0 ? Math.floor(ts / this.conflation.checkpointMs) : ts;
        const checkpoint = window !== this.lastCheckpointWindow;
        this.lastCheckpointWindow = window;
        return createMessage(QUOTER_SERVICE, this.system, this.destination, "MarketSnapshotBatch", cause, () =>
          snapshotBatchEvent(snapshots, checkpoint),
        );
      },
      at: now,
    });
    this.kick(false);
  }

  stats(): BusBridgeStats {
    const pe = this.opts.putEventsStats?.();
    const calls = pe?.putEventsCalls ?? 0;
    const entries = pe?.entriesSent ?? 0;
    return {
      queueDepth: this.queue.length,
      pendingSnapshots: this.pendingSnap.size,
      ...this.s,
      putEventsCalls: calls,
      putEventsEntries: entries,
      putEventsRetriedEntries: pe?.entriesRetried ?? 0,
      avgPutEventsBatch: calls > 0 ? entries / calls : 0,
    };
  }

  /** Publish everything queued (ignores the linger). Bounded by `timeoutMs`; resolves true when the queue is empty. */
  async flush(timeoutMs = 5_000): Promise<boolean> {
    const deadline = this.now() + timeoutMs;
    while ((this.queue.length > 0 || this.flushing) && this.now() < deadline) {
      if (!this.flushing) this.flushing = this.drain(true).finally(() => (this.flushing = undefined));
      await Promise.race([this.flushing, sleep(Math.max(1, deadline - this.now()))]);
    }
    return this.queue.length === 0 && !this.flushing;
  }

  /** Flush, then refuse new events. In batch mode, books changed since the last batch go out in a final one. */
  async close(timeoutMs = 5_000): Promise<boolean> {
    if (this.conflation.batch && this.batchDirty && !this.batchQueued && !this.closed) this.queueBatch(this.now());
    const ok = await this.flush(timeoutMs);
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const w of this.roomWaiters.splice(0)) w();
    return ok;
  }

  private kick(force: boolean): void {
    if (this.flushing) return;
    const full = this.queue.length >= 10;
    if (full || force) {
      if (this.timer) {
        clearTimeout(this.timer);
        this.timer = undefined;
      }
      this.flushing = this.drain(false).finally(() => {
        this.flushing = undefined;
        if (this.queue.length > 0) this.kick(false);
      });
      return;
    }
    if (!this.timer && this.queue.length > 0) {
      const first = this.queue[0]!;
      const wait = Math.max(0, first.at + this.lingerMs - this.now());
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.kick(true);
      }, wait);
    }
  }

  /** One or more publish calls; without `all`, only whole PutEvents batches of 10 (the linger timer sends the rest). */
  private async drain(all: boolean): Promise<void> {
    while (this.queue.length > 0) {
      let n = Math.min(this.queue.length, this.maxPublish);
      if (!all && n >= 10) n -= n % 10;
      const items = this.queue.splice(0, n);
      for (const w of this.roomWaiters.splice(0)) w();
      const events: BusEvent[] = [];
      for (const it of items) {
        try {
          const ev = it.event();
          if (ev) events.push(ev);
        } catch (err) {
          this.s.eventsFailed++;
          this.opts.logger?.error("bridge: event failed validation", { error: String(err) });
        }
      }
      if (events.length === 0) continue;
      this.s.publishCalls++;
      try {
        const res = await this.bus.publish(events);
        this.s.eventsPublished += res.published;
        this.s.eventsFailed += res.failed.length;
        for (const f of res.failed) {
          if (this.deadLetters.length < 1000)
            this.deadLetters.push({
              detailType: f.event.detailType,
              errorCode: f.errorCode,
              errorMessage: f.errorMessage,
            });
          this.opts.logger?.error("bridge: event not published", {
            detailType: f.event.detailType,
            errorCode: f.errorCode,
            errorMessage: f.errorMessage,
          });
        }
      } catch (err) {
        this.s.eventsFailed += events.length;
        this.opts.logger?.error("bridge: publish failed", { error: String(err), events: events.length });
      }
      if (!all && this.queue.length < 10) return;
    }
  }
}

export function snapshotEvent(q: L1Quote): BusEvent<"MarketSnapshot"> {
  return buildBusEvent(
    "tse.market",
    "MarketSnapshot",
    {
      venue: q.venue,
      symbol: q.symbol,
      bid: q.bid,
      ask: q.ask,
      bidSize: q.bidSize || "0",
      askSize: q.askSize || "0",
      sequence: q.sequence,
      ts: new Date(q.timestamp).toISOString(),
    },
    { now: q.timestamp, eventId: `snap-${q.venue}-${q.symbol}-${q.sequence}-${q.timestamp}` },
  );
}

export function snapshotBatchEvent(quotes: readonly L1Quote[], checkpoint: boolean): BusEvent<"MarketSnapshotBatch"> {
  const snapshots = quotes.map((q) => snapshotEvent(q).detail.data);
  const ts = Math.max(...quotes.map((q) => q.timestamp));
  // Deterministic id: the same books in the same state are the same batch.
  const id = quotes.map((q) => `${q.venue}:${q.symbol}:${q.sequence}`).join(",");
  return buildBusEvent(
    "tse.market",
    "MarketSnapshotBatch",
    { snapshots, checkpoint },
    { now: ts, eventId: `snaps-${ts}-${createHash("sha256").update(id).digest("hex").slice(0, 16)}` },
  );
}

function positiveInt(field: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`BusBridge: ${field} must be a positive integer (got ${v})`);
  return v;
}
function nonNegative(field: string, v: number): number {
  if (!Number.isFinite(v) || v < 0) throw new RangeError(`BusBridge: ${field} must be >= 0 (got ${v})`);
  return v;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
