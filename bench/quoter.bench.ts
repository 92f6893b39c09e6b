// Wire-to-wire latency of the quoter, measured at the simulators on one clock (process.hrtime in this process):
// from the moment a market-data tick is written to the moment the order it causes arrives at the exchange
// simulator. The echo floor is measured in the same run: a minimal grpc-js client process that answers each tick
// with a fixed order. Both run as separate Node processes (node --import tsx), subscribed to their own feed server.
//
// The feed is a bench QuoteService server (same proto, StreamQuotes only) so the write instant is known; the
// exchange is the real ExchangeSimulator (empty book), its engine's placeOrder wrapped to timestamp arrivals.
// Every tick moves the mid by 50 USD (≈ 7.7 bps, beyond the 2 bps refresh tolerance), so every tick makes the
// quoter cancel and replace both quotes; the first PlaceOrder caused by a tick gives that tick's latency.
// A third process, the same quoter with OTLP tracing at a 1 % traceidratio sampler, gives the tracing cost.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:http";
import { get as httpsGet } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { Server, ServerCredentials, type ServerWritableStream } from "@grpc/grpc-js";
import * as hdr from "hdr-histogram-js";
import type { PlaceOrderRequest } from "../gen/proto/tse/exchange/exchange";
import { type L1Quote, QuoteServiceService, type StreamQuotesRequest } from "../gen/proto/tse/marketdata/quotes";
import { generateLocalControlCredentials } from "../quoter/control/credentials";
import { ExchangeSimulator } from "../sim/exchange/ExchangeSimulator";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
// 4 rounds × 5 000 quoter ticks = 20 000 at a steady 200 ticks/s; the echo floor gets a quarter as many per round
// (same rate, interleaved rounds) to keep the whole bench under ~3 minutes.
const TICKS_PER_ROUND = Number(process.env.QUOTER_BENCH_TICKS ?? 5_000);
const ECHO_TICKS_PER_ROUND = Number(process.env.QUOTER_BENCH_ECHO_TICKS ?? Math.ceil(TICKS_PER_ROUND / 4));
const ROUNDS = Number(process.env.QUOTER_BENCH_ROUNDS ?? 4);
const WARMUP = Number(process.env.QUOTER_BENCH_WARMUP ?? 1_000);
const TICK_INTERVAL_MS = Number(process.env.QUOTER_BENCH_INTERVAL_MS ?? 5);
// Mid levels: BASE_MID + LEVEL_STEP × level, level on a triangle wave 0..7..0; a 50 USD step (≈ 7.7 bps) is beyond the
// 2 bps refresh tolerance but inside the 10 bps quoted spread, so a replacement never crosses the old opposite quote.
const BASE_MID = 65_000;
const LEVEL_STEP = 50;
const LEVELS = 8;
// Quoted half-spread at 10 bps around ~65 000, in USD (only used to map a quote price back to its mid level).
const HALF_SPREAD = 32.5;
const levelOf = (seq: number) => {
  const k = seq % (2 * (LEVELS - 1));
  return k < LEVELS ? k : 2 * (LEVELS - 1) - k;
};

class Feed {
  private readonly calls = new Set<ServerWritableStream<StreamQuotesRequest, L1Quote>>();
  private server: Server | undefined;
  port = 0;
  async start(): Promise<void> {
    const server = new Server();
    server.addService(QuoteServiceService, {
      streamQuotes: (call: ServerWritableStream<StreamQuotesRequest, L1Quote>) => {
        this.calls.add(call);
        call.on("cancelled", () => this.calls.delete(call));
      },
    });
    this.port = await new Promise<number>((res, rej) =>
      server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))),
    );
    this.server = server;
  }
  get subscribers(): number {
    return this.calls.size;
  }
  write(q: L1Quote): void {
    for (const c of this.calls) c.write(q);
  }
  stop(): void {
    for (const c of this.calls) c.end();
    this.server?.forceShutdown();
  }
}

function spawnChild(script: string, env: Record<string, string>, readyEvent: string): Promise<ChildProcess> {
  // A larger young generation: fewer scavenges landing inside a decision (same flag as the Dockerfile).
  const child = spawn(process.execPath, ["--max-semi-space-size=64", "--import", "tsx", script], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr?.on("data", (d) => (err += String(d)));
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${script} did not start: ${err}`)), 30_000);
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (line.includes(readyEvent)) {
        clearTimeout(t);
        resolve(child);
      }
    });
    child.on("exit", (code) => reject(new Error(`${script} exited ${code}: ${err}`)));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const round1 = (x: number) => Math.round(x * 10) / 10;

/** An OTLP/HTTP JSON endpoint that answers 200 and counts the spans it received. */
async function startOtlpSink(): Promise<{ port: number; spans: () => number; stop: () => void }> {
  let spans = 0;
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      spans += (body.match(/"spanId"/g) ?? []).length;
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { port: (server.address() as AddressInfo).port, spans: () => spans, stop: () => server.close() };
}

export async function run(progress: (m: string) => void): Promise<Record<string, number>> {
  const exchange = new ExchangeSimulator({ quiet: true, liquidity: false });
  const exPort = await exchange.start(0);
  const feeds = { quoter: new Feed(), echo: new Feed(), traced: new Feed() };
  await feeds.quoter.start();
  await feeds.echo.start();
  await feeds.traced.start();
  // The traced quoter exports its (1 % sampled) spans over OTLP/HTTP to this sink, which only counts them.
  const sink = await startOtlpSink();

  // Arrival probe at the exchange simulator. Each response is attributed to the tick that caused it, even when it
  // arrives after later ticks were written: the echo puts the tick's sequence in its client order id; the quoter's
  // price tells the mid level it quoted around (levels follow a triangle wave, one level per tick).
  const writeAt = new Map<number, bigint>(); // tick sequence → write instant
  const pendingByLevel = new Map<number, number>(); // quoter: mid level → latest unanswered tick
  let measuredAccount = "";
  let current: hdr.Histogram | undefined;
  let answered = 0;
  const engine = exchange.engine;
  const place = engine.placeOrder.bind(engine);
  engine.placeOrder = ((req: PlaceOrderRequest, opts?: { chaosReject?: boolean }) => {
    const t = process.hrtime.bigint();
    if (req.accountId === measuredAccount) {
      let seqOf: number | undefined;
      if (req.clientOrderId.startsWith("echo-")) {
        seqOf = Number(req.clientOrderId.slice(5));
        if (!writeAt.has(seqOf)) seqOf = undefined;
      } else {
        const px = Number(req.price);
        const level = Math.round((px + (req.side === 1 ? HALF_SPREAD : -HALF_SPREAD) - BASE_MID) / LEVEL_STEP);
        seqOf = pendingByLevel.get(level);
        if (seqOf !== undefined) pendingByLevel.delete(level);
      }
      const w = seqOf === undefined ? undefined : writeAt.get(seqOf);
      if (seqOf !== undefined && w !== undefined) {
        writeAt.delete(seqOf); // first order per tick only
        current?.recordValue(Number(t - w));
        answered++;
      }
    }
    return place(req, opts);
  }) as typeof engine.placeOrder;

  const children: ChildProcess[] = [];
  try {
    progress("starting the quoter (tracing off), the quoter (1 % sampled) and the echo client processes");
    const quoterHttp = 18_000 + Math.floor(Math.random() * 20_000);
    // The quoter's control API and /metrics are TLS + bearer token: a pair for this run.
    const creds = await generateLocalControlCredentials(mkdtempSync(join(tmpdir(), "tse-quoter-bench-")));
    const quoterEnv = (feed: Feed, account: string, httpPort: number) => ({
      TSE_EXCHANGE_ENDPOINT: `127.0.0.1:${exPort}`,
      TSE_MARKET_DATA_ENDPOINT: `127.0.0.1:${feed.port}`,
      TSE_QUOTER_SYMBOLS: "BTC-USD",
      TSE_QUOTER_VENUES: "venue-a",
      TSE_QUOTER_ACCOUNT: account,
      TSE_QUOTER_GRPC_PORT: "0",
      TSE_QUOTER_HTTP_PORT: String(httpPort),
      // No back-off after a rejection: under load an old quote can still rest when its replacement arrives
      // (post-only REJECTED); the next tick must still be answered. Rejections are reported.
      TSE_QUOTER_STRATEGY_PARAMS: JSON.stringify({
        levels: 1,
        spreadBps: 10,
        refreshToleranceBps: 2,
        denialBackoffMs: 0,
      }),
      TSE_QUOTER_RISK_LIMITS: JSON.stringify({
        maxOrdersPerSecond: 100_000,
        circuitBreakers: { rateLimitBreachesToHalt: 1_000 },
      }),
      TSE_QUOTER_RECONCILE_MS: "0",
      TSE_EVENT_BUS_NAME: "",
      TSE_TABLE_NAME: "",
      TSE_LOG_LEVEL: "ERROR",
      TSE_QUOTER_CONTROL_DIR: creds.dir,
    });
    children.push(
      await spawnChild("quoter/main.ts", quoterEnv(feeds.quoter, "bench-quoter", quoterHttp), "quoter-listening"),
    );
    children.push(
      await spawnChild(
        "quoter/main.ts",
        {
          ...quoterEnv(feeds.traced, "bench-quoter-traced", quoterHttp + 1),
          OTEL_TRACES_EXPORTER: "otlp",
          OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${sink.port}`,
          OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
          OTEL_TRACES_SAMPLER: "traceidratio",
          OTEL_TRACES_SAMPLER_ARG: "0.01",
        },
        "quoter-listening",
      ),
    );
    children.push(
      await spawnChild(
        "bench/support/echoQuoter.ts",
        {
          TSE_EXCHANGE_ENDPOINT: `127.0.0.1:${exPort}`,
          TSE_MARKET_DATA_ENDPOINT: `127.0.0.1:${feeds.echo.port}`,
          TSE_QUOTER_ACCOUNT: "bench-echo",
        },
        "echo-listening",
      ),
    );
    const subscribed = () => feeds.quoter.subscribers > 0 && feeds.echo.subscribers > 0 && feeds.traced.subscribers > 0;
    for (let i = 0; i < 200 && !subscribed(); i++) await sleep(25);

    let seq = 0;
    const drive = async (feed: Feed, account: string, ticks: number, h: hdr.Histogram | undefined) => {
      current = h;
      measuredAccount = account;
      answered = 0;
      writeAt.clear();
      pendingByLevel.clear();
      let next = performance.now();
      for (let i = 0; i < ticks; i++) {
        seq++;
        const level = levelOf(seq);
        const mid = BASE_MID + LEVEL_STEP * level;
        const q: L1Quote = {
          venue: "venue-a",
          symbol: "BTC-USD",
          bid: (mid - 3).toFixed(2),
          ask: (mid + 3).toFixed(2),
          bidSize: "0.5",
          askSize: "0.5",
          sequence: seq,
          timestamp: Date.now(),
          lastPrice: mid.toFixed(2),
        };
        if (account !== "bench-echo") pendingByLevel.set(level, seq);
        writeAt.set(seq, process.hrtime.bigint());
        feed.write(q);
        // Steady rate: one tick every TICK_INTERVAL_MS.
        next += TICK_INTERVAL_MS;
        const wait = next - performance.now();
        await sleep(Math.max(wait, 0));
        if (wait < -50) next = performance.now();
      }
      await sleep(200); // late answers still count for their own tick
      measuredAccount = "";
      return answered;
    };
    const newHist = () =>
      hdr.build({
        lowestDiscernibleValue: 1,
        highestTrackableValue: 60_000_000_000,
        numberOfSignificantValueDigits: 3,
      });

    progress(`warm-up ${WARMUP} ticks each`);
    await drive(feeds.quoter, "bench-quoter", WARMUP, undefined);
    await drive(feeds.echo, "bench-echo", Math.ceil(WARMUP / 4), undefined);
    await drive(feeds.traced, "bench-quoter-traced", WARMUP, undefined);

    const rounds: { q: hdr.Histogram; e: hdr.Histogram; t: hdr.Histogram; qAnswered: number; eAnswered: number }[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const q = newHist();
      const e = newHist();
      const qAnswered = await drive(feeds.quoter, "bench-quoter", TICKS_PER_ROUND, q);
      const eAnswered = await drive(feeds.echo, "bench-echo", ECHO_TICKS_PER_ROUND, e);
      const t = newHist();
      await drive(feeds.traced, "bench-quoter-traced", TICKS_PER_ROUND, t);
      rounds.push({ q, e, t, qAnswered, eAnswered });
      progress(
        `round ${r + 1}/${ROUNDS}: quoter p50 ${round1(q.getValueAtPercentile(50) / 1000)} µs p99 ${round1(q.getValueAtPercentile(99) / 1000)} µs (${qAnswered}/${TICKS_PER_ROUND} answered); echo p50 ${round1(e.getValueAtPercentile(50) / 1000)} µs p99 ${round1(e.getValueAtPercentile(99) / 1000)} µs (${eAnswered}/${ECHO_TICKS_PER_ROUND})`,
      );
    }
    const pick = (k: "q" | "e" | "t", p: number) => median(rounds.map((r) => r[k].getValueAtPercentile(p) / 1000));
    // The decision path as the quoter measured it (its own HDR histogram, exported on /metrics).
    const metrics = await new Promise<string>((resolve, reject) => {
      const req = httpsGet(
        `https://127.0.0.1:${quoterHttp}/metrics`,
        { ca: creds.auth.tls.certPem, headers: { authorization: `Bearer ${creds.auth.tokens[0]}` } },
        (res) => {
          let body = "";
          res.on("data", (c) => {
            body += c;
          });
          res.on("end", () => resolve(body));
        },
      );
      req.on("error", reject);
    });
    if (process.env.QUOTER_BENCH_DEBUG)
      progress(
        metrics
          .split("\n")
          .filter((l) => !l.startsWith("#"))
          .join("\n"),
      );
    const decision = Number(
      /quoter_decision_latency_us\{quantile="0.99"\} ([\d.e+-]+)/.exec(metrics)?.[1] ?? Number.NaN,
    );
    const decision50 = Number(
      /quoter_decision_latency_us\{quantile="0.5"\} ([\d.e+-]+)/.exec(metrics)?.[1] ?? Number.NaN,
    );
    const rejected = Number(/quoter_orders_total\{outcome="rejected"\} (\d+)/.exec(metrics)?.[1] ?? Number.NaN);
    const wire50 = pick("q", 50);
    const wire99 = pick("q", 99);
    const echo50 = pick("e", 50);
    const echo99 = pick("e", 99);
    const answeredQ = rounds.reduce((a, r) => a + r.qAnswered, 0);
    const answeredE = rounds.reduce((a, r) => a + r.eAnswered, 0);
    return {
      "quoter.wire_p50_us": round1(wire50),
      "quoter.wire_p99_us": round1(wire99),
      "quoter.wire_p999_us": round1(pick("q", 99.9)),
      "quoter.echo_p50_us": round1(echo50),
      "quoter.echo_p99_us": round1(echo99),
      "quoter.echo_p999_us": round1(pick("e", 99.9)),
      "quoter.decision_p50_us": round1(decision50),
      "quoter.decision_p99_us": round1(decision),
      "quoter.wire_vs_echo_p50": Math.round((wire50 / echo50) * 100) / 100,
      "quoter.wire_vs_echo_p99": Math.round((wire99 / echo99) * 100) / 100,
      // Tracing: the same quoter with nothing configured, and with OTLP export at a 1 % traceidratio sampler.
      "quoter.wire_p50_tracing_off_us": round1(wire50),
      "quoter.wire_p50_tracing_ratio1pct_us": round1(pick("t", 50)),
      "quoter.wire_p50_tracing_ratio1pct_vs_off": Math.round((pick("t", 50) / wire50) * 1000) / 1000,
      "quoter.tracing_spans_exported": sink.spans(),
      "quoter.ticks_measured": ROUNDS * TICKS_PER_ROUND,
      "quoter.echo_ticks_measured": ROUNDS * ECHO_TICKS_PER_ROUND,
      "quoter.tick_interval_ms": TICK_INTERVAL_MS,
      "quoter.ticks_answered": answeredQ,
      "quoter.echo_ticks_answered": answeredE,
      "quoter.orders_rejected": rejected,
    };
  } finally {
    for (const c of children) {
      if (c.exitCode === null) {
        const done = new Promise((r) => c.once("exit", r));
        c.kill("SIGTERM");
        await Promise.race([done, sleep(10_000)]);
      }
    }
    feeds.quoter.stop();
    feeds.echo.stop();
    feeds.traced.stop();
    sink.stop();
    await exchange.stop();
  }
}
