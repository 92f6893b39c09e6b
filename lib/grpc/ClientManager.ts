// The one place where the engine talks gRPC: deadlines, retries with jittered backoff (idempotent methods only),
// a circuit breaker per service, per-method latency stats, OpenTelemetry client spans with W3C traceparent in
// metadata and graceful close. Channels live in channels.ts, policies in callPolicy.ts, spans in clientSpans.ts,
// stats in methodStats.ts, the public types in clientTypes.ts.
import { Logger } from "@aws-lambda-powertools/logger";
import * as grpc from "@grpc/grpc-js";
import type { Span, Tracer } from "@opentelemetry/api";
import { CircuitState, type RetryPolicy } from "cockatiel";
import { contextualTracer, markSpanFailed, unsampledTraceparent } from "../telemetry/spans";
import { tracing } from "../telemetry/tracing";
import { Answered, breakerName, Final, idempotentRetryPolicy, isPeerFailure, positive } from "./callPolicy";
import { DEFAULT_CHANNEL_OPTIONS, ServiceChannels, type ServiceState } from "./channels";
import { rpcNameOf, setServerAddress, startClientSpan } from "./clientSpans";
import type {
  AnyMethodDefinition,
  AnyServiceDefinition,
  BreakerStateName,
  CallOptions,
  ClientManagerOptions,
  MethodStats,
  RequestOf,
  ResponseOf,
  RetrySettings,
  ServiceHealth,
  ServiceSpec,
  StreamOptions,
} from "./clientTypes";
import { Discovery, type ServiceName } from "./discovery";
import { CircuitOpenError, ClientClosedError, isServiceError, toClientError } from "./errors";
import { recentLatencyWindow } from "./latency";
import { MethodStatsTable, type StatCell } from "./methodStats";

export { DEFAULT_CHANNEL_OPTIONS } from "./channels";
export type * from "./clientTypes";

interface MethodEntry {
  def: AnyMethodDefinition;
  rpc: string;
  /** "service.Method", the stats key. */
  key: string;
  idempotent: boolean;
  deadlineMs: number;
  state: ServiceState;
  cell: StatCell | undefined;
}

const NO_CALL_OPTIONS: CallOptions = {};

export class ClientManager {
  readonly discovery: Discovery;
  private readonly defaultDeadlineMs: number;
  private readonly retrySettings: RetrySettings;
  private readonly tracer: Tracer;
  private readonly channels: ServiceChannels;
  private readonly statTable: MethodStatsTable;
  private readonly activeStreams = new Set<grpc.ClientReadableStream<unknown>>();
  private closed = false;
  private inflight = 0;
  private onDrained: (() => void) | undefined;
  private readonly tracerGiven: boolean;
  private readonly methodCache = new WeakMap<ServiceSpec, Map<string, MethodEntry>>();
  /** Built once: the retry policy of idempotent calls (undefined when retries are off). */
  private readonly retryPolicy: RetryPolicy | undefined;
  /** Shared, never mutated (grpc-js clones a call's metadata when it starts). */
  private readonly emptyMetadata = new grpc.Metadata();
  private readonly readyMetadata = new grpc.Metadata({ waitForReady: true });
  private readonly unsampledMd: ({ traceparent: string; metadata: grpc.Metadata } | undefined)[] = [];

  constructor(opts: ClientManagerOptions = {}) {
    this.discovery = opts.discovery ?? new Discovery();
    this.defaultDeadlineMs = positive(opts.defaultDeadlineMs ?? 2_000, "defaultDeadlineMs");
    this.retrySettings = {
      maxAttempts: positive(opts.retry?.maxAttempts ?? 3, "retry.maxAttempts"),
      initialDelayMs: positive(opts.retry?.initialDelayMs ?? 50, "retry.initialDelayMs"),
      maxDelayMs: positive(opts.retry?.maxDelayMs ?? 1_000, "retry.maxDelayMs"),
    };
    this.channels = new ServiceChannels({
      discovery: this.discovery,
      breaker: {
        consecutiveFailures: positive(opts.breaker?.consecutiveFailures ?? 5, "breaker.consecutiveFailures"),
        halfOpenAfterMs: positive(opts.breaker?.halfOpenAfterMs ?? 5_000, "breaker.halfOpenAfterMs"),
      },
      reresolveAfter: positive(opts.reresolveAfterUnavailable ?? 3, "reresolveAfterUnavailable"),
      channelOptions: { ...DEFAULT_CHANNEL_OPTIONS, ...(opts.channelOptions ?? {}) },
      credentials: opts.credentials ?? grpc.credentials.createInsecure(),
      serviceCredentials: { ...(opts.serviceCredentials ?? {}) },
      log: opts.logger ?? new Logger({ serviceName: "tse-grpc-client" }),
      isClosed: () => this.closed,
    });
    this.statTable = new MethodStatsTable(opts.latencyHistogram ?? recentLatencyWindow);
    this.tracer = opts.tracer ?? contextualTracer("tse-grpc-client");
    this.tracerGiven = opts.tracer !== undefined;
    this.retryPolicy = idempotentRetryPolicy(this.retrySettings);
  }

  /**
   * Unary call with deadline, breaker, retries (idempotent only), stats and a client span. Rejects with
   * GrpcClientError subclasses. When the channel is ready, makeUnaryRequest runs in the caller's turn (the breaker
   * and the retry policy call their function synchronously); a span is made only when tracing is on or the caller
   * hands a parent (`context`, `traceparent`) or its own metadata.
   */
  unary<D extends AnyServiceDefinition, K extends keyof D & string>(
    spec: ServiceSpec<D>,
    method: K,
    request: RequestOf<D[K]>,
    opts: CallOptions = NO_CALL_OPTIONS,
  ): Promise<ResponseOf<D[K]>> {
    let m: MethodEntry;
    let deadlineMs: number;
    try {
      m = this.methodOf(spec, method);
      deadlineMs = opts.deadlineMs === undefined ? m.deadlineMs : positive(opts.deadlineMs, "deadlineMs");
    } catch (e) {
      return Promise.reject(e);
    }
    const { state, def, rpc } = m;
    if (this.closed) {
      return Promise.reject(
        new ClientClosedError(`client manager closed`, spec.name, rpc, grpc.status.CANCELLED, "closed"),
      );
    }
    const idempotent = opts.idempotent ?? m.idempotent;
    this.inflight++;
    const started = performance.now();
    const deadlineAt = Date.now() + deadlineMs;
    let span: Span | undefined;
    let metadata: grpc.Metadata;
    // Inside an unsampled root (a tick the sampler skipped) a call only forwards the root's traceparent.
    const unsampledTp = this.explicitTrace(opts) ? undefined : unsampledTraceparent();
    if (unsampledTp) metadata = this.unsampledMetadata(unsampledTp, opts.waitForReady === true);
    else if (this.traced(opts)) ({ span, metadata } = this.startSpan(spec.name, def, opts));
    else metadata = opts.waitForReady ? this.readyMetadata : this.emptyMetadata; // grpc-js clones what it sends

    const send = (client: grpc.Client): Promise<ResponseOf<D[K]>> => {
      if (span?.isRecording()) setServerAddress(span, state.address);
      const attemptDeadline =
        opts.attemptTimeoutMs !== undefined ? Math.min(deadlineAt, Date.now() + opts.attemptTimeoutMs) : deadlineAt;
      return new Promise<ResponseOf<D[K]>>((resolve, reject) => {
        client.makeUnaryRequest(
          def.path,
          def.requestSerialize,
          def.responseDeserialize,
          request,
          metadata,
          { deadline: attemptDeadline },
          (err, value) => (err ? reject(err) : resolve(value as ResponseOf<D[K]>)),
        );
      });
    };
    const attempt = (): Promise<ResponseOf<D[K]>> => {
      const ready = state.client;
      if (ready && !state.stale && !this.closed) return send(ready);
      return Promise.resolve(this.channels.clientFor(state)).then(send);
    };
    // Only peer failures reach the breaker as failures; an answered business error is a sign of life.
    const throughBreaker = () =>
      state.breaker.execute(() =>
        attempt().then(undefined, (e: unknown) => {
          this.channels.noteOutcome(state, e);
          if (isPeerFailure(e)) throw e;
          return new Answered(e);
        }),
      );
    let attempts = 1;
    const retryPolicy = idempotent ? this.retryPolicy : undefined;
    const run: Promise<ResponseOf<D[K]> | Answered> = retryPolicy
      ? retryPolicy.execute((ctx) => {
          attempts = ctx.attempt + 1;
          // No retry once the budget left is under one backoff step.
          return throughBreaker().catch((e: unknown) => {
            throw isPeerFailure(e) && deadlineAt - Date.now() <= this.retrySettings.initialDelayMs ? new Final(e) : e;
          });
        })
      : throughBreaker();
    return run.then(
      (result) => {
        if (result instanceof Answered) return this.failed(m, started, span, attempts, result.error);
        this.channels.noteOutcome(state, undefined);
        this.statTable.record(m, started, false);
        if (span) {
          span.setAttribute("rpc.grpc.status_code", 0);
          span.setAttribute("tse.rpc.attempts", attempts);
          span.end();
        }
        if (--this.inflight === 0) this.onDrained?.();
        return result;
      },
      (e: unknown) => this.failed(m, started, span, attempts, e instanceof Final ? e.error : e),
    );
  }

  private failed(m: MethodEntry, started: number, span: Span | undefined, attempts: number, e: unknown): never {
    const err = toClientError(e, m.state.name, m.rpc);
    this.statTable.record(m, started, true);
    if (span) {
      span.setAttribute("tse.rpc.attempts", attempts);
      if (err.code !== undefined) span.setAttribute("rpc.grpc.status_code", err.code);
      markSpanFailed(span, err);
      span.end();
    }
    if (--this.inflight === 0) this.onDrained?.();
    throw err;
  }

  /**
   * Whether a call gets a client span and propagated context: tracing on (an SDK started, or a tracer given), or the
   * caller passed a parent or its own metadata. The seam for callers that trace the hot path.
   */
  private traced(opts: CallOptions): boolean {
    return this.tracerGiven || tracing().enabled || this.explicitTrace(opts);
  }

  private explicitTrace(opts: CallOptions): boolean {
    return opts.context !== undefined || opts.traceparent !== undefined || opts.metadata !== undefined;
  }

  /** The metadata carrying an unsampled root's traceparent, built once per root (grpc-js clones what it sends). */
  private unsampledMetadata(traceparent: string, waitForReady: boolean): grpc.Metadata {
    const cached = this.unsampledMd[waitForReady ? 1 : 0];
    if (cached?.traceparent === traceparent) return cached.metadata;
    const metadata = (waitForReady ? this.readyMetadata : this.emptyMetadata).clone();
    metadata.set("traceparent", traceparent);
    this.unsampledMd[waitForReady ? 1 : 0] = { traceparent, metadata };
    return metadata;
  }

  /** The method's definition and policy, resolved once per spec and method. */
  private methodOf(spec: ServiceSpec, method: string): MethodEntry {
    let byName = this.methodCache.get(spec);
    if (!byName) {
      byName = new Map();
      this.methodCache.set(spec, byName);
    }
    let m = byName.get(method);
    if (!m) {
      const def = spec.definition[method];
      if (!def || def.requestStream || def.responseStream) {
        throw new TypeError(`${spec.name}: "${method}" is not a unary method of the service definition`);
      }
      const policy = spec.methods?.[method] ?? {};
      const rpc = rpcNameOf(def);
      m = {
        def,
        rpc,
        key: `${spec.name}.${rpc}`,
        idempotent: policy.idempotent ?? false,
        deadlineMs: positive(policy.deadlineMs ?? spec.defaultDeadlineMs ?? this.defaultDeadlineMs, "deadlineMs"),
        state: this.channels.stateFor(spec.name),
        cell: undefined,
      };
      byName.set(method, m);
    }
    return m;
  }

  /**
   * Opens a server-streaming call (not retried here: the typed clients own reconnect/replay because only they
   * know the resume point). Throws CircuitOpenError when the service's breaker is open.
   */
  async serverStream<D extends AnyServiceDefinition, K extends keyof D & string>(
    spec: ServiceSpec<D>,
    method: K,
    request: RequestOf<D[K]>,
    opts: StreamOptions = {},
  ): Promise<grpc.ClientReadableStream<ResponseOf<D[K]>>> {
    const def = spec.definition[method];
    if (!def || def.requestStream || !def.responseStream) {
      throw new TypeError(`${spec.name}: "${method}" is not a server-streaming method of the service definition`);
    }
    const rpc = rpcNameOf(def);
    const state = this.channels.stateFor(spec.name);
    const bs = state.breaker.state;
    if (bs === CircuitState.Open || bs === CircuitState.Isolated) {
      throw new CircuitOpenError(
        `${spec.name}.${rpc}: circuit open for service "${spec.name}", stream not opened`,
        spec.name,
        rpc,
        undefined,
        "circuit open",
      );
    }
    const client = await this.channels.clientFor(state);
    const { span, metadata } = this.startSpan(spec.name, def, opts);
    if (span.isRecording()) setServerAddress(span, state.address);
    const callOpts: grpc.CallOptions = opts.deadlineMs !== undefined ? { deadline: Date.now() + opts.deadlineMs } : {};
    const stream = client.makeServerStreamRequest(
      def.path,
      def.requestSerialize,
      def.responseDeserialize,
      request,
      metadata,
      callOpts,
    ) as grpc.ClientReadableStream<ResponseOf<D[K]>>;
    const tracked = stream as grpc.ClientReadableStream<unknown>;
    this.activeStreams.add(tracked);
    let ended = false;
    const finish = (err?: unknown) => {
      if (ended) return;
      ended = true;
      this.activeStreams.delete(tracked);
      if (err && !(isServiceError(err) && err.code === grpc.status.CANCELLED)) {
        this.channels.noteOutcome(state, err);
        const mapped = toClientError(err, spec.name, rpc);
        markSpanFailed(span, mapped);
      }
      span.end();
    };
    stream.on("error", finish);
    stream.on("status", (s: grpc.StatusObject) => {
      if (s.code === grpc.status.OK) finish();
    });
    stream.on("close", () => finish());
    return stream;
  }

  /** Breaker state per service that has been used, for metrics/health. */
  breakerStates(): Record<string, BreakerStateName> {
    const out: Record<string, BreakerStateName> = {};
    for (const [name, s] of this.channels.services) out[name] = breakerName(s.breaker.state);
    return out;
  }

  breakerState(service: ServiceName): BreakerStateName {
    return breakerName(this.channels.stateFor(service).breaker.state);
  }

  health(): ServiceHealth[] {
    return [...this.channels.services.values()].map((s) => ({
      service: s.name,
      address: s.address,
      breaker: breakerName(s.breaker.state),
      consecutiveUnavailable: s.consecutiveUnavailable,
    }));
  }

  /** Per-method stats keyed "service.Method" (latency of the whole call incl. retries, microseconds). */
  stats(): Record<string, MethodStats> {
    return this.statTable.snapshot();
  }

  resetStats(): void {
    this.statTable.reset();
  }

  /** Subscribe to breaker transitions (e.g. to log or publish metrics). Returns an unsubscribe function. */
  onBreakerChange(service: ServiceName, listener: (state: BreakerStateName) => void): () => void {
    const d = this.channels.stateFor(service).breaker.onStateChange((s) => listener(breakerName(s)));
    return () => d.dispose();
  }

  /**
   * Graceful shutdown: new calls fail with ClientClosedError at once, open streams are cancelled, in-flight unary
   * calls get up to `drainTimeoutMs` (default 2000) to finish, then every channel is closed. Stats stay readable.
   */
  async close(opts: { drainTimeoutMs?: number } = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.activeStreams) s.cancel();
    this.activeStreams.clear();
    if (this.inflight > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => {
          this.onDrained = resolve;
        }),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, opts.drainTimeoutMs ?? 2_000);
        }),
      ]);
      clearTimeout(timer);
    }
    this.channels.closeAll();
  }

  /** Unary calls currently in flight. */
  get inflightCalls(): number {
    return this.inflight;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** How long an open circuit rejects calls before one half-open probe is let through, ms. */
  get halfOpenAfterMs(): number {
    return this.channels.breakerSettings.halfOpenAfterMs;
  }

  private startSpan(service: string, def: AnyMethodDefinition, opts: CallOptions) {
    return startClientSpan(this.tracer, service, def, opts);
  }
}
