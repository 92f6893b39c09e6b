// The client layer's option, spec and result types (ClientManager.ts re-exports them).
import type { Logger } from "@aws-lambda-powertools/logger";
import type * as grpc from "@grpc/grpc-js";
import type { Context, Tracer } from "@opentelemetry/api";
import type { Discovery, ServiceName } from "./discovery";
import type { LatencyHistogramFactory } from "./latency";

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
