// Embedded EventBus: routes each published event through the routing table (EventBridge-semantics matcher)
// to in-process handlers, which receive the exact EventBridge event Lambda would get. Dispatch is async and
// queued per function (never recursive), failed invocations are retried and then dead-lettered in memory.
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { EventBridgeEvent } from "aws-lambda";
import type { BusEvent, EventBus, PublishFailure, PublishResult } from "../../ports/EventBus";
import { compileEventPattern, compilePatternSet } from "../../routing/matchEventPattern";
import { ROUTES, type Route } from "../../routing/routes";
import { sendBatch } from "../../telemetry/spans";
import { entryProblem } from "../eventEntry";

/** The event a handler receives: the EventBridge envelope with the (JSON round-tripped) detail. */
export type BusDelivery = EventBridgeEvent<string, unknown>;
export type InProcessHandler = (event: BusDelivery) => unknown | Promise<unknown>;

export interface DeadLetter {
  functionName: string;
  event: BusDelivery;
  attempts: number;
  errorName: string;
  errorMessage: string;
  /** The last error thrown by the handler. */
  error: unknown;
}

export interface InProcessEventBusOptions {
  /** Routing table; defaults to ROUTES. */
  routes?: readonly Route[];
  /** Invocation attempts per delivery before it is dead-lettered (default 3, like the tap queues' maxReceiveCount). */
  maxAttempts?: number;
  /** Delay before retry n (1-based); default 10 ms · 2^(n-1), capped at 1 s. */
  retryDelayMs?: (retry: number) => number;
  /** Concurrent invocations per function (default 1: events reach each function in publish order). */
  concurrency?: number;
  account?: string;
  region?: string;
  /** Clock for the envelope's `time` (EventBridge stamps the time it received the event). */
  now?: () => number;
  /** Called for each dead letter (e.g. to log it). */
  onDeadLetter?: (dl: DeadLetter) => void;
  /** Dead letters kept in memory; the oldest are dropped beyond this (default 10 000; all are counted). */
  maxDeadLetters?: number;
}

export interface BusStats {
  published: number;
  /** Successful handler invocations. */
  delivered: number;
  /** Failed invocations (including ones later retried successfully). */
  failedAttempts: number;
  deadLettered: number;
  /** Published events that matched no route with a registered handler. */
  unrouted: number;
}

interface Lane {
  route: Route;
  handler?: InProcessHandler;
  queue: BusDelivery[];
  running: number;
}

export class InProcessEventBus implements EventBus {
  readonly deadLetters: DeadLetter[] = [];
  private readonly lanes: Lane[];
  /** One verdict per lane for an event (the event is flattened once for the whole table). */
  private readonly route: (event: unknown) => boolean[];
  private readonly taps = new Set<(event: BusDelivery) => void>();
  private readonly idleWaiters: (() => void)[] = [];
  private readonly maxAttempts: number;
  private readonly retryDelayMs: (retry: number) => number;
  private readonly concurrency: number;
  private readonly account: string;
  private readonly region: string;
  private readonly now: () => number;
  private pending = 0;
  private closed = false;
  private readonly stats: BusStats = { published: 0, delivered: 0, failedAttempts: 0, deadLettered: 0, unrouted: 0 };

  constructor(private readonly options: InProcessEventBusOptions = {}) {
    const routes = options.routes ?? ROUTES;
    this.lanes = routes.map((route) => ({ route, queue: [], running: 0 }));
    this.route = compilePatternSet(routes.map((r) => compileEventPattern(r.eventPattern)));
    this.maxAttempts = positiveInt("maxAttempts", options.maxAttempts ?? 3);
    this.concurrency = positiveInt("concurrency", options.concurrency ?? 1);
    this.retryDelayMs = options.retryDelayMs ?? ((n) => Math.min(1000, 10 * 2 ** (n - 1)));
    this.account = options.account ?? "000000000000";
    this.region = options.region ?? "us-east-1";
    this.now = options.now ?? Date.now;
  }

  /** Attach the handler of a routed function. Returns a function that detaches it. */
  register(functionName: string, handler: InProcessHandler): () => void {
    const lane = this.lanes.find((l) => l.route.functionName === functionName);
    if (!lane) {
      const names = this.lanes.map((l) => l.route.functionName).join(", ");
      throw new Error(`register: unknown function '${functionName}'; routed functions are ${names}`);
    }
    if (lane.handler) throw new Error(`register: function '${functionName}' already has a handler`);
    lane.handler = handler;
    return () => {
      if (lane.handler === handler) lane.handler = undefined;
    };
  }

  /** Observe every published event (after routing), e.g. for dashboards or tests. Returns an unsubscribe function. */
  tap(listener: (event: BusDelivery) => void): () => void {
    this.taps.add(listener);
    return () => this.taps.delete(listener);
  }

  /** Publish (a messaging "send" span linked to each event's creation context when tracing is on). */
  publish(events: readonly BusEvent[]): Promise<PublishResult> {
    return sendBatch("in_process", "embedded", events, () => this.publishNow(events));
  }

  private async publishNow(events: readonly BusEvent[]): Promise<PublishResult> {
    if (this.closed) throw new Error("publish: the in-process event bus is closed");
    const failed: PublishFailure[] = [];
    let published = 0;
    events.forEach((event, index) => {
      const problem = entryProblem(event);
      if (problem) {
        failed.push({ index, event, ...problem });
        return;
      }
      const delivery = this.envelope(event);
      published++;
      this.stats.published++;
      for (const listener of this.taps) listener(structuredClone(delivery));
      let routed = false;
      const verdicts = this.route(delivery);
      for (const [i, lane] of this.lanes.entries()) {
        if (!lane.handler || !verdicts[i]) continue;
        routed = true;
        lane.queue.push(delivery);
        this.pending++;
        this.schedule(lane);
      }
      if (!routed) this.stats.unrouted++;
    });
    return { published, failed };
  }

  /** Resolves once every queued delivery (and everything those handlers published) has finished or been dead-lettered. */
  whenIdle(options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        if (timer) clearTimeout(timer);
        resolve();
      };
      this.idleWaiters.push(done);
      if (options.timeoutMs !== undefined) {
        const timeoutMs = options.timeoutMs;
        timer = setTimeout(() => {
          const i = this.idleWaiters.indexOf(done);
          if (i >= 0) this.idleWaiters.splice(i, 1);
          reject(new Error(`whenIdle: still ${this.pending} pending deliveries after ${timeoutMs} ms`));
        }, timeoutMs);
      }
    });
  }

  /** Wait for quiescence and return counters plus the dead letters. */
  async drain(options: { timeoutMs?: number } = {}): Promise<BusStats & { deadLetters: readonly DeadLetter[] }> {
    await this.whenIdle(options);
    return { ...this.stats, deadLetters: [...this.deadLetters] };
  }

  getStats(): BusStats {
    return { ...this.stats };
  }

  get pendingDeliveries(): number {
    return this.pending;
  }

  /** Stop accepting events and wait for in-flight work. */
  async close(options: { timeoutMs?: number } = {}): Promise<void> {
    this.closed = true;
    await this.whenIdle(options);
  }

  private envelope(event: BusEvent): BusDelivery {
    // JSON round trip: handlers see exactly what EventBridge would deliver, and cannot mutate the publisher's object.
    return {
      version: "0",
      id: randomUUID(),
      "detail-type": event.detailType,
      source: event.source,
      account: this.account,
      time: new Date(this.now()).toISOString().replace(/\.\d{3}Z$/, "Z"),
      region: this.region,
      resources: [],
      detail: JSON.parse(JSON.stringify(event.detail)),
    };
  }

  private schedule(lane: Lane): void {
    // setImmediate: handlers never run inside publish(), so a handler that publishes cannot recurse.
    while (lane.running < this.concurrency && lane.queue.length > 0) {
      const delivery = lane.queue.shift() as BusDelivery;
      lane.running++;
      setImmediate(() => {
        void this.invoke(lane, delivery).finally(() => {
          lane.running--;
          this.pending--;
          this.schedule(lane);
          if (this.pending === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
        });
      });
    }
  }

  private async invoke(lane: Lane, delivery: BusDelivery): Promise<void> {
    let lastError: unknown;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      const handler = lane.handler;
      if (!handler) {
        lastError = new Error(`function '${lane.route.functionName}' has no handler`);
      } else {
        try {
          // Each attempt gets its own copy, as a redelivery would.
          await handler(attempt === 1 ? delivery : structuredClone(delivery));
          this.stats.delivered++;
          return;
        } catch (error) {
          lastError = error;
        }
      }
      this.stats.failedAttempts++;
      if (attempt < this.maxAttempts) await sleep(this.retryDelayMs(attempt));
    }
    const err = lastError instanceof Error ? lastError : new Error(String(lastError));
    const dl: DeadLetter = {
      functionName: lane.route.functionName,
      event: delivery,
      attempts: this.maxAttempts,
      errorName: err.name,
      errorMessage: err.message,
      error: lastError,
    };
    this.deadLetters.push(dl);
    if (this.deadLetters.length > (this.options.maxDeadLetters ?? 10_000)) this.deadLetters.shift();
    this.stats.deadLettered++;
    try {
      this.options.onDeadLetter?.(dl);
    } catch {
      // A failing observer must not break the bus.
    }
  }
}

function positiveInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`InProcessEventBus: ${name} must be a positive integer, got ${value}`);
  return value;
}
