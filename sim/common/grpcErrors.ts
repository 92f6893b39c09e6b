// gRPC status errors the simulators answer with. INVALID_ARGUMENT always names the field and the value.
import { Metadata, type ServiceError, status } from "@grpc/grpc-js";
import { MAX_ID_CHARS, preview, wellFormed } from "../../lib/domain/bounds";
import { InvalidFieldError } from "../../lib/domain/errors";

export class SimRpcError extends Error implements Partial<ServiceError> {
  readonly metadata = new Metadata();
  constructor(
    readonly code: status,
    message: string,
    readonly details = wellFormed(message),
  ) {
    super(wellFormed(message));
    this.name = "SimRpcError";
  }
}

/** At most 64 characters of a value (a status never echoes unbounded input). */
function show(value: unknown): string {
  if (typeof value === "number" && Number.isNaN(value)) return "NaN";
  const p = preview(value);
  return typeof value === "string" ? JSON.stringify(p) : p;
}

/** Metadata values must be printable ASCII, or the status itself fails to send. */
const asciiMeta = (s: string) => s.replace(/[^\x20-\x7e]/g, "?");

/** INVALID_ARGUMENT naming the field and the offending value, e.g. `invalid quantity="-1": must be > 0`. */
export function invalidArgument(field: string, value: unknown, reason: string): SimRpcError {
  const f = preview(field, MAX_ID_CHARS);
  const err = new SimRpcError(status.INVALID_ARGUMENT, `invalid ${f}=${show(value)}: ${preview(reason, 256)}`);
  err.metadata.set("field", asciiMeta(f));
  err.metadata.set("value", asciiMeta(show(value)));
  return err;
}

export function notFound(what: string, id: string): SimRpcError {
  return new SimRpcError(status.NOT_FOUND, `${what} not found: ${JSON.stringify(preview(id))}`);
}

export function unavailable(message: string): SimRpcError {
  return new SimRpcError(status.UNAVAILABLE, message);
}

/** Map anything thrown by a handler to a ServiceError-shaped object for grpc-js callbacks. */
export function toServiceError(err: unknown): Partial<ServiceError> {
  if (err instanceof SimRpcError) return err;
  if (err instanceof InvalidFieldError) return invalidArgument(err.field, err.value, err.reason);
  const e = err instanceof Error ? err : new Error(String(err));
  const message = wellFormed(preview(e.message, 256));
  return Object.assign(new Error(message), { code: status.INTERNAL, details: message, metadata: new Metadata() });
}
