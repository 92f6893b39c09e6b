// Test helper: promise wrappers over raw ts-proto grpc-js clients, with a deadline on every call.
import {
  type CallOptions,
  type Client,
  type ClientReadableStream,
  type ClientUnaryCall,
  credentials,
  Metadata,
  type ServiceError,
} from "@grpc/grpc-js";

type UnaryMethods<C> = {
  [K in keyof C as C[K] extends (...args: never[]) => ClientUnaryCall ? K : never]: C[K] extends (
    req: infer Req,
    md: Metadata,
    opts: Partial<CallOptions>,
    cb: (e: ServiceError | null, r: infer Res) => void,
  ) => ClientUnaryCall
    ? (req: Req) => Promise<Res>
    : never;
};

/** `await rpc(client).placeOrder(req)`; rejects with the grpc ServiceError. */
export function rpc<C extends Client>(client: C, deadlineMs = 5_000): UnaryMethods<C> {
  return new Proxy({} as UnaryMethods<C>, {
    get(_t, name: string) {
      return (req: unknown) =>
        new Promise((resolve, reject) => {
          const fn = (client as unknown as Record<string, (...a: unknown[]) => unknown>)[name]!;
          fn.call(
            client,
            req,
            new Metadata(),
            { deadline: Date.now() + deadlineMs },
            (err: ServiceError | null, res: unknown) => (err ? reject(err) : resolve(res)),
          );
        });
    },
  });
}

export function connect<C>(
  Ctor: new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => C,
  address: string,
): C {
  return new Ctor(address, credentials.createInsecure());
}

/** Collect n messages from a server stream (or fail after timeoutMs), then cancel it. */
export function take<T>(stream: ClientReadableStream<T>, n: number, timeoutMs = 5_000): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const out: T[] = [];
    const timer = setTimeout(() => {
      stream.cancel();
      reject(new Error(`timed out after ${timeoutMs} ms with ${out.length}/${n} messages`));
    }, timeoutMs);
    stream.on("data", (m: T) => {
      out.push(m);
      if (out.length === n) {
        clearTimeout(timer);
        stream.cancel();
        resolve(out);
      }
    });
    stream.on("error", (e: ServiceError) => {
      if (out.length >= n) return;
      clearTimeout(timer);
      reject(e);
    });
    stream.on("end", () => {
      clearTimeout(timer);
      if (out.length < n) resolve(out);
    });
  });
}

/** Expect a promise to reject with a gRPC status; returns the error for further checks. */
export async function rejectsWith(p: Promise<unknown>, code: number): Promise<ServiceError> {
  try {
    await p;
  } catch (e) {
    const err = e as ServiceError;
    if (err.code !== code) throw new Error(`expected code ${code}, got ${err.code}: ${err.message}`);
    return err;
  }
  throw new Error(`expected gRPC status ${code}, call succeeded`);
}
