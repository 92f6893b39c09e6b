// Bridge: the exchange's execution stream → ExecutionReported events on the bus (what the quoter does for its
// own orders, here for the functions' orders). The stream resumes after reconnects without gaps or repeats;
// each event id is derived from the venue and execution id, so a re-forwarded execution is the same event.
import { executionEvent } from "../adapters/exchangeWire";
import type { BusEvent, EventBus } from "../ports/EventBus";
import type { ExchangePort, ExecutionReport as Execution, ExecutionFeed } from "../ports/Exchange";
import { createMessage, type MessagingSystem } from "../telemetry/spans";

export interface ExecutionForwarderOptions {
  exchange: Pick<ExchangePort, "streamExecutions">;
  bus: EventBus;
  /** First sequence to forward (inclusive). Default 1. */
  fromSequence?: number;
  /** Which executions to forward. Default: those with a client order id (never background liquidity). */
  accept?: (e: Execution) => boolean;
  /** Publish after this many buffered executions... */
  batchSize?: number;
  /** ...or after this long (ms). Default 5. */
  flushMs?: number;
  onError?: (err: unknown, execution?: Execution) => void;
  /** What the bus is, for the messaging spans. Default: EventBridge bus "default". */
  messaging?: { system: MessagingSystem; destination: string };
}

const FORWARDER_SERVICE = "tse-execution-forwarder";

export class ExecutionForwarder {
  private stream: ExecutionFeed | undefined;
  private loop: Promise<void> | undefined;
  private buffer: BusEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  forwarded = 0;
  failed = 0;

  constructor(private readonly opts: ExecutionForwarderOptions) {}

  /** Resume point: the last execution sequence received. */
  get lastSequence(): number {
    return this.stream?.lastSequence ?? 0;
  }

  start(): void {
    if (this.loop) return;
    const accept = this.opts.accept ?? ((e: Execution) => e.clientOrderId !== "");
    const stream = this.opts.exchange.streamExecutions({ fromSequence: this.opts.fromSequence ?? 1 });
    this.stream = stream;
    this.loop = (async () => {
      for await (const e of stream) {
        if (!accept(e)) continue;
        try {
          const m = this.opts.messaging ?? { system: "aws_eventbridge", destination: "default" };
          this.buffer.push(
            createMessage(FORWARDER_SERVICE, m.system, m.destination, "ExecutionReported", e.traceparent, () =>
              executionEvent(e),
            ),
          );
        } catch (err) {
          this.failed++;
          this.opts.onError?.(err, e);
          continue;
        }
        if (this.buffer.length >= (this.opts.batchSize ?? 10)) this.flush();
        else this.timer ??= setTimeout(() => this.flush(), this.opts.flushMs ?? 5);
      }
    })().catch((err) => this.opts.onError?.(err));
  }

  /** Publish what is buffered (in order; one publish at a time). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.buffer;
    this.buffer = [];
    if (batch.length === 0) return this.flushing;
    this.flushing = this.flushing.then(async () => {
      try {
        const r = await this.opts.bus.publish(batch);
        this.forwarded += r.published;
        this.failed += r.failed.length;
        for (const f of r.failed) this.opts.onError?.(new Error(`${f.errorCode}: ${f.errorMessage}`));
      } catch (err) {
        this.failed += batch.length;
        this.opts.onError?.(err);
      }
    });
    return this.flushing;
  }

  /** Stop streaming and publish what is left. */
  async stop(): Promise<void> {
    this.stream?.close();
    await this.loop;
    this.loop = undefined;
    await this.flush();
  }
}
