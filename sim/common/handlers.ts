// Adapters from async functions to grpc-js handlers, mapping thrown errors to gRPC statuses.
import type {
  handleServerStreamingCall,
  handleUnaryCall,
  ServerUnaryCall,
  ServerWritableStream,
  ServiceError,
} from "@grpc/grpc-js";
import { checkMessageBounds, defaultStringBounds, type StringBounds } from "../../lib/domain/bounds";
import { toServiceError } from "./grpcErrors";

/** Every request's strings are bounded (free text 256, ids 128) before the handler runs; `bounds` widens some. */
export function unary<Req, Res>(
  fn: (req: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res> | Res,
  bounds: StringBounds = defaultStringBounds,
): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    Promise.resolve()
      .then(() => {
        checkMessageBounds(call.request, bounds);
        return fn(call.request, call);
      })
      .then(
        (res) => callback(null, res),
        (err: unknown) => callback(toServiceError(err) as ServiceError),
      );
  };
}

/** Tracks open server streams so stop() can end them (tryShutdown waits for open calls). */
export class StreamRegistry {
  private readonly open = new Set<ServerWritableStream<unknown, unknown>>();

  add<Req, Res>(call: ServerWritableStream<Req, Res>, onClose: () => void): void {
    const c = call as unknown as ServerWritableStream<unknown, unknown>;
    this.open.add(c);
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      this.open.delete(c);
      onClose();
    };
    call.on("cancelled", close);
    call.on("close", close);
    call.on("error", close);
    call.on("finish", close);
  }

  get size(): number {
    return this.open.size;
  }

  endAll(): void {
    for (const c of [...this.open]) {
      c.emit("cancelled");
      c.end();
    }
  }
}

export function streaming<Req, Res>(
  fn: (call: ServerWritableStream<Req, Res>) => void | Promise<void>,
): handleServerStreamingCall<Req, Res> {
  return (call) => {
    Promise.resolve()
      .then(() => {
        checkMessageBounds(call.request);
        return fn(call);
      })
      .catch((err: unknown) => call.emit("error", toServiceError(err) as ServiceError));
  };
}
