// A server stream that survives peer restarts: reopens with jittered exponential backoff, and lets the caller
// decide the resume point (e.g. "from the sequence after the last delivered one") and which items to drop
// (duplicates from a replay overlap). Consumed as an async iterator, or with `run(callback)` (no promise per item);
// `close()` (or breaking the loop) ends it.
// A failure that a reconnect cannot cure (UNIMPLEMENTED: the peer lacks the method) ends it with that error, once.
import { status } from "@grpc/grpc-js";
import { ClientClosedError, type GrpcClientError, toClientError } from "./errors";

/** What `open` returns: a grpc-js ClientReadableStream, or a wrapper around one. */
export type OpenedStream<T> = AsyncIterable<T> & { cancel(): void };

/** true = deliver, false = drop (stale/duplicate), "malformed" = unusable (counted apart from drops). */
export type Acceptance = boolean | "malformed";

/** A stream that emits its items (a grpc-js ClientReadableStream is a Node Readable in object mode). */
interface ReadableLike<T> {
  on(event: "data", l: (item: T) => void): unknown;
  on(event: "error", l: (err: unknown) => void): unknown;
  on(event: "end", l: () => void): unknown;
  off(event: string, l: (...a: never[]) => void): unknown;
}
const isReadable = <T>(s: OpenedStream<T>): s is OpenedStream<T> & ReadableLike<T> =>
  typeof (s as Partial<ReadableLike<T>>).on === "function" && typeof (s as Partial<ReadableLike<T>>).off === "function";

/** What the consumer's callback threw (ends `run`, not a stream failure). */
class ConsumerFailure {
  constructor(readonly error: unknown) {}
}

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
          const current = await this.connect();
          for await (const item of current) {
            if (this.closed) break;
            if (!this.admit(item)) continue;
            delay = this.initialDelayMs; // healthy again
            yield item;
          }
        } catch (e) {
          failure = this.failure(e);
        } finally {
          this.current?.cancel();
          this.current = undefined;
        }
        if (this.closed) break;
        delay = await this.disconnected(failure, delay);
      }
    } finally {
      this.closed = true;
    }
  }

  /**
   * Delivers every accepted item to `onItem` as it arrives, with the same reconnects as the iterator. On a grpc-js
   * stream this is a `data` listener: no promise per item. Resolves once the stream is closed; rejects with a fatal
   * error, or with what `onItem` threw (the stream is then cancelled).
   */
  async run(onItem: (item: T) => void): Promise<void> {
    let delay = this.initialDelayMs;
    const healthy = () => {
      delay = this.initialDelayMs;
    };
    try {
      while (!this.closed) {
        let failure: GrpcClientError | undefined;
        try {
          const current = await this.connect();
          await (isReadable(current) ? this.listen(current, onItem, healthy) : this.iterate(current, onItem, healthy));
        } catch (e) {
          if (e instanceof ConsumerFailure) throw e.error;
          failure = this.failure(e);
        } finally {
          this.current?.cancel();
          this.current = undefined;
        }
        if (this.closed) break;
        delay = await this.disconnected(failure, delay);
      }
    } finally {
      this.closed = true;
    }
  }

  private async connect(): Promise<OpenedStream<T>> {
    const current = await this.open();
    this.current = current;
    this.stats.connects++;
    if (this.stats.connects > 1) this.stats.reconnects++;
    return current;
  }

  /** Counts an item read off the wire; true when it is to be delivered. */
  private admit(item: T): boolean {
    this.stats.received++;
    const verdict = this.accept(item);
    if (verdict !== true) {
      if (verdict === "malformed") this.stats.malformed++;
      else this.stats.dropped++;
      return false;
    }
    this.stats.delivered++;
    return true;
  }

  private listen(r: ReadableLike<T>, onItem: (item: T) => void, healthy: () => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onData = (item: T) => {
        if (this.closed || !this.admit(item)) return;
        healthy();
        try {
          onItem(item);
        } catch (err) {
          done();
          reject(new ConsumerFailure(err));
        }
      };
      const onError = (err: unknown) => {
        done();
        reject(err);
      };
      const onEnd = () => {
        done();
        resolve();
      };
      const done = () => {
        r.off("data", onData);
        r.off("error", onError);
        r.off("end", onEnd);
      };
      r.on("data", onData);
      r.on("error", onError);
      r.on("end", onEnd);
    });
  }

  private async iterate(current: OpenedStream<T>, onItem: (item: T) => void, healthy: () => void): Promise<void> {
    for await (const item of current) {
      if (this.closed) break;
      if (!this.admit(item)) continue;
      healthy();
      try {
        onItem(item);
      } catch (err) {
        throw new ConsumerFailure(err);
      }
    }
  }

  /** A failure of the stream: the mapped error, or thrown when it ends the stream for good. */
  private failure(e: unknown): GrpcClientError {
    const failure = toClientError(e, this.service, this.rpc);
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
    return failure;
  }

  /** After a disconnect: tells, waits the backoff; returns the next delay. */
  private async disconnected(failure: GrpcClientError | undefined, delay: number): Promise<number> {
    this.opts.onDisconnect?.(failure, this.stats.reconnects);
    this.opts.logger?.warn("stream disconnected; reconnecting", {
      service: this.service,
      method: this.rpc,
      error: failure?.message ?? "server ended the stream",
      delayMs: delay,
    });
    await this.sleep(delay * (0.5 + Math.random() * 0.5));
    return Math.min(delay * 2, this.maxDelayMs);
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
