// Soak (`npm run bench -- soak`): an embedded session at 10x the default market tick rate (10 ms instead of
// 100 ms), TSE_SOAK_DURATION_S long (default 1200 s = 20 min). Figures:
// - soak.rss_slope_mb_per_h: least-squares slope of RSS after the warm-up (first 25%), on 30 s window minima;
// - soak.event_loop_delay_p99_ms: perf_hooks event-loop delay histogram over the same window;
// - soak.report_bytes_per_trade: report.json size / trades booked;
// - soak.stage.*: events at each stage of the serverless pipeline; soak.pipeline_reconciled = 1 when they agree
//   exactly (executions of our orders at the exchange = ExecutionReported = fills in state = FillBooked; the
//   forwarder's count is only the serverless strategies' share, the quoter's bridge publishes the rest).
// The baseline in the same run is soak.rss_start_mb (RSS at the end of the warm-up).
// The slopes regress on the minimum of each 30 s window (RSS is sampled each second): GC's sawtooth (and the heap
// growing in steps) would otherwise decide the slope of a short window; the minima track what survives GC.
// Embedded, the stand-ins for DynamoDB, the exchange and the custodian hold their data in this process: at the
// end their retained heap is measured (their containers cleared under a forced GC) and scaled to the window by the
// executions in it (soak.stand_in_data_mb_per_h); soak.rss_slope_net_of_stand_ins_mb_per_h is the rest.
import { statSync } from "node:fs";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { LocalSession } from "../session/LocalSession";

const WINDOW_MS = 30_000;

/** The lowest sample of each window: what survived the collections in it. */
function windowMinima(points: { t: number; v: number }[]): { t: number; v: number }[] {
  const out = new Map<number, { t: number; v: number }>();
  for (const p of points) {
    const w = Math.floor(p.t / WINDOW_MS);
    const cur = out.get(w);
    if (!cur || p.v < cur.v) out.set(w, p);
  }
  return [...out.values()];
}

function forcedGc(): () => void {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  return () => {
    gc();
    gc();
  };
}

type Clearable = { clear(): void } | unknown[];

/**
 * Heap (MB) the stand-ins' data retains: the state store's items, the exchange's orders and execution log, the
 * custodian's entries. Measured after the session stopped, by clearing each under a forced GC.
 */
function standInDataMb(session: LocalSession): Record<string, number> {
  const gc = forcedGc();
  const heap = () => {
    gc();
    return process.memoryUsage().heapUsed / 2 ** 20;
  };
  // Private containers, reached only here, only to measure them.
  const ex = session.sims.servers.exchange as unknown as { engine: Record<string, Clearable> };
  const cust = session.sims.servers.custodian as unknown as { ledger: Record<string, Clearable> };
  const store = session.store as unknown as { backend?: Record<string, Clearable> };
  const parts: [string, Clearable[]][] = [
    ["state_store", [store.backend?.items].filter(Boolean) as Clearable[]],
    ["exchange", ["orders", "byClientId", "executionLog"].map((k) => ex.engine[k]) as Clearable[]],
    ["custodian", ["entries", "byKey"].map((k) => cust.ledger[k]) as Clearable[]],
  ];
  const out: Record<string, number> = {};
  let before = heap();
  for (const [name, containers] of parts) {
    for (const c of containers) {
      if (Array.isArray(c)) c.length = 0;
      else (c as { clear(): void }).clear();
    }
    const after = heap();
    out[name] = before - after;
    before = after;
  }
  return out;
}

function slopePerHour(points: { t: number; v: number }[]): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  const mt = points.reduce((a, p) => a + p.t, 0) / n;
  const mv = points.reduce((a, p) => a + p.v, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.t - mt) * (p.v - mv);
    den += (p.t - mt) ** 2;
  }
  return (num / den) * 3_600_000; // per ms → per hour
}

export async function run(progress: (msg: string) => void): Promise<Record<string, number>> {
  const durationS = Number(process.env.TSE_SOAK_DURATION_S ?? 1200);
  if (!Number.isFinite(durationS) || durationS < 20)
    throw new Error(`TSE_SOAK_DURATION_S must be ≥ 20, got ${durationS}`);
  const outDir = join(process.cwd(), "reports", `soak-${Date.now().toString(36)}`);
  const session = await LocalSession.start({
    mode: "embedded",
    scenario: "DIVERGENCE",
    seed: 15,
    strategies: ["market-making", "arbitrage"],
    ephemeralPorts: true,
    outDir,
    log: () => {},
    tickMs: 10,
  });
  const warmupMs = durationS * 250;
  const started = Date.now();
  const rss: { t: number; v: number }[] = [];
  const heapUsed: { t: number; v: number }[] = [];
  let execsAtWarmup = 0;
  const loop = monitorEventLoopDelay({ resolution: 10 });
  let loopStarted = false;
  let rssStart = 0;
  while (Date.now() - started < durationS * 1000) {
    await new Promise((r) => setTimeout(r, 1000));
    const t = Date.now() - started;
    if (t < warmupMs) continue;
    if (!loopStarted) {
      loop.enable();
      loopStarted = true;
      rssStart = process.memoryUsage().rss / 2 ** 20;
      execsAtWarmup = session.counts().ourExecutionsAtExchange;
    }
    const m = process.memoryUsage();
    rss.push({ t, v: m.rss / 2 ** 20 });
    heapUsed.push({ t, v: m.heapUsed / 2 ** 20 });
    if (rss.length % 60 === 0) progress(`${Math.round(t / 1000)} s, rss ${rss.at(-1)!.v.toFixed(0)} MB`);
  }
  loop.disable();
  const windowH = (rss.at(-1)!.t - rss[0]!.t) / 3_600_000;
  const result = await session.stop("soak done");
  const data = standInDataMb(session);
  const dataMb = Object.values(data).reduce((a, b) => a + b, 0);
  const execs = result.counts.ourExecutionsAtExchange;
  // The data grows with the executions: the window's share of it, per hour.
  const dataPerH = execs > 0 && windowH > 0 ? (dataMb * ((execs - execsAtWarmup) / execs)) / windowH : Number.NaN;
  const rssSlope = slopePerHour(windowMinima(rss));
  const c = result.counts;
  const trades = Object.values(result.tradesByStrategy).reduce((a, b) => a + b, 0);
  const stages = {
    our_executions_at_exchange: c.ourExecutionsAtExchange,
    executions_forwarded: c.executionsForwarded,
    execution_reported: c.busEvents.ExecutionReported ?? 0,
    fills_in_state: c.fillsInState,
    fill_booked: c.busEvents.FillBooked ?? 0,
    position_changed: c.positionChanged,
  };
  const core = [
    stages.our_executions_at_exchange,
    stages.execution_reported,
    stages.fills_in_state,
    stages.fill_booked,
  ];
  return {
    "soak.duration_s": durationS,
    "soak.tick_ms": 10,
    "soak.rss_start_mb": Number(rssStart.toFixed(1)),
    "soak.rss_slope_mb_per_h": Number(rssSlope.toFixed(2)),
    "soak.rss_slope_all_samples_mb_per_h": Number(slopePerHour(rss).toFixed(2)),
    "soak.heap_slope_mb_per_h": Number(slopePerHour(windowMinima(heapUsed)).toFixed(2)),
    "soak.stand_in_data_mb_per_h": Number(dataPerH.toFixed(2)),
    ...Object.fromEntries(Object.entries(data).map(([k, v]) => [`soak.stand_in_data_mb.${k}`, Number(v.toFixed(2))])),
    "soak.rss_slope_net_of_stand_ins_mb_per_h": Number((rssSlope - dataPerH).toFixed(2)),
    "soak.event_loop_delay_p99_ms": Number((loop.percentile(99) / 1e6).toFixed(2)),
    "soak.trades": trades,
    "soak.report_bytes_per_trade": trades > 0 ? Math.round(statSync(result.reportPath).size / trades) : Number.NaN,
    ...Object.fromEntries(Object.entries(stages).map(([k, v]) => [`soak.stage.${k}`, v])),
    "soak.pipeline_reconciled": core.every((n) => n === core[0]) ? 1 : 0,
    "soak.dead_letters": c.deadLetters,
  };
}
