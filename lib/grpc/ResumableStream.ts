// A server stream that survives peer restarts: reopens with jittered exponential backoff, and lets the caller
// decide the resume point (e.g. "from the sequence after the last delivered one") and which items to drop
// (duplicates from a replay overlap). Consumed as an async iterator; `close()` (or breaking the loop) ends it.
import type { ClientReadableStream } from "@grpc/grpc-js";
import { ClientClosedError, type GrpcClientError, toClientError } from "./errors";

export interface ResumableStreamOptions {
  /** First reconnect delay, ms. Default 100. */
  initialDelayMs?: number;
  /** Cap on the reconnect delay, ms. Default 2000. */
  maxDelayMs?: number;
  /** Ends the stream. */
  signal?: AbortSignal;
  logger?: { warn(msg: string, attrs?: Record<string, unknown>): void };
  /** Called with every disconnect (after the stream had been opened or failed to open). */
  onDisconnect?: (err: GrpcClientError | undefined, reconnects: number) => void;
}

export interface ResumableStreamStats {
  connects: number;
  reconnects: number;
  delivered: number;
  dropped: number;
  lastError: string | undefined;
}

export class ResumableStream<T> implements AsyncIterable<T> {
  private current: ClientReadableStream<T> | undefined;
  private closed = false;
  private wake: (() => void) | undefined;
  readonly stats: ResumableStreamStats = { connects: 0, reconnects: 0, delivered: 0, dropped: 0, lastError: undefined };
  private readonly initialDelayMs: number;
  private readonly maxDelayMs: number;

  /**
   * @param open opens the stream for the current resume point (called on every (re)connect)
   * @param accept returns false to drop an item (duplicate / stale); called before the item is delivered
   */
  constructor(
    private readonly service: string,
    private readonly method: string,
    private readonly open: () => Promise<ClientReadableStream<T>>,
    private readonly accept: (item: T) => boolean,
    private readonly opts: ResumableStreamOptions = {},
  ) {
    this.initialDelayMs = opts.initialDelayMs ?? 100;
    this.maxDelayMs = opts.maxDelayMs ?? 2_000;
    opts.signal?.addEventListener("abort", () => this.close(), { once: true });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  close(): void {
    this.closed = true;
    this.current?.cancel();
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    let delay = this.initialDelayMs;
    try {
      while (!this.closed) {
        let failure: GrpcClientError | undefined;
        try {
          this.current = await this.open();
          this.stats.connects++;
          if (this.stats.connects > 1) this.stats.reconnects++;
          for await (const item of this.current as AsyncIterable<T>) {
            if (this.closed) break;
            if (!this.accept(item)) {
              this.stats.dropped++;
              continue;
            }
            delay = this.initialDelayMs; // healthy again
            this.stats.delivered++;
            yield item;
          }
        } catch (e) {
          failure = toClientError(e, this.service, this.method);
          this.stats.lastError = failure.message;
          if (failure instanceof ClientClosedError) this.closed = true;
        } finally {
          this.current?.cancel();
          this.current = undefined;
        }
        if (this.closed) break;
        this.opts.onDisconnect?.(failure, this.stats.reconnects);
        this.opts.logger?.warn("stream disconnected; reconnecting", {
          service: this.service,
          method: this.method,
          error: failure?.message ?? "server ended the stream",
          delayMs: delay,
        });
        await this.sleep(delay * (0.5 + Math.random() * 0.5));
        delay = Math.min(delay * 2, this.maxDelayMs);
      }
    } finally {
      this.closed = true;
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    });
  }
}
