// gRPC latency on loopback, measured in the same run:
//  - grpc.place_order_*: PlaceOrder through ExchangeClient (ClientManager: deadline, breaker, retry wrapper,
//    stats, span, traceparent) against the exchange simulator (validation, dedup, matching);
//  - grpc.echo_*: a bare grpc-js unary echo (identity serializers) — the transport floor.
// Same method for both: sequential calls, warm-up discarded, N runs of ≥2000 calls, medians of the per-run p50/p99.
import { performance } from "node:perf_hooks";
import * as grpc from "@grpc/grpc-js";
import Decimal from "decimal.js";
import { OrderStatus } from "../gen/proto/tse/exchange/exchange";
import { ClientManager } from "../lib/grpc/ClientManager";
import { Discovery } from "../lib/grpc/discovery";
import { ExchangeClient } from "../lib/grpc/ExchangeClient";
import { ExchangeSimulator } from "../sim/exchange/ExchangeSimulator";

const RUNS = 5;
const CALLS = 2_000;
const WARMUP = 500;

const identity = (b: Buffer) => b;
const ECHO = {
  echo: {
    path: "/bench.Echo/Echo",
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
} satisfies grpc.ServiceDefinition;

function percentile(sorted: number[], p: number): number {
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx] ?? Number.NaN;
}

const median = (xs: number[]) =>
  percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );

async function measure(call: (i: number) => Promise<unknown>, offset: number): Promise<{ p50: number; p99: number }> {
  const samples = new Array<number>(CALLS);
  for (let i = 0; i < CALLS; i++) {
    const t0 = performance.now();
    await call(offset + i);
    samples[i] = (performance.now() - t0) * 1000;
  }
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
}

async function startEcho(): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server();
  server.addService(ECHO, {
    echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, call.request),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  return { server, port };
}

export async function run(progress: (m: string) => void): Promise<Record<string, number>> {
  // Exchange simulator + client through the full client layer.
  const exchange = new ExchangeSimulator({ quiet: true });
  const exPort = await exchange.start(0);
  const manager = new ClientManager({
    discovery: new Discovery({ explicit: { exchange: `127.0.0.1:${exPort}` }, env: {} }),
    logger: { info() {}, warn() {}, debug() {} },
  });
  const client = new ExchangeClient(manager);

  // Far-below-market IOC buys: the full PlaceOrder path (validate, dedup, match) that expires without
  // filling, so balances and the book do not drift between runs.
  const instruments = await client.listInstruments();
  const inst = instruments.instruments.find((i) => i.symbol === "BTC-USD") ?? instruments.instruments[0];
  const venue = instruments.venues[0]?.venue;
  if (!inst || !venue) throw new Error("exchange simulator lists no instruments/venues");
  const price = new Decimal(inst.tickSize).mul(10);
  const qty = new Decimal(inst.lotSize).mul(
    Decimal.max(1, new Decimal(inst.minNotional).div(price).div(inst.lotSize).ceil()),
  );
  const runId = Date.now().toString(36);
  const place = (i: number) =>
    client.placeOrder({
      clientOrderId: `bench-${runId}-${i}`,
      venue,
      symbol: inst.symbol,
      side: "BUY",
      type: "LIMIT",
      timeInForce: "IOC",
      price,
      quantity: qty,
      strategyId: "bench",
    });

  // Bare echo with a payload the size of an encoded PlaceOrderRequest.
  const echo = await startEcho();
  const bare = new grpc.Client(`127.0.0.1:${echo.port}`, grpc.credentials.createInsecure());
  const payload = Buffer.alloc(96, 7);
  const echoCall = () =>
    new Promise<Buffer>((resolve, reject) =>
      bare.makeUnaryRequest(
        ECHO.echo.path,
        identity,
        identity,
        payload,
        new grpc.Metadata(),
        { deadline: Date.now() + 2_000 },
        (e, v) => (e ? reject(e) : resolve(v as Buffer)),
      ),
    );

  const echoSpec = { name: "bench-echo", definition: ECHO, methods: { echo: { idempotent: true } } };
  const echoManager = new ClientManager({
    discovery: new Discovery({ explicit: { "bench-echo": `127.0.0.1:${echo.port}` }, env: {} }),
    logger: { info() {}, warn() {}, debug() {} },
  });
  const echoViaManager = () => echoManager.unary(echoSpec, "echo", payload);

  try {
    for (let i = 0; i < WARMUP; i++) {
      const res = await place(-1 - i);
      // The timed path must be the accepted-then-expired one, not a rejection shortcut.
      if (res.order?.status !== OrderStatus.EXPIRED) {
        throw new Error(`bench order not EXPIRED: ${res.order?.status} ${res.order?.rejectReason}`);
      }
      await echoCall();
      await echoViaManager();
    }
    const po: { p50: number; p99: number }[] = [];
    const ec: { p50: number; p99: number }[] = [];
    const em: { p50: number; p99: number }[] = [];
    for (let r = 0; r < RUNS; r++) {
      // Interleave the two so machine noise hits both alike.
      po.push(await measure(place, r * CALLS));
      ec.push(await measure(echoCall, 0));
      em.push(await measure(echoViaManager, 0));
      progress(
        `run ${r + 1}/${RUNS}: place_order p50 ${po[r]?.p50.toFixed(0)} µs p99 ${po[r]?.p99.toFixed(0)} µs; echo p50 ${ec[r]?.p50.toFixed(0)} µs p99 ${ec[r]?.p99.toFixed(0)} µs; echo via ClientManager p50 ${em[r]?.p50.toFixed(0)} µs`,
      );
    }
    const stats = manager.stats()["exchange.PlaceOrder"];
    if (!stats || stats.errors > 0) throw new Error(`PlaceOrder errors during the bench: ${JSON.stringify(stats)}`);
    const poP50 = median(po.map((x) => x.p50));
    const ecP50 = median(ec.map((x) => x.p50));
    return {
      "grpc.place_order_p50_us": Math.round(poP50),
      "grpc.place_order_p99_us": Math.round(median(po.map((x) => x.p99))),
      "grpc.echo_p50_us": Math.round(ecP50),
      "grpc.echo_p99_us": Math.round(median(ec.map((x) => x.p99))),
      "grpc.place_order_vs_echo_p50": Number((poP50 / ecP50).toFixed(2)),
      // The same echo through ClientManager: what the client layer itself adds.
      "grpc.echo_via_client_manager_p50_us": Math.round(median(em.map((x) => x.p50))),
      "grpc.echo_via_client_manager_p99_us": Math.round(median(em.map((x) => x.p99))),
    };
  } finally {
    bare.close();
    await manager.close();
    await echoManager.close();
    await new Promise<void>((resolve) => echo.server.tryShutdown(() => resolve()));
    await exchange.stop();
  }
}
