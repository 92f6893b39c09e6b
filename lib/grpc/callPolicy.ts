// The unary call policies: which errors are the peer's (breaker + retry), the retry policy, the per-service breaker.
import * as grpc from "@grpc/grpc-js";
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
import type { BreakerSettings, BreakerStateName, RetrySettings } from "./clientTypes";
import { isServiceError } from "./errors";

/** Errors that say the PEER is unwell (not the request): count for the breaker, retried for idempotent calls. */
export function isPeerFailure(err: unknown): boolean {
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
export class Answered {
  constructor(readonly error: unknown) {}
}

/** A peer failure not to retry (the deadline budget is spent). */
export class Final {
  constructor(readonly error: unknown) {}
}

/** The retry policy of idempotent calls, built once (undefined when retries are off). */
export function idempotentRetryPolicy(settings: RetrySettings): RetryPolicy | undefined {
  return settings.maxAttempts > 1
    ? retry(handleWhen(isPeerFailure), {
        maxAttempts: settings.maxAttempts - 1, // cockatiel counts retries, not attempts
        backoff: new ExponentialBackoff({
          initialDelay: settings.initialDelayMs,
          maxDelay: settings.maxDelayMs,
        }),
      })
    : undefined;
}

/** One service's breaker: opens on consecutive peer failures only. */
export function serviceBreaker(settings: BreakerSettings): CircuitBreakerPolicy {
  return circuitBreaker(handleWhen(isPeerFailure), {
    halfOpenAfter: settings.halfOpenAfterMs,
    breaker: new ConsecutiveBreaker(settings.consecutiveFailures),
  });
}

export function breakerName(s: CircuitState): BreakerStateName {
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

export function positive(v: number, field: string): number {
  if (!Number.isFinite(v) || v <= 0) throw new RangeError(`${field} must be a positive number, got ${String(v)}`);
  return v;
}
