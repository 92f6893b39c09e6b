// For bench/tracing.bench.ts, run as its own process: the CPU time a 1 % ratio sampler adds to each tick the
// sampler skips, as the quoter pays it: inRootSpanSync's decision, and the Metadata carrying the unsampled root's
// traceparent that ClientManager builds once per tick for the tick's calls. Prints {"ns_per_tick": …, "sampled_share": …}.
import { Metadata } from "@grpc/grpc-js";
import { inRootSpanSync, unsampledTraceparent } from "../../lib/telemetry/spans";
import { startTracing } from "../../lib/telemetry/tracing";

const N = Number(process.env.UNSAMPLED_TICKS ?? 200_000);
// In-process only (no exporter): the sampled 1 % end in a processor that drops them.
await startTracing("tse-quoter", {
  processors: [{ onStart() {}, onEnd() {}, forceFlush: async () => {}, shutdown: async () => {} }],
  env: { OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "0.01" },
  contextManager: "synchronous",
});
let sampled = 0;
let forwarded = 0;
const body = (span: unknown) => {
  if (span) return void sampled++;
  const tp = unsampledTraceparent();
  if (!tp) return;
  new Metadata().set("traceparent", tp);
  forwarded++;
};
const attrs = () => ({ "tse.venue": "venue-a", "tse.symbol": "BTC-USD" });
const run = (n: number) => {
  for (let i = 0; i < n; i++) inRootSpanSync("tse-quoter", "quoter.tick", attrs, body);
};
run(20_000); // warm-up (JIT)
sampled = 0;
forwarded = 0;
const t0 = process.cpuUsage();
run(N);
const d = process.cpuUsage(t0);
const ns = ((d.user + d.system) * 1000) / N;
process.stdout.write(`${JSON.stringify({ ns_per_tick: Math.round(ns), sampled_share: sampled / N, forwarded })}\n`);
