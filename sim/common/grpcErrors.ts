// gRPC status errors the simulators answer with. INVALID_ARGUMENT always names the field and the value.
import { Metadata, type ServiceError, status } from "@grpc/grpc-js";
import { InvalidFieldError } from "../../lib/domain/errors";

export class SimRpcError extends Error implements Partial<ServiceError> {
  readonly metadata = new Metadata();
  constructor(
    readonly code: status,
    message: string,
    readonly details = message,
  ) {
    super(message);
    this.name = "SimRpcError";
  }
}

function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" && Number.isNaN(value)) return "NaN";
  return String(value);
}

/** INVALID_ARGUMENT naming the field and the offending value, e.g. `invalid quantity="-1": must be > 0`. */
export function invalidArgument(field: string, value: unknown, reason: string): SimRpcError {
  const err = new SimRpcError(status.INVALID_ARGUMENT, `invalid ${field}=${show(value)}: ${reason}`);
  err.metadata.set("field", field);
  err.metadata.set("value", show(value));
  return err;
}

export function notFound(what: string, id: string): SimRpcError {
  return new SimRpcError(status.NOT_FOUND, `${what} not found: ${JSON.stringify(id)}`);
}

export function unavailable(message: string): SimRpcError {
  return new SimRpcError(status.UNAVAILABLE, message);
}

/** Map anything thrown by a handler to a ServiceError-shaped object for grpc-js callbacks. */
export function toServiceError(err: unknown): Partial<ServiceError> {
  if (err instanceof SimRpcError) return err;
  if (err instanceof InvalidFieldError) return invalidArgument(err.field, err.value, err.reason);
  const e = err instanceof Error ? err : new Error(String(err));
  return Object.assign(new Error(e.message), { code: status.INTERNAL, details: e.message, metadata: new Metadata() });
}
