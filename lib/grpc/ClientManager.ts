// The one place where the engine talks gRPC: channels (one per service+address), deadlines, retries with
// jittered backoff (idempotent methods only), a circuit breaker per service, per-method latency stats,
// OpenTelemetry client spans with W3C traceparent in metadata, endpoint re-resolution and graceful close.
import { performance } from "node:perf_hooks";
import { Logger } from "@aws-lambda-powertools/logger";
import * as grpc from "@grpc/grpc-js";
import {
  type Context,
  defaultTextMapGetter,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import {
  type CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  ExponentialBackoff,
  handleWhen,
  type RetryPolicy,
  retry,
} from "cockatiel";
import { activeOrUnsampled, contextualTracer, markSpanFailed, unsampledTraceparent } from "../telemetry/spans";
import { tracing } from "../telemetry/tracing";
import { Discovery, type ServiceName } from "./discovery";
import { CircuitOpenError, ClientClosedError, isServiceError, toClientError } from "./errors";
import { type LatencyHistogram, type LatencyHistogramFactory, recentLatencyWindow } from "./latency";

/** A grpc-js method definition (what ts-proto `outputServices=grpc-js` generates per method). */
// biome-ignore lint/suspicious/noExplicitAny: generic over every generated message type
export type AnyMethodDefinition = grpc.MethodDefinition<any, any>;
export type AnyServiceDefinition = { readonly [method: string]: AnyMethodDefinition };

export type RequestOf<M> = M extends { requestSerialize: (value: infer R) => Buffer } ? R : never;
export type ResponseOf<M> = M extends { responseDeserialize: (bytes: Buffer) => infer R } ? R : never;

export interface MethodPolicy {
  /** Safe to send twice (PlaceOrder with a client order id, Cancel, Get*, List*). Only these are retried. */
  idempotent?: boolean;
  /** Default deadline for this method, ms. */
  deadlineMs?: number;
}

export interface ServiceSpec<D extends AnyServiceDefinition = AnyServiceDefinition> {
  /** Logical peer name used for discovery, the breaker and stats ("exchange", "market-data", …). */
  name: ServiceName;
  definition: D;
  methods?: { [K in keyof D]?: MethodPolicy };
  /** Deadline for methods without their own; falls back to the manager's default. */
  defaultDeadlineMs?: number;
}

export interface CallOptions {
  /** Overall deadline for the call INCLUDING retries, ms. */
  deadlineMs?: number;
  /** Per-attempt deadline, ms (default: the overall deadline). Lets a retry happen inside the overall budget. */
  attemptTimeoutMs?: number;
  /** Override the declared idempotency (e.g. force no retry). */
  idempotent?: boolean;
  metadata?: grpc.Metadata;
  /** Parent trace context; default: the active context. */
  context?: Context;
  /**
   * Wait (within the deadline) for the channel to connect instead of failing fast with UNAVAILABLE while the
   * peer is starting or the channel is in reconnect backoff. Default false (fail fast; the breaker sees it).
   */
  waitForReady?: boolean;
  /** Parent W3C trace context from an event (used when no `context` is given). */
  traceparent?: string;
  tracestate?: string;
}

export interface StreamOptions extends Omit<CallOptions, "attemptTimeoutMs" | "idempotent"> {
  /** Streams are long-lived; no deadline unless given. */
  deadlineMs?: number;
}

export interface RetrySettings {
  /** Total attempts including the first. Default 3. */
  maxAttempts: number;
  /** First backoff delay, ms. Default 50. */
  initialDelayMs: number;
  /** Cap on one backoff delay, ms. Default 1000. */
  maxDelayMs: number;
}

export interface BreakerSettings {
  /** Consecutive peer failures (UNAVAILABLE / DEADLINE_EXCEEDED / RESOURCE_EXHAUSTED) that open the circuit. Default 5. */
  consecutiveFailures: number;
  /** Time the circuit stays open before one half-open probe is let through, ms. Default 5000. */
  halfOpenAfterMs: number;
}

export interface ClientManagerOptions {
  discovery?: Discovery;
  /** Default deadline for unary calls, ms. Default 2000. */
  defaultDeadlineMs?: number;
  retry?: Partial<RetrySettings>;
  breaker?: Partial<BreakerSettings>;
  /** After this many consecutive UNAVAILABLE errors the endpoint is re-resolved (and the channel rebuilt if it moved). Default 3. */
  reresolveAfterUnavailable?: number;
  /** Extra grpc-js channel options (merged over the defaults: keepalive, fast reconnect). */
  channelOptions?: grpc.ChannelOptions;
  credentials?: grpc.ChannelCredentials;
  /** Per-service channel credentials (e.g. TLS + bearer token for the engine's control API), else `credentials`. */
  serviceCredentials?: Record<string, grpc.ChannelCredentials>;
  logger?: Pick<Logger, "info" | "warn" | "debug">;
  tracer?: Tracer;
  /** Per-method latency recorder. Default: a window of recent calls (lib/grpc/latency.ts); the quoter injects
   * hdrLatencyHistogram (lib/grpc/hdrLatency.ts). */
  latencyHistogram?: LatencyHistogramFactory;
}

export type BreakerStateName = "closed" | "open" | "half-open" | "isolated";

export interface MethodStats {
  count: number;
  errors: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  maxUs: number;
  meanUs: number;
}

export interface ServiceHealth {
  service: string;
  address: string | undefined;
  breaker: BreakerStateName;
  consecutiveUnavailable: number;
}

export const DEFAULT_CHANNEL_OPTIONS: grpc.ChannelOptions = {
  // Keepalive: detect dead peers on long-lived streams without tripping servers' ping policing.
  "grpc.keepalive_time_ms": 30_000,
  "grpc.keepalive_timeout_ms": 10_000,
  "grpc.keepalive_permit_without_calls": 0,
  // A trading peer coming back should be used within ~1 s, not grpc's default 120 s max backoff.
  "grpc.initial_reconnect_backoff_ms": 100,
  "grpc.max_reconnect_backoff_ms": 1_000,
};

interface ServiceState {
  name: string;
  breaker: CircuitBreakerPolicy;
  client: grpc.Client | undefined;
  address: string | undefined;
  connecting: Promise<grpc.Client> | undefined;
  consecutiveUnavailable: number;
  stale: boolean;
}

interface StatCell {
  count: number;
  errors: number;
  hist: LatencyHistogram;
}

const propagator = new W3CTraceContextPropagator();
const metadataSetter = {
  set(carrier: grpc.Metadata, key: string, value: string) {
    carrier.set(key, value);
  },
};

/** Errors that say the PEER is unwell (not the request): count for the breaker, retried for idempotent calls. */
function isPeerFailure(err: unknown): boolean {
  if (!isServiceError(err)) return false;
  // A request over the peer's size limit is the caller's fault: the peer answered.
  if (err.code === grpc.status.RESOURCE_EXHAUSTED && /message larger than max/i.test(err.details ?? "")) return false;
  return (
    err.code === grpc.status.UNAVAILABLE ||
    err.code === grpc.status.DEADLINE_EXCEEDED ||
    err.code === grpc.status.RESOURCE_EXHAUSTED
  );
}

/** Carries a non-peer failure through the breaker as a "success" (the peer answered). */
class Answered {
  constructor(readonly error: unknown) {}
}

/** A peer failure not to retry (the deadline budget is spent). */
class Final {
  constructor(readonly error: unknown) {}
}

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

/** server.address / server.port (semantic conventions) from a `host:port` target. */
function setServerAddress(span: Span, address: string | undefined): void {
  if (!address) return;
  const i = address.lastIndexOf(":");
  const host =
    i > 0
      ? address
          .slice(0, i)
          .replace(/^dns:(\/\/\/)?/, "")
          .replace(/^\[|\]$/g, "")
      : address;
  span.setAttribute("server.address", host);
  const port = i > 0 ? Number(address.slice(i + 1)) : Number.NaN;
  if (Number.isInteger(port)) span.setAttribute("server.port", port);
}

const rpcNameOf = (def: AnyMethodDefinition): string => def.path.slice(def.path.lastIndexOf("/") + 1);
const fullServiceOf = (def: AnyMethodDefinition): string => def.path.slice(1, def.path.lastIndexOf("/"));

export class ClientManager {
  readonly discovery: Discovery;
  private readonly defaultDeadlineMs: number;
  private readonly retrySettings: RetrySettings;
  private readonly breakerSettings: BreakerSettings;
  private readonly reresolveAfter: number;
  private readonly channelOptions: grpc.ChannelOptions;
  private readonly credentials: grpc.ChannelCredentials;
  private readonly serviceCredentials: Record<string, grpc.ChannelCredentials>;
  private readonly log: Pick<Logger, "info" | "warn" | "debug">;
  private readonly tracer: Tracer;
  private readonly newHistogram: LatencyHistogramFactory;
  private readonly services = new Map<string, ServiceState>();
  private readonly statCells = new Map<string, StatCell>();
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
    this.breakerSettings = {
      consecutiveFailures: positive(opts.breaker?.consecutiveFailures ?? 5, "breaker.consecutiveFailures"),
      halfOpenAfterMs: positive(opts.breaker?.halfOpenAfterMs ?? 5_000, "breaker.halfOpenAfterMs"),
    };
    this.reresolveAfter = positive(opts.reresolveAfterUnavailable ?? 3, "reresolveAfterUnavailable");
    this.channelOptions = { ...DEFAULT_CHANNEL_OPTIONS, ...(opts.channelOptions ?? {}) };
    this.newHistogram = opts.latencyHistogram ?? recentLatencyWindow;
    this.credentials = opts.credentials ?? grpc.credentials.createInsecure();
    this.serviceCredentials = { ...(opts.serviceCredentials ?? {}) };
    this.log = opts.logger ?? new Logger({ serviceName: "tse-grpc-client" });
    this.tracer = opts.tracer ?? contextualTracer("tse-grpc-client");
    this.tracerGiven = opts.tracer !== undefined;
    this.retryPolicy =
      this.retrySettings.maxAttempts > 1
        ? retry(handleWhen(isPeerFailure), {
            maxAttempts: this.retrySettings.maxAttempts - 1, // cockatiel counts retries, not attempts
            backoff: new ExponentialBackoff({
              initialDelay: this.retrySettings.initialDelayMs,
              maxDelay: this.retrySettings.maxDelayMs,
            }),
          })
        : undefined;
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
      return Promise.resolve(this.clientFor(state)).then(send);
    };
    // Only peer failures reach the breaker as failures; an answered business error is a sign of life.
    const throughBreaker = () =>
      state.breaker.execute(() =>
        attempt().then(undefined, (e: unknown) => {
          this.noteOutcome(state, e);
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
        this.noteOutcome(state, undefined);
        this.record(m, started, false);
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
    this.record(m, started, true);
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
        state: this.stateFor(spec.name),
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
    const state = this.stateFor(spec.name);
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
    const client = await this.clientFor(state);
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
        this.noteOutcome(state, err);
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
    for (const [name, s] of this.services) out[name] = breakerName(s.breaker.state);
    return out;
  }

  breakerState(service: ServiceName): BreakerStateName {
    return breakerName(this.stateFor(service).breaker.state);
  }

  health(): ServiceHealth[] {
    return [...this.services.values()].map((s) => ({
      service: s.name,
      address: s.address,
      breaker: breakerName(s.breaker.state),
      consecutiveUnavailable: s.consecutiveUnavailable,
    }));
  }

  /** Per-method stats keyed "service.Method" (latency of the whole call incl. retries, microseconds). */
  stats(): Record<string, MethodStats> {
    const out: Record<string, MethodStats> = {};
    for (const [key, c] of this.statCells) {
      out[key] = {
        count: c.count,
        errors: c.errors,
        p50Us: c.hist.getValueAtPercentile(50),
        p90Us: c.hist.getValueAtPercentile(90),
        p99Us: c.hist.getValueAtPercentile(99),
        maxUs: c.hist.maxValue,
        meanUs: Math.round(c.hist.mean),
      };
    }
    return out;
  }

  resetStats(): void {
    for (const c of this.statCells.values()) c.hist.destroy();
    this.statCells.clear();
  }

  /** Subscribe to breaker transitions (e.g. to log or publish metrics). Returns an unsubscribe function. */
  onBreakerChange(service: ServiceName, listener: (state: BreakerStateName) => void): () => void {
    const d = this.stateFor(service).breaker.onStateChange((s) => listener(breakerName(s)));
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
    for (const s of this.services.values()) {
      s.client?.close();
      s.client = undefined;
    }
  }

  /** Unary calls currently in flight. */
  get inflightCalls(): number {
    return this.inflight;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private startSpan(service: string, def: AnyMethodDefinition, opts: CallOptions) {
    const rpc = rpcNameOf(def);
    const full = fullServiceOf(def);
    let parent = opts.context;
    if (!parent && opts.traceparent) {
      const carrier: Record<string, string> = { traceparent: opts.traceparent };
      if (opts.tracestate) carrier.tracestate = opts.tracestate;
      parent = propagator.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter);
    }
    parent ??= activeOrUnsampled();
    const span = this.tracer.startSpan(
      `${full}/${rpc}`,
      {
        kind: SpanKind.CLIENT,
        attributes: { "rpc.system": "grpc", "rpc.service": full, "rpc.method": rpc, "peer.service": service },
      },
      parent,
    );
    const metadata = opts.metadata ? opts.metadata.clone() : new grpc.Metadata();
    if (opts.waitForReady) metadata.setOptions({ ...metadata.getOptions(), waitForReady: true });
    propagator.inject(trace.setSpan(parent, span), metadata, metadataSetter);
    return { span, metadata };
  }

  private stateFor(name: string): ServiceState {
    let s = this.services.get(name);
    if (!s) {
      const breaker = circuitBreaker(handleWhen(isPeerFailure), {
        halfOpenAfter: this.breakerSettings.halfOpenAfterMs,
        breaker: new ConsecutiveBreaker(this.breakerSettings.consecutiveFailures),
      });
      const state: ServiceState = {
        name,
        breaker,
        client: undefined,
        address: undefined,
        connecting: undefined,
        consecutiveUnavailable: 0,
        stale: false,
      };
      breaker.onStateChange((st) =>
        this.log.warn("circuit breaker state changed", { service: name, state: breakerName(st) }),
      );
      this.services.set(name, state);
      s = state;
    }
    return s;
  }

  private clientFor(state: ServiceState): Promise<grpc.Client> | grpc.Client {
    if (this.closed) {
      throw new ClientClosedError(`client manager closed`, state.name, "*", grpc.status.CANCELLED, "closed");
    }
    if (state.client && !state.stale) return state.client;
    state.connecting ??= this.connect(state).finally(() => {
      state.connecting = undefined;
    });
    return state.connecting;
  }

  private async connect(state: ServiceState): Promise<grpc.Client> {
    const refresh = state.stale;
    const resolved = await this.discovery.resolve(state.name, { refresh });
    state.stale = false;
    if (state.client && state.address === resolved.address) return state.client;
    if (state.client) {
      this.log.info("endpoint moved; rebuilding channel", {
        service: state.name,
        from: state.address,
        to: resolved.address,
      });
      state.client.close();
    }
    const creds = this.serviceCredentials[state.name] ?? this.credentials;
    state.client = new grpc.Client(resolved.address, creds, this.channelOptions);
    state.address = resolved.address;
    return state.client;
  }

  /** Tracks consecutive UNAVAILABLE per service; after N, the endpoint is re-resolved on the next call. */
  private noteOutcome(state: ServiceState, err: unknown): void {
    if (isServiceError(err) && err.code === grpc.status.UNAVAILABLE) {
      state.consecutiveUnavailable++;
      if (state.consecutiveUnavailable >= this.reresolveAfter && !state.stale) {
        state.stale = true;
        this.discovery.invalidate(state.name);
        this.log.warn("peer unavailable repeatedly; will re-resolve endpoint", {
          service: state.name,
          address: state.address,
          consecutiveUnavailable: state.consecutiveUnavailable,
        });
      }
    } else {
      state.consecutiveUnavailable = 0;
    }
  }

  private record(m: MethodEntry, startedMs: number, error: boolean): void {
    let cell = m.cell;
    if (!cell || this.statCells.get(m.key) !== cell) {
      cell = this.statCells.get(m.key);
      if (!cell) {
        cell = { count: 0, errors: 0, hist: this.newHistogram() };
        this.statCells.set(m.key, cell);
      }
      m.cell = cell;
    }
    cell.count++;
    if (error) cell.errors++;
    cell.hist.recordValue(Math.max(1, Math.round((performance.now() - startedMs) * 1000)));
  }
}

function breakerName(s: CircuitState): BreakerStateName {
  switch (s) {
    case CircuitState.Closed:
      return "closed";
    case CircuitState.Open:
      return "open";
    case CircuitState.HalfOpen:
      return "half-open";
    default:
      return "isolated";
  }
}

function positive(v: number, field: string): number {
  if (!Number.isFinite(v) || v <= 0) throw new RangeError(`${field} must be a positive number, got ${String(v)}`);
  return v;
}
