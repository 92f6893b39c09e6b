// Backtest throughput: ≥ 1M seeded synthetic L1 ticks in memory, the market-making strategy through the
// full engine (RiskEngine, simulated matching, Portfolio accounting, metrics), median of 5 timed runs,
// against a bare loop that only reads each tick of the same data in the same process.
import { runBacktest } from "../lib/backtest/engine/BacktestEngine";
import { type BacktestEvent, isTradePrint } from "../lib/backtest/engine/marketEvents";
import { syntheticQuotes } from "../lib/backtest/synthetic";
import { syntheticTape } from "../lib/backtest/syntheticTape";
import type { FastL1Quote } from "../lib/domain/strategies/quoteMath";
import { createStrategy } from "../lib/domain/strategies/registry";

const RUNS = 5;
const STEPS = 250_000; // × 2 venues × 2 symbols = 1,000,000 ticks
// Tick-like data: 10 ms steps, GBM + 0.3 bps per-quote noise, 0.2–1 bps half-spreads, slow venue divergence.
const DATA = {
  seed: 7,
  steps: STEPS,
  stepMs: 10,
  noiseBps: 0.3,
  divergenceBps: 1,
  divergenceReversion: 0.001,
  jumpProbability: 0,
  minHalfSpreadBps: 0.2,
  maxHalfSpreadBps: 1,
};
const MM_CONFIG = { spreadBps: 4, refreshToleranceBps: 2, orderQuantity: "0.01" };

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function bareLoop(quotes: readonly FastL1Quote[]): number {
  // Reads every tick's fields (as the engine's first step does) and nothing else.
  let acc = 0;
  for (let i = 0; i < quotes.length; i++) {
    const q = quotes[i]!;
    const n = q.n!;
    acc += q.ts + n.bid + n.ask + n.bidSize + n.askSize + q.venue.length + q.symbol.length;
  }
  return acc;
}

function bareEventLoop(events: readonly BacktestEvent[]): number {
  // Reads every event's fields (quote or trade) and nothing else.
  let acc = 0;
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    if (isTradePrint(e)) acc += e.ts + e.px + e.size + e.venue.length + e.symbol.length;
    else {
      const n = e.n!;
      acc += e.ts + n.bid + n.ask + n.bidSize + n.askSize + e.venue.length + e.symbol.length;
    }
  }
  return acc;
}

/**
 * `backtest.queue_model.events_per_s`: 1M events of a seeded real-shaped L1 + trades tape (one-tick
 * spread, touch sizes moved by adds/cancels and trades, ~10 % trade prints), market making through the
 * queue-risk-averse fill model, against a bare loop over the same events.
 */
async function queueModel(progress: (m: string) => void): Promise<Record<string, number>> {
  const t0 = performance.now();
  const events = [...syntheticTape({ events: 1_000_000 })];
  const prints = events.filter(isTradePrint).length;
  progress(
    `queue model: ${events.length} events (${prints} trades) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  const once = () =>
    runBacktest(events, {
      strategies: [createStrategy("market-making", "mm", MM_CONFIG)],
      fillModel: { kind: "queue-risk-averse" },
    });
  once(); // JIT warm-up (two runs: the queue paths settle later than the quote path), not timed
  const warm = once();
  progress(`queue model warm-up: ${warm.trades.length} fills, ${warm.ordersPlaced} orders placed`);
  bareEventLoop(events);
  const full: number[] = [];
  const fullCpu: number[] = [];
  const bare: number[] = [];
  let sink = 0;
  for (let r = 0; r < RUNS; r++) {
    let t = performance.now();
    const cpu0 = process.cpuUsage();
    sink += once().trades.length;
    full.push(events.length / ((performance.now() - t) / 1000));
    const cpu = process.cpuUsage(cpu0);
    fullCpu.push(events.length / ((cpu.user + cpu.system) / 1e6));
    t = performance.now();
    sink += bareEventLoop(events) > 0 ? 1 : 0;
    bare.push(events.length / ((performance.now() - t) / 1000));
    progress(`queue model run ${r + 1}/${RUNS}: ${Math.round(full[r]!)} events/s, bare loop ${Math.round(bare[r]!)}`);
  }
  if (sink < 0) progress("unreachable");
  return {
    "backtest.queue_model.events_per_s": Math.round(median(full)),
    "backtest.queue_model.bare_loop_events_per_s": Math.round(median(bare)),
    "backtest.queue_model.events_per_cpu_s": Math.round(median(fullCpu)),
    "backtest.queue_model.events": events.length,
    "backtest.queue_model.trade_prints": prints,
    "backtest.queue_model.fills_per_run": warm.trades.length,
    "backtest.queue_model.orders_per_run": warm.ordersPlaced,
  };
}

export async function run(progress: (m: string) => void): Promise<Record<string, number>> {
  // BENCH_ONLY=queue_model runs only the queue-model entry (the shared machine is small).
  if (process.env.BENCH_ONLY === "queue_model") return queueModel(progress);
  const t0 = performance.now();
  const quotes = [...syntheticQuotes(DATA)];
  progress(`generated ${quotes.length} ticks in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const once = () => runBacktest(quotes, { strategies: [createStrategy("market-making", "mm", MM_CONFIG)] });
  const warm = once(); // JIT warm-up, not timed
  progress(
    `warm-up: ${warm.trades.length} fills, ${warm.ordersPlaced} orders placed, ${warm.ordersDenied} denied, ` +
      `equity points ${warm.equityCurve.length}`,
  );
  bareLoop(quotes);

  const full: number[] = [];
  const fullCpu: number[] = [];
  const bare: number[] = [];
  let sink = 0;
  for (let r = 0; r < RUNS; r++) {
    let t = performance.now();
    const cpu0 = process.cpuUsage();
    const res = once();
    const dt = (performance.now() - t) / 1000;
    const cpu = process.cpuUsage(cpu0);
    full.push(quotes.length / dt);
    // Process CPU time (user+system): on a shared machine wall time also counts time spent descheduled.
    fullCpu.push(quotes.length / ((cpu.user + cpu.system) / 1e6));
    sink += res.trades.length;
    t = performance.now();
    sink += bareLoop(quotes) > 0 ? 1 : 0;
    bare.push(quotes.length / ((performance.now() - t) / 1000));
    progress(
      `run ${r + 1}/${RUNS}: backtest ${Math.round(full[r]!)} ticks/s, bare loop ${Math.round(bare[r]!)} ticks/s`,
    );
  }
  if (sink < 0) progress("unreachable"); // keep results observable so nothing is optimised away
  return {
    "backtest.ticks_per_s": Math.round(median(full)),
    "backtest.bare_loop_ticks_per_s": Math.round(median(bare)),
    "backtest.ticks_per_cpu_s": Math.round(median(fullCpu)),
    "backtest.ticks": quotes.length,
    "backtest.runs": RUNS,
    "backtest.fills_per_run": warm.trades.length,
    "backtest.orders_per_run": warm.ordersPlaced,
    ...(await queueModel(progress)),
  };
}
