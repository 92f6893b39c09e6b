// Typed errors of the gRPC client layer. Every error names the peer service and method so callers
// (and logs) can tell WHICH dependency failed without parsing messages.
import { status as GrpcStatus, type ServiceError } from "@grpc/grpc-js";
import { BrokenCircuitError, IsolatedCircuitError } from "cockatiel";

export type GrpcErrorKind =
  | "unavailable"
  | "deadline"
  | "invalid-argument"
  | "rejected"
  | "circuit-open"
  | "not-found"
  | "other";

/** Base class: `service` is the logical peer name ("exchange"), `method` the RPC name ("PlaceOrder"). */
export class GrpcClientError extends Error {
  readonly kind: GrpcErrorKind = "other";
  constructor(
    message: string,
    readonly service: string,
    readonly method: string,
    /** grpc status code (`@grpc/grpc-js` `status`), or undefined when no call was made (circuit open). */
    readonly code: GrpcStatus | undefined,
    readonly details: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
  /** Peer-side failures that say nothing about the request itself: safe to retry (idempotent calls) and breaker-relevant. */
  get transient(): boolean {
    return this.kind === "unavailable" || this.kind === "deadline";
  }
}

/** UNAVAILABLE (peer down, connection refused/dropped) — also RESOURCE_EXHAUSTED/ABORTED/INTERNAL transport failures. */
export class PeerUnavailableError extends GrpcClientError {
  override readonly kind = "unavailable" as const;
}
/** DEADLINE_EXCEEDED: the call did not complete within its deadline (it MAY have taken effect on the peer). */
export class DeadlineExceededError extends GrpcClientError {
  override readonly kind = "deadline" as const;
}
/** INVALID_ARGUMENT / OUT_OF_RANGE: the request is bad; retrying will not help. */
export class InvalidArgumentError extends GrpcClientError {
  override readonly kind = "invalid-argument" as const;
}
/** FAILED_PRECONDITION / ALREADY_EXISTS / PERMISSION_DENIED: a business rejection (insufficient funds, halted, …). */
export class RejectedError extends GrpcClientError {
  override readonly kind = "rejected" as const;
}
/** NOT_FOUND: e.g. GetOrder for an unknown order id. */
export class NotFoundError extends GrpcClientError {
  override readonly kind = "not-found" as const;
}
/** The per-service circuit breaker is open: the call was NOT sent. */
export class CircuitOpenError extends GrpcClientError {
  override readonly kind = "circuit-open" as const;
}
/** The ClientManager was closed: no further calls (streams stop reconnecting). */
export class ClientClosedError extends GrpcClientError {}
/** Any other status (CANCELLED, UNIMPLEMENTED, UNKNOWN, …). */
export class GrpcCallError extends GrpcClientError {}

export function isServiceError(err: unknown): err is ServiceError {
  return (
    typeof err === "object" &&
    err !== null &&
    typeof (err as { code?: unknown }).code === "number" &&
    "details" in err &&
    "metadata" in err
  );
}

const statusName = (code: number): string => GrpcStatus[code] ?? String(code);

/** Maps anything thrown by a grpc-js call (or by cockatiel's breaker) to a typed GrpcClientError. Idempotent. */
export function toClientError(err: unknown, service: string, method: string): GrpcClientError {
  if (err instanceof GrpcClientError) return err;
  if (err instanceof BrokenCircuitError || err instanceof IsolatedCircuitError) {
    return new CircuitOpenError(
      `${service}.${method}: circuit open for service "${service}", call not sent`,
      service,
      method,
      undefined,
      "circuit open",
      { cause: err },
    );
  }
  if (!isServiceError(err)) {
    const message = err instanceof Error ? err.message : String(err);
    return new GrpcCallError(`${service}.${method}: ${message}`, service, method, undefined, message, { cause: err });
  }
  const code = err.code;
  const details = err.details ?? "";
  const message = `${service}.${method} failed: ${statusName(code)}: ${details}`;
  const opts = { cause: err };
  // A request over the peer's message-size limit is our bad input, not a peer failure: never retried or tripping.
  if (code === GrpcStatus.RESOURCE_EXHAUSTED && /message larger than max/i.test(details))
    return new InvalidArgumentError(message, service, method, code, details, opts);
  switch (code) {
    case GrpcStatus.UNAVAILABLE:
    case GrpcStatus.RESOURCE_EXHAUSTED:
    case GrpcStatus.ABORTED:
      return new PeerUnavailableError(message, service, method, code, details, opts);
    case GrpcStatus.DEADLINE_EXCEEDED:
      return new DeadlineExceededError(message, service, method, code, details, opts);
    case GrpcStatus.INVALID_ARGUMENT:
    case GrpcStatus.OUT_OF_RANGE:
      return new InvalidArgumentError(message, service, method, code, details, opts);
    case GrpcStatus.FAILED_PRECONDITION:
    case GrpcStatus.ALREADY_EXISTS:
    case GrpcStatus.PERMISSION_DENIED:
      return new RejectedError(message, service, method, code, details, opts);
    case GrpcStatus.NOT_FOUND:
      return new NotFoundError(message, service, method, code, details, opts);
    default:
      return new GrpcCallError(message, service, method, code, details, opts);
  }
}
