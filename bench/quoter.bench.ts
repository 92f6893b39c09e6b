// Wire-to-wire latency of the quoter, measured at the simulators on one clock (process.hrtime in this process):
// from the moment a market-data tick is written to the moment the order it causes arrives at the exchange
// simulator. The echo floor is measured in the same run: a minimal grpc-js client process that answers each tick
// with a fixed order. Both run as separate Node processes (node --import tsx), subscribed to their own feed server.
//
// The feed is a bench QuoteService server (same proto, StreamQuotes only) so the write instant is known; the
// exchange is the real ExchangeSimulator (empty book) on its own thread (bench/support/exchangeWorker.ts: its GC
// pauses do not stop the feed writes), its engine's placeOrder wrapped to timestamp arrivals.
// Every tick moves the mid by 50 USD (≈ 7.7 bps, beyond the 2 bps refresh tolerance), so every tick makes the
// quoter cancel and replace both quotes; the first PlaceOrder caused by a tick gives that tick's latency.
import { type ChildProcess, spawn } from "node:child_process";
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:https";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { PerformanceObserver, constants as perfConstants } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { Server, ServerCredentials, type ServerWritableStream } from "@grpc/grpc-js";
import * as hdr from "hdr-histogram-js";
import { type L1Quote, QuoteServiceService, type StreamQuotesRequest } from "../gen/proto/tse/marketdata/quotes";
import { generateLocalControlCredentials } from "../quoter/control/credentials";
import type { Arrival } from "./support/exchangeWorker";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
// 4 rounds × 5 000 quoter ticks = 20 000 at a steady 200 ticks/s; the echo floor gets a quarter as many per round
// (same rate, interleaved rounds) to keep the whole bench under ~3 minutes.
const TICKS_PER_ROUND = Number(process.env.QUOTER_BENCH_TICKS ?? 5_000);
const ECHO_TICKS_PER_ROUND = Number(process.env.QUOTER_BENCH_ECHO_TICKS ?? Math.ceil(TICKS_PER_ROUND / 4));
const ROUNDS = Number(process.env.QUOTER_BENCH_ROUNDS ?? 4);
const WARMUP = Number(process.env.QUOTER_BENCH_WARMUP ?? 1_000);
const TICK_INTERVAL_MS = Number(process.env.QUOTER_BENCH_INTERVAL_MS ?? 5);
// Under load: the same figures at these rates (ticks/s), each round of RATE_SECONDS, quoter and echo alike.
const RATES = (process.env.QUOTER_BENCH_RATES ?? "200,1000,5000")
  .split(",")
  .map(Number)
  .filter((r) => r > 0);
const RATE_SECONDS = Number(process.env.QUOTER_BENCH_RATE_SECONDS ?? 2);
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

// Extra node flags for the quoter process only (profiling: --cpu-prof, --heap-prof, --trace-gc), space-separated.
const QUOTER_NODE_ARGS = (process.env.QUOTER_BENCH_NODE_ARGS ?? "").split(" ").filter(Boolean);
// Young-generation size of both children, MB (the Dockerfile's flag).
const SEMI_SPACE_MB = Number(process.env.QUOTER_BENCH_SEMI_SPACE_MB ?? 64);
// A file that gets the quoter's stdout lines (what --trace-gc prints), when set.
const QUOTER_OUT = process.env.QUOTER_BENCH_QUOTER_OUT;

function spawnChild(
  script: string,
  env: Record<string, string>,
  readyEvent: string,
  nodeArgs: string[] = [],
  outFile?: string,
  ipc = false,
): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [`--max-semi-space-size=${SEMI_SPACE_MB}`, ...nodeArgs, "--import", "tsx", script],
    {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ipc ? ["ignore", "pipe", "pipe", "ipc"] : ["ignore", "pipe", "pipe"],
    },
  );
  let err = "";
  child.stderr?.on("data", (d) => (err += String(d)));
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${script} did not start: ${err}`)), 30_000);
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (outFile) appendFileSync(outFile, `${line}\n`);
      if (line.includes(readyEvent)) {
        clearTimeout(t);
        resolve(child);
      }
    });
    child.on("exit", (code) => reject(new Error(`${script} exited ${code}: ${err}`)));
  });
}

/** GC pauses of this (the bench) process since the last take. */
const benchGcStats = (() => {
  let totalUs = 0;
  let maxUs = 0;
  let majorUs = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const us = e.duration * 1000;
      totalUs += us;
      if (us > maxUs) maxUs = us;
      if ((e as { detail?: { kind?: number } }).detail?.kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR) majorUs += us;
    }
  });
  let observing = false;
  return {
    take(): { totalUs: number; maxUs: number; majorUs: number } {
      if (!observing) {
        obs.observe({ entryTypes: ["gc"] });
        observing = true;
      }
      const out = { totalUs: Math.round(totalUs), maxUs: Math.round(maxUs), majorUs: Math.round(majorUs) };
      totalUs = 0;
      maxUs = 0;
      majorUs = 0;
      return out;
    },
    stop: () => obs.disconnect(),
  };
})();

/** The echo client's allocation so far and its PlaceOrder count (over its IPC channel). */
function echoStats(child: ChildProcess): Promise<{ allocatedBytes: number; promotedBytes: number; calls: number }> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("echo stats: no answer")), 5_000);
    child.once("message", (m) => {
      clearTimeout(t);
      resolve(m as { allocatedBytes: number; promotedBytes: number; calls: number });
    });
    child.send("stats");
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The quoter's /metrics over its TLS control plane (bearer token). */
function fetchMetrics(port: number, ca: string, token: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path: "/metrics",
        ca,
        servername: "localhost",
        headers: { authorization: `Bearer ${token}` },
      },
      (res) => {
        let body = "";
        res.on("data", (d) => (body += String(d)));
        res.on("end", () => resolve(body));
      },
    );
    req.on("error", reject);
    req.end();
  });
}
const metricOf = (text: string, name: string) =>
  Number(new RegExp(`^${name} ([\\d.e+-]+)$`, "m").exec(text)?.[1] ?? Number.NaN);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const round1 = (x: number) => Math.round(x * 10) / 10;

export async function run(progress: (m: string) => void): Promise<Record<string, number>> {
  // A worker does not inherit tsx's loader: it imports the TypeScript entry through tsx's API.
  const entry = new URL("./support/exchangeWorker.ts", import.meta.url).href;
  const exchange = new Worker(
    `import("tsx/esm/api").then(({ tsImport }) => tsImport(${JSON.stringify(entry)}, ${JSON.stringify(import.meta.url)}))`,
    { eval: true },
  );
  const exPort = await new Promise<number>((resolve, reject) => {
    exchange.once("error", reject);
    exchange.on("message", function started(m: { port?: number }) {
      if (m.port === undefined) return;
      exchange.off("message", started);
      resolve(m.port);
    });
  });
  const feeds = { quoter: new Feed(), echo: new Feed() };
  await feeds.quoter.start();
  await feeds.echo.start();

  // Arrival probe at the exchange simulator. Each response is attributed to the tick that caused it, even when it
  // arrives after later ticks were written: the echo puts the tick's sequence in its client order id; the quoter's
  // price tells the mid level it quoted around (levels follow a triangle wave, one level per tick).
  const writeAt = new Map<number, bigint>(); // tick sequence → write instant
  // Quoter: mid level → its ticks not yet answered, oldest first. Arrivals reach this thread after later ticks may
  // have been written: an order belongs to the latest tick of its level written before it arrived (older ticks of
  // that level were superseded by then).
  const pendingByLevel = new Map<number, number[]>();
  let measuredAccount = "";
  let current: hdr.Histogram | undefined;
  let answered = 0;
  let selfCrossAtExchange = 0;
  exchange.on("message", (m: Arrival | { port: number }) => {
    if ("port" in m) return;
    const t = m.at;
    if (m.accountId === measuredAccount) {
      let seqOf: number | undefined;
      if (m.clientOrderId.startsWith("echo-")) {
        seqOf = Number(m.clientOrderId.slice(5));
        if (!writeAt.has(seqOf)) seqOf = undefined;
      } else {
        const px = Number(m.price);
        const level = Math.round((px + (m.side === 1 ? HALF_SPREAD : -HALF_SPREAD) - BASE_MID) / LEVEL_STEP);
        const seqs = pendingByLevel.get(level);
        let i = seqs ? seqs.length - 1 : -1;
        while (i >= 0 && (writeAt.get(seqs![i]!) ?? t) > t) i--;
        if (i >= 0) {
          seqOf = seqs![i];
          for (let j = 0; j <= i; j++) if (seqs![j] !== seqOf) writeAt.delete(seqs![j]!);
          seqs!.splice(0, i + 1);
        }
      }
      const w = seqOf === undefined ? undefined : writeAt.get(seqOf);
      if (seqOf !== undefined && w !== undefined && t >= w) {
        writeAt.delete(seqOf); // first order per tick only
        current?.recordValue(Number(t - w));
        answered++;
      }
    }
    // The book holds only the quoter's own orders (the echo's IOC buys at 1 000 never rest nor cross): every
    // post-only rejection of a quoter order is a crossing of its own resting order.
    if (m.accountId === "bench-quoter" && m.postOnlyRejected) selfCrossAtExchange++;
  });

  const children: ChildProcess[] = [];
  const controlDir = mkdtempSync(join(tmpdir(), "tse-quoter-bench-"));
  try {
    const creds = await generateLocalControlCredentials(join(controlDir, "control"));
    const ca = readFileSync(creds.certFile, "utf8");
    const token = creds.auth.tokens[0]!;
    progress("starting the quoter and the echo client processes");
    const quoterHttp = 18_000 + Math.floor(Math.random() * 20_000);
    children.push(
      await spawnChild(
        "quoter/main.ts",
        {
          TSE_EXCHANGE_ENDPOINT: `127.0.0.1:${exPort}`,
          TSE_MARKET_DATA_ENDPOINT: `127.0.0.1:${feeds.quoter.port}`,
          TSE_QUOTER_SYMBOLS: "BTC-USD",
          TSE_QUOTER_VENUES: "venue-a",
          TSE_QUOTER_ACCOUNT: "bench-quoter",
          TSE_QUOTER_GRPC_PORT: "0",
          TSE_QUOTER_HTTP_PORT: String(quoterHttp),
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
          TSE_QUOTER_CONTROL_DIR: creds.dir,
          TSE_QUOTER_RUNTIME_STATS: "1",
          TSE_EVENT_BUS_NAME: "",
          TSE_TABLE_NAME: "",
          TSE_LOG_LEVEL: "ERROR",
        },
        "quoter-listening",
        QUOTER_NODE_ARGS,
        QUOTER_OUT,
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
        [],
        undefined,
        true,
      ),
    );
    for (let i = 0; i < 200 && (feeds.quoter.subscribers === 0 || feeds.echo.subscribers === 0); i++) await sleep(25);

    let seq = 0;
    const drive = async (
      feed: Feed,
      account: string,
      ticks: number,
      h: hdr.Histogram | undefined,
      intervalMs = TICK_INTERVAL_MS,
    ) => {
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
        if (account === "bench-quoter") {
          const seqs = pendingByLevel.get(level);
          if (seqs) seqs.push(seq);
          else pendingByLevel.set(level, [seq]);
        }
        writeAt.set(seq, process.hrtime.bigint());
        feed.write(q);
        // Steady rate: one tick every intervalMs (below 1 ms, the ticks due are written together at each wake-up).
        next += intervalMs;
        const wait = next - performance.now();
        if (wait >= 1 || intervalMs >= 1) await sleep(Math.max(wait, 0));
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

    const m0 = await fetchMetrics(quoterHttp, ca, token);
    const echo0 = await echoStats(children[1]!);
    benchGcStats.take();
    const rounds: { q: hdr.Histogram; e: hdr.Histogram; qAnswered: number; eAnswered: number }[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const q = newHist();
      const e = newHist();
      const qAnswered = await drive(feeds.quoter, "bench-quoter", TICKS_PER_ROUND, q);
      const eAnswered = await drive(feeds.echo, "bench-echo", ECHO_TICKS_PER_ROUND, e);
      rounds.push({ q, e, qAnswered, eAnswered });
      progress(
        `round ${r + 1}/${ROUNDS}: quoter p50 ${round1(q.getValueAtPercentile(50) / 1000)} µs p99 ${round1(q.getValueAtPercentile(99) / 1000)} µs (${qAnswered}/${TICKS_PER_ROUND} answered); echo p50 ${round1(e.getValueAtPercentile(50) / 1000)} µs p99 ${round1(e.getValueAtPercentile(99) / 1000)} µs (${eAnswered}/${ECHO_TICKS_PER_ROUND})`,
      );
    }
    const pick = (k: "q" | "e", p: number) => median(rounds.map((r) => r[k].getValueAtPercentile(p) / 1000));
    // The decision path as the quoter measured it (its own HDR histogram, exported on /metrics).
    const metrics = await fetchMetrics(quoterHttp, ca, token);
    const ticksDone = metricOf(metrics, "quoter_ticks_total") - metricOf(m0, "quoter_ticks_total");
    const allocPerTick =
      (metricOf(metrics, "quoter_runtime_allocated_bytes_total") -
        metricOf(m0, "quoter_runtime_allocated_bytes_total")) /
      ticksDone;
    const gcPauseUs = metricOf(metrics, "quoter_gc_pause_us_total") - metricOf(m0, "quoter_gc_pause_us_total");
    const gcs = metricOf(metrics, "quoter_gc_total") - metricOf(m0, "quoter_gc_total");
    const promotedPerTick =
      (metricOf(metrics, "quoter_runtime_promoted_bytes_total") - metricOf(m0, "quoter_runtime_promoted_bytes_total")) /
      ticksDone;
    const labelled = (text: string, name: string, labels: string) =>
      labels === ""
        ? metricOf(text, name)
        : Number(new RegExp(`^${name}\\{${labels}\\} ([\\d.e+-]+)$`, "m").exec(text)?.[1] ?? Number.NaN);
    const delta = (name: string, labels: string) => labelled(metrics, name, labels) - labelled(m0, name, labels);
    // Pauses longer than 5 ms over the measured rounds (from the cumulative buckets).
    const longPauses = delta("quoter_gc_pause_us_count", "") - delta("quoter_gc_pause_us_bucket", 'le="5000"');
    const benchGc = benchGcStats.take();
    const echo1 = await echoStats(children[1]!);
    // Venue calls over the same window: allocation per call does not depend on how many calls a tick made (under
    // load a replacement decided before its predecessor went out replaces it without a call).
    const calls = delta("quoter_orders_total", 'outcome="placed"') + delta("quoter_cancels_total", 'outcome="sent"');
    const loopDelay99 = Number(/quoter_event_loop_delay_us\{quantile="0.99"\} (\d+)/.exec(metrics)?.[1] ?? Number.NaN);
    const selfCrossMeasured = selfCrossAtExchange;
    // Under load: each rate, quoter then echo at the same rate.
    const byRate: Record<string, number> = {};
    let under2ms = 0;
    for (const rate of RATES) {
      const n = Math.max(100, Math.round(rate * RATE_SECONDS));
      const q = newHist();
      const e = newHist();
      const qa = await drive(feeds.quoter, "bench-quoter", n, q, 1000 / rate);
      const ea = await drive(feeds.echo, "bench-echo", n, e, 1000 / rate);
      const qp50 = q.getValueAtPercentile(50) / 1000;
      const qp99 = q.getValueAtPercentile(99) / 1000;
      const ep50 = e.getValueAtPercentile(50) / 1000;
      const ep99 = e.getValueAtPercentile(99) / 1000;
      byRate[`quoter.rate_${rate}.wire_p50_us`] = round1(qp50);
      byRate[`quoter.rate_${rate}.wire_p99_us`] = round1(qp99);
      byRate[`quoter.rate_${rate}.echo_p50_us`] = round1(ep50);
      byRate[`quoter.rate_${rate}.echo_p99_us`] = round1(ep99);
      byRate[`quoter.rate_${rate}.answered_share`] = Math.round((qa / n) * 1000) / 1000;
      byRate[`quoter.rate_${rate}.echo_answered_share`] = Math.round((ea / n) * 1000) / 1000;
      if (qp99 < 2_000 && rate > under2ms) under2ms = rate;
      progress(
        `${rate}/s: quoter p50 ${round1(qp50)} µs p99 ${round1(qp99)} µs (${qa}/${n}); echo p50 ${round1(ep50)} µs p99 ${round1(ep99)} µs (${ea}/${n})`,
      );
    }
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
    const outcome = (o: string) =>
      Number(new RegExp(`quoter_orders_total\\{outcome="${o}"\\} (\\d+)`).exec(metrics)?.[1] ?? Number.NaN);
    const rejected = outcome("rejected");
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
      "quoter.ticks_measured": ROUNDS * TICKS_PER_ROUND,
      "quoter.echo_ticks_measured": ROUNDS * ECHO_TICKS_PER_ROUND,
      "quoter.tick_interval_ms": TICK_INTERVAL_MS,
      "quoter.ticks_answered": answeredQ,
      "quoter.echo_ticks_answered": answeredE,
      "quoter.orders_rejected": rejected,
      // At the exchange (post-only rejections of the quoter's orders on a book holding only its own), and the
      // quoter's own split; both over the default-rate rounds and the warm-up.
      "quoter.orders_rejected_self_cross": selfCrossMeasured,
      "quoter.orders_rejected_self_cross_quoter_view": outcome("rejected_self_cross"),
      "quoter.orders_rejected_other": outcome("rejected_other"),
      "quoter.places_held": outcome("held"),
      "quoter.alloc_bytes_per_tick": Math.round(allocPerTick),
      "quoter.gc_count": gcs,
      "quoter.gc_pause_us_total": gcPauseUs,
      "quoter.gc_minor_count": delta("quoter_gc_kind_total", 'kind="minor"'),
      "quoter.gc_minor_pause_us_total": delta("quoter_gc_kind_pause_us_total", 'kind="minor"'),
      "quoter.gc_major_count": delta("quoter_gc_kind_total", 'kind="major"'),
      "quoter.gc_major_pause_us_total": delta("quoter_gc_kind_pause_us_total", 'kind="major"'),
      "quoter.gc_pauses_over_5ms": longPauses,
      "quoter.promoted_bytes_per_tick": Math.round(promotedPerTick),
      "quoter.venue_calls_per_tick": Math.round((calls / ticksDone) * 100) / 100,
      "quoter.alloc_bytes_per_call": Math.round((allocPerTick * ticksDone) / calls),
      // The same-run floor: the echo's bare grpc-js client, per PlaceOrder it made.
      "quoter.echo_alloc_bytes_per_call": Math.round(
        (echo1.allocatedBytes - echo0.allocatedBytes) / (echo1.calls - echo0.calls),
      ),
      "quoter.echo_promoted_bytes_per_call": Math.round(
        (echo1.promotedBytes - echo0.promotedBytes) / (echo1.calls - echo0.calls),
      ),
      // The bench process hosts the feeds and the exchange: its own pauses delay both sides' arrivals.
      "quoter.bench_process_gc_pause_us_total": benchGc.totalUs,
      "quoter.bench_process_gc_pause_max_us": benchGc.maxUs,
      "quoter.bench_process_gc_major_pause_us_total": benchGc.majorUs,
      "quoter.bench_process_heap_used_mb": Math.round(process.memoryUsage().heapUsed / 1e6),
      "quoter.semi_space_mb": SEMI_SPACE_MB,
      "quoter.event_loop_delay_p99_us": loopDelay99,
      ...byRate,
      "quoter.max_rate_p99_under_2ms": under2ms,
      "quoter.load_average_1m": Math.round(loadavg()[0]! * 100) / 100,
    };
  } finally {
    for (const c of children) {
      if (c.exitCode === null) {
        const done = new Promise((r) => c.once("exit", r));
        c.kill("SIGTERM");
        await Promise.race([done, sleep(10_000)]);
      }
    }
    benchGcStats.stop();
    feeds.quoter.stop();
    feeds.echo.stop();
    const exited = new Promise((r) => exchange.once("exit", r));
    exchange.postMessage({ stop: true });
    await Promise.race([exited, sleep(5_000)]);
    await exchange.terminate();
    rmSync(controlDir, { recursive: true, force: true });
  }
}
