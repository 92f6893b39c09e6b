// Cost model (`npx tsx bench/run.ts cost`): a replay of market ticks through the real pipeline (bench/cost/replay.ts),
// every PutEvents entry, Lambda invocation (with its measured duration), DynamoDB request unit and DLQ message
// counted, priced with the one table of us-east-1 list prices (bench/cost/prices.ts), scaled linearly to 1M ticks.
//   cost.usd_per_1m_ticks                  the deployed default: the quoter's bridge in batch mode (one
//                                          MarketSnapshotBatch of every book per second, --snapshot-mode batch)
//   cost.breakdown.<item>_usd              eventbridge, lambda_requests, lambda_duration, dynamodb_write,
//                                          dynamodb_read, sqs_dlq (per 1M ticks)
//   cost.counts.<count>                    per 1M ticks: put_events_calls/entries/billed, ddb_requests, wru, gsi_wru,
//                                          rru, dlq_messages, lambda_invocations.<fn>, events.<detail-type>
//   cost.by_scope.<function|publisher>_usd where the money goes (entries + request units + Lambda)
//   cost.lambda.<fn>.wall_p50_ms / billed_p50_ms / memory_mb  measured here / modelled at the stack's memory size
//   cost.sample_ticks, cost.half_sample.usd_per_1m_ticks, cost.stability_ratio  the same replay over half the
//                                          ticks: per-tick figures that scale linearly give a ratio near 1
//   cost.half_sample.counts.* / .by_scope.reporting_usd  the counts of that half sample, to see which scale
//   cost.market_data.usd_per_1m_ticks      the tick-driven part alone: the bridge's snapshot entries and the signal
//                                          function (everything else is paid per signal and per fill)
//   cost.per_signal_usd / cost.per_fill_usd  what one signal (order placement) and one fill (fill handling,
//                                          reporting, settlement, their entries) cost
//   cost.quiet_market.*, cost.before.quiet_market.usd_per_1m_ticks  the same without a scenario (no arbitrage, so
//                                          no signal and no fill): the tick-driven floor, batched and per-book
//   cost.before.*                          the same run with the old configuration, a MarketSnapshot per venue+symbol
//                                          (--snapshot-mode per-book, 1 s interval, early on 5 bps / 2 bps moves)
// TSE_COST_TICKS (default 12000) sets the sample; the replay is deterministic (seeded market, virtual time).

import { envConfig } from "../cdk/config";
import { FUNCTION_ARCHITECTURE, FUNCTION_SETTINGS } from "../cdk/TradingEngineStack";
import { type CostModel, type FunctionSizing, priceReplay } from "./cost/model";
import { PRICES_CHECKED_ON } from "./cost/prices";
import { replay } from "./cost/replay";

const round = (x: number, dp: number) => Number(x.toFixed(dp));

function figures(prefix: string, m: CostModel, full: boolean): Record<string, number> {
  const out: Record<string, number> = { [`${prefix}.usd_per_1m_ticks`]: round(m.usdPer1mTicks, 4) };
  for (const [k, v] of Object.entries(m.breakdown)) out[`${prefix}.breakdown.${k}_usd`] = round(v, 4);
  if (!full) return out;
  for (const [k, v] of Object.entries(m.counts)) out[`${prefix}.counts.${k}`] = Math.round(v);
  for (const [k, v] of Object.entries(m.byScope)) out[`${prefix}.by_scope.${k}_usd`] = round(v, 4);
  for (const [fn, l] of Object.entries(m.lambda)) {
    out[`${prefix}.lambda.${fn}.wall_p50_ms`] = round(l.wallP50Ms, 2);
    out[`${prefix}.lambda.${fn}.billed_p50_ms`] = l.billedP50Ms;
    out[`${prefix}.lambda.${fn}.memory_mb`] = l.memoryMb;
  }
  return out;
}

/** The tick-driven part: the bridge's snapshot entries and the signal function (its own signals' entries included). */
const marketData = (m: CostModel) => (m.byScope["quoter-bridge"] ?? 0) + (m.byScope.signal ?? 0);

/** USD of one `detailType` event: what the scopes it drives spend, over how many there were (both per 1M ticks). */
function perEvent(m: CostModel, scopes: readonly string[], detailType: string): number {
  const n = m.counts[`events.${detailType}`] ?? 0;
  return n > 0 ? Number((scopes.reduce((a, s) => a + (m.byScope[s] ?? 0), 0) / n).toPrecision(3)) : 0;
}

export async function run(progress: (m: string) => void): Promise<Record<string, number>> {
  process.env.POWERTOOLS_METRICS_DISABLED = "true";
  process.env.POWERTOOLS_LOG_LEVEL = "SILENT";
  const ticks = Number(process.env.TSE_COST_TICKS ?? 12_000);
  if (!Number.isInteger(ticks) || ticks < 1000)
    throw new Error(`TSE_COST_TICKS must be an integer ≥ 1000, got ${ticks}`);
  // Memory sizes and architecture as the stack deploys them; schedules at the prod rates.
  const sizing: Record<string, FunctionSizing> = Object.fromEntries(
    Object.entries(FUNCTION_SETTINGS).map(([fn, s]) => [
      fn,
      { memoryMb: s.memorySize, architecture: FUNCTION_ARCHITECTURE.name === "arm64" ? "arm64" : "x86_64" },
    ]),
  );
  const prod = envConfig("prod");
  const base = {
    reportingEveryMs: prod.reportingRate.toMilliseconds(),
    reconciliationEveryMs: prod.reconciliationRate.toMilliseconds(),
  };
  const timed = async (label: string, n: number, extra: Partial<Parameters<typeof replay>[0]> = {}) => {
    const t0 = Date.now();
    const r = await replay({ ...base, ...extra, ticks: n, progress: (m) => progress(`${label}: ${m}`) });
    const m = priceReplay(r, sizing);
    progress(
      `${label}: ${n} ticks in ${((Date.now() - t0) / 1000).toFixed(1)} s → $${m.usdPer1mTicks.toFixed(4)} per 1M ticks`,
    );
    return m;
  };
  const batch = { snapshots: { batch: true } };
  const full = await timed("batched (default)", ticks, batch);
  const half = await timed("batched, half sample", Math.floor(ticks / 2), batch);
  // The old configuration over half the sample (it is the slow one: a signal invocation per book update).
  const before = await timed("per-book (before)", Math.floor(ticks / 2));
  // A market without arbitrage (no scenario): every dollar is tick-driven, the floor of the design.
  const quiet = await timed("quiet market, batched", ticks, { ...batch, scenario: "NORMAL" });
  const quietBefore = await timed("quiet market, per-book (before)", Math.floor(ticks / 2), { scenario: "NORMAL" });
  return {
    ...figures("cost", full, true),
    "cost.market_data.usd_per_1m_ticks": round(marketData(full), 4),
    "cost.before.market_data.usd_per_1m_ticks": round(marketData(before), 4),
    "cost.per_signal_usd": perEvent(full, ["order-placement"], "SignalGenerated"),
    "cost.per_fill_usd": perEvent(
      full,
      ["fill-handling", "reporting", "settlement", "execution-forwarder"],
      "ExecutionReported",
    ),
    "cost.sample_ticks": ticks,
    "cost.scaled_linearly": 1,
    "cost.prices_checked_on": Number(PRICES_CHECKED_ON.replace(/-/g, "")),
    "cost.half_sample.usd_per_1m_ticks": round(half.usdPer1mTicks, 4),
    "cost.stability_ratio": round(half.usdPer1mTicks / full.usdPer1mTicks, 3),
    // Which per-tick counts hold across the two samples (reporting's reads grow with the ledger, see docs).
    ...Object.fromEntries(
      ["put_events_entries", "lambda_invocations.signal", "lambda_invocations.fill-handling", "wru", "rru"].map((k) => [
        `cost.half_sample.counts.${k}`,
        Math.round(half.counts[k] ?? 0),
      ]),
    ),
    "cost.half_sample.by_scope.reporting_usd": round(half.byScope.reporting ?? 0, 4),
    ...figures("cost.before", before, false),
    "cost.before.counts.put_events_entries": Math.round(before.counts.put_events_entries ?? 0),
    "cost.before.counts.lambda_invocations.signal": Math.round(before.counts["lambda_invocations.signal"] ?? 0),
    "cost.before_vs_after": round(before.usdPer1mTicks / full.usdPer1mTicks, 2),
    ...figures("cost.quiet_market", quiet, false),
    "cost.quiet_market.counts.put_events_entries": Math.round(quiet.counts.put_events_entries ?? 0),
    "cost.quiet_market.counts.events.SignalGenerated": Math.round(quiet.counts["events.SignalGenerated"] ?? 0),
    "cost.before.quiet_market.usd_per_1m_ticks": round(quietBefore.usdPer1mTicks, 4),
  };
}
