// A gRPC client that speaks only bytes built from the upstream layout table (no generated code): what a client
// generated from upstream's proto sends and reads.
import { Client, credentials, type ServiceError } from "@grpc/grpc-js";
import { UPSTREAM_MESSAGES, UPSTREAM_METHODS } from "../fixtures/upstream/layout";
import { type Decoded, decodeByLayout, encodeByLayout } from "./protoLayout";

const raw = (b: Buffer) => b;

export class LayoutClient {
  readonly client: Client;
  constructor(address: string) {
    this.client = new Client(address, credentials.createInsecure());
  }

  close(): void {
    this.client.close();
  }

  unary(path: string, req: Decoded): Promise<Decoded> {
    const [reqType, resType] = UPSTREAM_METHODS[path]!;
    const body = Buffer.from(encodeByLayout(UPSTREAM_MESSAGES, reqType, req));
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(path, raw, raw, body, { deadline: Date.now() + 5_000 }, (err, res) => {
        if (err) reject(err);
        else {
          try {
            resolve(decodeByLayout(UPSTREAM_MESSAGES, resType, res!));
          } catch (e) {
            reject(e);
          }
        }
      });
    });
  }

  /** Up to n messages (or all, if the server ends first), decoded by the layout; rejects on a layout error. */
  stream(path: string, req: Decoded, n: number, timeoutMs = 10_000): Promise<Decoded[]> {
    const [reqType, resType] = UPSTREAM_METHODS[path]!;
    const body = Buffer.from(encodeByLayout(UPSTREAM_MESSAGES, reqType, req));
    return new Promise((resolve, reject) => {
      const out: Decoded[] = [];
      const call = this.client.makeServerStreamRequest(path, raw, raw, body, { deadline: Date.now() + timeoutMs });
      let done = false;
      const finish = (err?: unknown) => {
        if (done) return;
        done = true;
        call.cancel();
        if (err) reject(err);
        else resolve(out);
      };
      call.on("data", (b: Buffer) => {
        try {
          out.push(decodeByLayout(UPSTREAM_MESSAGES, resType, b));
        } catch (e) {
          finish(e);
          return;
        }
        if (out.length >= n) finish();
      });
      call.on("error", (e: ServiceError) => (out.length >= n ? finish() : finish(e)));
      call.on("end", () => finish());
    });
  }
}
