// A real gRPC server on loopback that answers marketdata.MarketDataService with the bytes captured from the
// upstream server (test/fixtures/upstream/captures.json), and offers nothing else: like upstream, our
// tse.marketdata.QuoteService is UNIMPLEMENTED there. StreamPrices replays the captured updates in a loop, with
// optional extra messages (e.g. malformed ones) after each round.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Server, ServerCredentials, type ServerWritableStream, type ServiceDefinition } from "@grpc/grpc-js";
import type { Capture } from "../../scripts/capture-upstream-market-data";

const doc = JSON.parse(
  readFileSync(join(import.meta.dirname, "..", "fixtures", "upstream", "captures.json"), "utf8"),
) as {
  captures: Capture[];
};
export function capturedResponses(method: string): Buffer[] {
  return doc.captures
    .find((c) => c.method === `/marketdata.MarketDataService/${method}`)!
    .responses.map((r) => Buffer.from(r, "base64"));
}

const raw = (b: Buffer) => b;
const method = (name: string, stream: boolean) => ({
  path: `/marketdata.MarketDataService/${name}`,
  requestStream: false,
  responseStream: stream,
  requestSerialize: raw,
  requestDeserialize: raw,
  responseSerialize: raw,
  responseDeserialize: raw,
});

export interface ReplayServer {
  address: string;
  /** StreamPrices calls opened. */
  streamCalls: number;
  stop(): Promise<void>;
}

export async function startUpstreamReplay(
  opts: { intervalMs?: number; extraPerRound?: Buffer[] } = {},
): Promise<ReplayServer> {
  const prices = capturedResponses("StreamPrices");
  const server = new Server();
  const timers = new Set<NodeJS.Timeout>();
  const state: ReplayServer = { address: "", streamCalls: 0, stop: async () => {} };
  const definition = {
    GetPrice: method("GetPrice", false),
    HealthCheck: method("HealthCheck", false),
    StreamPrices: method("StreamPrices", true),
  } as unknown as ServiceDefinition;
  server.addService(definition, {
    GetPrice: (_c: unknown, cb: (e: null, r: Buffer) => void) => cb(null, capturedResponses("GetPrice")[0]!),
    HealthCheck: (_c: unknown, cb: (e: null, r: Buffer) => void) => cb(null, capturedResponses("HealthCheck")[0]!),
    StreamPrices: (call: ServerWritableStream<Buffer, Buffer>) => {
      state.streamCalls++;
      const round = [...prices, ...(opts.extraPerRound ?? [])];
      let i = 0;
      const t = setInterval(() => {
        call.write(round[i % round.length]!);
        i++;
      }, opts.intervalMs ?? 5);
      timers.add(t);
      call.on("cancelled", () => {
        clearInterval(t);
        timers.delete(t);
      });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  state.address = `127.0.0.1:${port}`;
  state.stop = async () => {
    for (const t of timers) clearInterval(t);
    server.forceShutdown();
  };
  return state;
}
