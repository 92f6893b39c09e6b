// The cost of tracing on the quoter's wire-to-wire latency: the quoter bench's harness (bench/quoter.bench.ts:
// real exchange simulator, bench feed, quoter and echo processes), run in interleaved rounds with tracing off (no
// OTEL_* variable) and with a 1 % `traceidratio` sampler exporting OTLP/HTTP JSON to a receiver on loopback.
// Each round is a fresh set of processes; the order of the two modes alternates from round to round.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";

const ROUNDS = Number(process.env.TRACING_BENCH_ROUNDS ?? 3);
const TICKS = Number(process.env.TRACING_BENCH_TICKS ?? 3_000);
// Long enough for the first exports (every 5 s) and their one-time costs to fall inside the warm-up.
const WARMUP = Number(process.env.TRACING_BENCH_WARMUP ?? 1_000);
// The harness paces its ticks (5 ms) and gives the echo a quarter as many: when the warm-up is over.
const WARMUP_MS = WARMUP * 5 * 1.25 + 600;
const RATIO = 0.01;

type Figures = Record<string, number>;
type Mode = "off" | "ratio_1pct";

/** A plain OTLP/HTTP JSON receiver: answers 200 {} and counts requests and spans. */
async function startReceiver() {
  const seen = { requests: 0, spans: 0 };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.method !== "POST" || req.url !== "/v1/traces") return void res.writeHead(404).end();
      seen.requests++;
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
          resourceSpans?: { scopeSpans?: { spans?: unknown[] }[] }[];
        };
        for (const rs of body.resourceSpans ?? [])
          for (const ss of rs.scopeSpans ?? []) seen.spans += ss.spans?.length ?? 0;
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      } catch (e) {
        res.writeHead(400).end(String(e));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { seen, port: (server.address() as AddressInfo).port, close: () => server.close() };
}

const OTEL_VARS = [
  "OTEL_SDK_DISABLED",
  "OTEL_TRACES_EXPORTER",
  "OTEL_EXPORTER_OTLP_ENDPOINT",
  "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
  "OTEL_EXPORTER_OTLP_PROTOCOL",
  "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
  "OTEL_TRACES_SAMPLER",
  "OTEL_TRACES_SAMPLER_ARG",
];

/** Runs `fn` with process.env changed as `vars` says (undefined removes), then restores it. */
async function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const apply = (v: Record<string, string | undefined>) => {
    for (const [k, x] of Object.entries(v)) {
      if (x === undefined) delete process.env[k];
      else process.env[k] = x;
    }
  };
  apply(vars);
  try {
    return await fn();
  } finally {
    apply(saved);
  }
}

/** CPU time (user + system, ms) of this process's child running `script`, from /proc (Linux); NaN if none. */
function childCpuMs(script: string): number {
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(f[1]) !== process.pid) continue; // field 4: ppid
      if (!readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(script)) continue;
      return ((Number(f[11]) + Number(f[12])) * 1000) / CLOCK_TICKS; // fields 14, 15: utime, stime
    } catch {
      // gone meanwhile
    }
  }
  return Number.NaN;
}
const CLOCK_TICKS = 100; // USER_HZ on Linux

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const round1 = (x: number) => Math.round(x * 10) / 10;
const round3 = (x: number) => Math.round(x * 1000) / 1000;

export async function run(progress: (m: string) => void): Promise<Figures> {
  // What an unsampled tick costs the quoter, in CPU: its own process, nothing else running in it.
  const unsampled = JSON.parse(
    execFileSync(
      process.execPath,
      ["--import", "tsx", fileURLToPath(new URL("./support/unsampledTick.ts", import.meta.url))],
      {
        encoding: "utf8",
      },
    ),
  ) as { ns_per_tick: number; sampled_share: number };
  progress(`unsampled tick: ${unsampled.ns_per_tick} ns CPU (sampled share ${unsampled.sampled_share})`);
  const receiver = await startReceiver();
  const results: Record<Mode, Figures[]> = { off: [], ratio_1pct: [] };
  const otel = (mode: Mode): Record<string, string | undefined> => {
    const none = Object.fromEntries(OTEL_VARS.map((k) => [k, undefined]));
    if (mode === "off") return none;
    return {
      ...none,
      OTEL_TRACES_EXPORTER: "otlp",
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${receiver.port}`,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_TRACES_SAMPLER: "traceidratio",
      OTEL_TRACES_SAMPLER_ARG: String(RATIO),
    };
  };
  let instance = 0;
  try {
    for (let r = 0; r < ROUNDS; r++) {
      const order: Mode[] = r % 2 === 0 ? ["off", "ratio_1pct"] : ["ratio_1pct", "off"];
      for (const mode of order) {
        const knobs = {
          ...otel(mode),
          QUOTER_BENCH_TICKS: String(TICKS),
          QUOTER_BENCH_ROUNDS: "1",
          QUOTER_BENCH_WARMUP: String(WARMUP),
          QUOTER_BENCH_RATES: "",
        };
        // The quoter bench reads its knobs when evaluated: a fresh module instance per round (the query string).
        const figures = await withEnv(knobs, async () => {
          const mod = (await import(`./quoter.bench.ts?tracing-round=${++instance}`)) as {
            run: (p: (m: string) => void) => Promise<Figures>;
          };
          // The quoter's CPU over the measured round: from the warm-up's (paced) end to the round's report.
          let cpuFrom = Number.NaN;
          let cpuTo = Number.NaN;
          let timer: NodeJS.Timeout | undefined;
          const f = await mod.run((m) => {
            if (m.startsWith("warm-up")) timer = setTimeout(() => (cpuFrom = childCpuMs("quoter/main.ts")), WARMUP_MS);
            else if (m.startsWith("round 1/1")) cpuTo = childCpuMs("quoter/main.ts");
          });
          clearTimeout(timer);
          f.cpu_us_per_tick = ((cpuTo - cpuFrom) * 1000) / TICKS;
          return f;
        });
        results[mode].push(figures);
        progress(
          `round ${r + 1}/${ROUNDS} ${mode}: wire p50 ${figures["quoter.wire_p50_us"]} µs p99 ${figures["quoter.wire_p99_us"]} µs, echo p50 ${figures["quoter.echo_p50_us"]} µs, ${figures["quoter.alloc_bytes_per_tick"]} B/tick, ${round1(figures.cpu_us_per_tick!)} µs CPU/tick`,
        );
      }
    }
  } finally {
    receiver.close();
  }
  const pick = (mode: Mode, key: string) => median(results[mode].map((f) => f[key]!));
  const out: Figures = {};
  for (const mode of ["off", "ratio_1pct"] as const) {
    out[`tracing.${mode}.wire_p50_us`] = round1(pick(mode, "quoter.wire_p50_us"));
    out[`tracing.${mode}.wire_p99_us`] = round1(pick(mode, "quoter.wire_p99_us"));
    out[`tracing.${mode}.echo_p50_us`] = round1(pick(mode, "quoter.echo_p50_us"));
    out[`tracing.${mode}.alloc_bytes_per_tick`] = Math.round(pick(mode, "quoter.alloc_bytes_per_tick"));
    out[`tracing.${mode}.quoter_cpu_us_per_tick`] = round1(pick(mode, "cpu_us_per_tick"));
    out[`tracing.${mode}.ticks_answered`] = pick(mode, "quoter.ticks_answered");
  }
  out["tracing.ratio_1pct_vs_off_p50"] = round3(
    pick("ratio_1pct", "quoter.wire_p50_us") / pick("off", "quoter.wire_p50_us"),
  );
  out["tracing.ratio_1pct_vs_off_p99"] = round3(
    pick("ratio_1pct", "quoter.wire_p99_us") / pick("off", "quoter.wire_p99_us"),
  );
  // Paired: each round's ratio against the other mode of the same round, then the median.
  out["tracing.ratio_1pct_vs_off_p50_paired"] = round3(
    median(results.off.map((f, i) => results.ratio_1pct[i]!["quoter.wire_p50_us"]! / f["quoter.wire_p50_us"]!)),
  );
  out["tracing.ratio_1pct_vs_off_cpu_per_tick"] = round3(
    pick("ratio_1pct", "cpu_us_per_tick") / pick("off", "cpu_us_per_tick"),
  );
  out["tracing.ratio_1pct.unsampled_tick_cpu_ns"] = unsampled.ns_per_tick;
  // …against the quoter's CPU per tick with tracing off, measured above.
  out["tracing.ratio_1pct.unsampled_tick_share_of_tick_cpu"] =
    Math.round((unsampled.ns_per_tick / 1000 / pick("off", "cpu_us_per_tick")) * 10_000) / 10_000;
  out["tracing.ratio_1pct.spans_exported"] = receiver.seen.spans;
  out["tracing.ratio_1pct.export_requests"] = receiver.seen.requests;
  out["tracing.rounds"] = ROUNDS;
  out["tracing.ticks_per_round"] = TICKS;
  return out;
}
