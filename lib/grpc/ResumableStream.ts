// A server stream that survives peer restarts: reopens with jittered exponential backoff, and lets the caller
// decide the resume point (e.g. "from the sequence after the last delivered one") and which items to drop
// (duplicates from a replay overlap). Consumed as an async iterator; `close()` (or breaking the loop) ends it.
// A failure that a reconnect cannot cure (UNIMPLEMENTED: the peer lacks the method) ends it with that error, once.
import { status } from "@grpc/grpc-js";
import { ClientClosedError, type GrpcClientError, toClientError } from "./errors";

/** What `open` returns: a grpc-js ClientReadableStream, or a wrapper around one. */
export type OpenedStream<T> = AsyncIterable<T> & { cancel(): void };

/** true = deliver, false = drop (stale/duplicate), "malformed" = unusable (counted apart from drops). */
export type Acceptance = boolean | "malformed";

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

/** "fatal": end the stream with this error instead of reconnecting. Default: UNIMPLEMENTED is fatal. */
export type FailureDecision = "reconnect" | "fatal";
export const defaultFailureDecision = (err: GrpcClientError): FailureDecision =>
  err.code === status.UNIMPLEMENTED ? "fatal" : "reconnect";

export interface ResumableStreamStats {
  connects: number;
  reconnects: number;
  /** Items read off the wire (delivered + dropped + malformed). */
  received: number;
  delivered: number;
  /** Stale or duplicate items (expected across a replay overlap). */
  dropped: number;
  /** Items that could not be used (e.g. no sequence, no price). */
  malformed: number;
  lastError: string | undefined;
}

export class ResumableStream<T> implements AsyncIterable<T> {
  private current: OpenedStream<T> | undefined;
  private closed = false;
  private wake: (() => void) | undefined;
  readonly stats: ResumableStreamStats = {
    connects: 0,
    reconnects: 0,
    received: 0,
    delivered: 0,
    dropped: 0,
    malformed: 0,
    lastError: undefined,
  };
  /** The error that ended the stream for good (fatal), if any. */
  fatalError: GrpcClientError | undefined;
  private readonly initialDelayMs: number;
  private readonly maxDelayMs: number;

  /**
   * @param open opens the stream for the current resume point (called on every (re)connect)
   * @param accept false drops an item (duplicate / stale), "malformed" counts it as unusable; called before delivery
   * @param decide what a failure means (default: UNIMPLEMENTED ends the stream, anything else reconnects)
   */
  constructor(
    private readonly service: string,
    private rpc: string,
    private readonly open: () => Promise<OpenedStream<T>>,
    private readonly accept: (item: T) => Acceptance,
    private readonly opts: ResumableStreamOptions = {},
    private readonly decide: (err: GrpcClientError) => FailureDecision = defaultFailureDecision,
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
          for await (const item of this.current) {
            if (this.closed) break;
            this.stats.received++;
            const verdict = this.accept(item);
            if (verdict !== true) {
              if (verdict === "malformed") this.stats.malformed++;
              else this.stats.dropped++;
              continue;
            }
            delay = this.initialDelayMs; // healthy again
            this.stats.delivered++;
            yield item;
          }
        } catch (e) {
          failure = toClientError(e, this.service, this.rpc);
          this.stats.lastError = failure.message;
          if (failure instanceof ClientClosedError) this.closed = true;
          else if (this.decide(failure) === "fatal") {
            this.fatalError = failure;
            this.closed = true;
            this.opts.logger?.warn("stream failed; not reconnecting", {
              service: this.service,
              method: this.rpc,
              error: failure.message,
            });
            throw failure;
          }
        } finally {
          this.current?.cancel();
          this.current = undefined;
        }
        if (this.closed) break;
        this.opts.onDisconnect?.(failure, this.stats.reconnects);
        this.opts.logger?.warn("stream disconnected; reconnecting", {
          service: this.service,
          method: this.rpc,
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

  /** The RPC now being streamed (a fallback may switch it). */
  get method(): string {
    return this.rpc;
  }

  protected setMethod(method: string): void {
    this.rpc = method;
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
