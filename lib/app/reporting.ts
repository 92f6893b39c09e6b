// reporting: a schedule, PositionChanged (at most one per strategy per debounce window) or a direct invocation → the domain's
// performance metrics per strategy from the ledger (fills, positions, equity curve) → a report item, an
// equity-curve point, and ReportGenerated. The fills' sums are carried from report to report (ReportLedger).
import * as z from "zod";
import { Decimal, dec } from "../domain/decimal";
import {
  addFillStats,
  computeMetrics,
  EMPTY_FILL_STATS,
  type FillStats,
  type PerformanceMetrics,
} from "../domain/metrics";
import { type Position, unrealizedPnl } from "../domain/portfolio/position";
import { buildBusEvent } from "../events/build";
import { fromZodError } from "../events/errors";
import { checkNesting, type ParsedEvent, parseEventBridgeEvent } from "../events/parse";
import { Identifier } from "../events/primitives";
import { assertPublished } from "../ports/EventBus";
import type { FillRecord, ReportLedger, ReportRecord } from "../ports/StateStore";
import { metricsFillFromRecord } from "../report/metricsReport";
import type { BaseDependencies } from "./wiring/base";

export type ReportTrigger = "SCHEDULE" | "POSITION_CHANGED" | "DIRECT";

export type ReportingInput =
  | { trigger: "POSITION_CHANGED"; event: ParsedEvent<"PositionChanged">; strategyIds: string[] }
  | { trigger: "SCHEDULE" | "DIRECT"; strategyIds?: string[]; correlationId?: string };

const DirectInvocation = z.object({
  trigger: z.enum(["SCHEDULE", "DIRECT"]),
  strategyId: Identifier.optional(),
  strategyIds: z.array(Identifier).max(100).optional(),
});

/**
 * Accepts: an EventBridge PositionChanged event; EventBridge's own "Scheduled Event"; or `{ trigger, strategyId? }`
 * (the schedule rule's constant input, or a direct invoke). Anything else → EventValidationError.
 */
export function parseReportingInput(event: unknown): ReportingInput {
  checkNesting(event, "(event)", "ReportingInvocation");
  if (event !== null && typeof event === "object" && "detail-type" in event) {
    if ((event as Record<string, unknown>)["detail-type"] === "Scheduled Event") return { trigger: "SCHEDULE" };
    const e = parseEventBridgeEvent(event, "PositionChanged");
    return { trigger: "POSITION_CHANGED", event: e, strategyIds: [e.detail.data.strategyId] };
  }
  const r = DirectInvocation.safeParse(event);
  if (!r.success) throw fromZodError(r.error, event, "ReportingInvocation");
  const ids = [...(r.data.strategyIds ?? []), ...(r.data.strategyId ? [r.data.strategyId] : [])];
  return { trigger: r.data.trigger, ...(ids.length ? { strategyIds: ids } : {}) };
}

export interface StrategyReport {
  strategyId: string;
  skipped?: string;
  report?: ReportRecord;
}

export interface ReportingOutcome {
  trigger: ReportTrigger;
  reports: StrategyReport[];
}

/** The stored/published form: money as exact strings, ratios as numbers (null when undefined). */
export function serializeMetrics(m: PerformanceMetrics): Record<string, unknown> {
  return {
    totalPnl: m.totalPnl.toFixed(),
    realizedPnl: m.realizedPnl.toFixed(),
    unrealizedPnl: m.unrealizedPnl.toFixed(),
    fees: m.fees.toFixed(),
    sharpe: m.sharpe,
    sharpeConvention: m.sharpeConvention,
    sortino: m.sortino,
    ...(m.annualisedNullReason !== undefined ? { annualisedNullReason: m.annualisedNullReason } : {}),
    perPeriodSharpe: { ...m.perPeriod },
    maxDrawdown: m.maxDrawdown.toFixed(),
    maxDrawdownPct: m.maxDrawdownPct,
    calmar: m.calmar,
    winRate: m.winRate,
    profitFactor: m.profitFactor,
    expectancy: m.expectancy.toFixed(),
    tradeCount: m.tradeCount,
    turnover: m.turnover.toFixed(),
    startingEquity: m.startingEquity.toFixed(),
    endingEquity: m.endingEquity.toFixed(),
    periods: m.returns.length,
  };
}

async function markOf(deps: BaseDependencies, symbol: string, now: number): Promise<Decimal | undefined> {
  const snaps = await deps.store.listSnapshots(symbol, { now, maxAgeMs: Number.MAX_SAFE_INTEGER });
  const latest = snaps.reduce<(typeof snaps)[number] | undefined>(
    (b, s) => (!b || s.quote.ts > b.quote.ts ? s : b),
    undefined,
  );
  return latest ? latest.quote.bid.plus(latest.quote.ask).div(2) : undefined;
}

const statsOf = (l: ReportLedger): FillStats => ({
  count: l.count,
  turnover: dec(l.turnover),
  closing: l.closing,
  wins: l.wins,
  grossProfit: dec(l.grossProfit),
  grossLoss: dec(l.grossLoss),
});

/** `prev` (or nothing) plus `fills`, with the newest fill time and the ids counted at it. */
function extendLedger(prev: ReportLedger | undefined, fills: readonly FillRecord[]): ReportLedger {
  const s = addFillStats(prev ? statsOf(prev) : EMPTY_FILL_STATS, fills.map(metricsFillFromRecord));
  const throughTs = fills.reduce((t, f) => Math.max(t, f.ts), prev?.throughTs ?? 0);
  const ids = fills.filter((f) => f.ts === throughTs).map((f) => f.executionId);
  return {
    count: s.count,
    turnover: s.turnover.toFixed(),
    closing: s.closing,
    wins: s.wins,
    grossProfit: s.grossProfit.toFixed(),
    grossLoss: s.grossLoss.toFixed(),
    throughTs,
    throughIds: [...(prev && prev.throughTs === throughTs ? prev.throughIds : []), ...ids].sort(),
  };
}

/**
 * The ledger's sums up to `now`: the last report's plus the fills booked at or after its newest fill time. The
 * positions count every fill (`fillCount`, written in the fill's transaction); when the sums disagree with them (a
 * fill booked late with an older time, or one after `now`), the whole ledger is read instead.
 */
async function readLedger(
  deps: BaseDependencies,
  strategyId: string,
  now: number,
  prev: ReportLedger | undefined,
  booked: number,
): Promise<ReportLedger> {
  if (prev && prev.count <= booked && prev.throughTs <= now) {
    const seen = new Set(prev.throughIds);
    const fresh = await deps.store.listFillsByStrategy(strategyId, { from: prev.throughTs, to: now });
    const next = extendLedger(
      prev,
      fresh.filter((f) => !(f.ts === prev.throughTs && seen.has(f.executionId))),
    );
    if (next.count === booked) return next;
  }
  return extendLedger(undefined, await deps.store.listFillsByStrategy(strategyId, { to: now }));
}

export async function reportStrategy(
  deps: BaseDependencies,
  strategyId: string,
  trigger: ReportTrigger,
  now: number,
  /** The strategy's latest report if the caller has read it (null: none); read here when undefined. */
  last?: ReportRecord | null,
): Promise<ReportRecord> {
  const settings = await deps.settings.get();
  const prev = last === undefined ? (await deps.store.getLatestReport(strategyId))?.ledger : last?.ledger;
  // Positions and the ledger are two reads: a fill landing between them would give a report whose trades and
  // PnL disagree. Read positions again after the fills; if they moved, read both again (fills keep coming).
  const stamp = (ps: readonly Position[]) =>
    ps
      .map((p) => `${p.symbol}|${p.fillCount}`)
      .sort()
      .join();
  const booked = (ps: readonly Position[]) => ps.reduce((a, p) => a + p.fillCount, 0);
  let positions = await deps.store.listPositions({ strategyId });
  let ledger = await readLedger(deps, strategyId, now, prev, booked(positions));
  for (let attempt = 0; attempt < 5; attempt++) {
    const again = await deps.store.listPositions({ strategyId });
    if (stamp(again) === stamp(positions)) break;
    positions = again;
    ledger = await readLedger(deps, strategyId, now, prev, booked(positions));
  }
  const points = await deps.store.listEquityPoints(strategyId, { to: now });
  let realized = new Decimal(0);
  let unrealized = new Decimal(0);
  let fees = new Decimal(0);
  for (const p of positions) {
    realized = realized.plus(p.realizedPnl);
    fees = fees.plus(p.fees);
    // Marked at the latest mid; without any snapshot the position is carried at its entry price.
    const mark = (await markOf(deps, p.symbol, now)) ?? p.averageEntryPrice;
    if (!p.quantity.isZero()) unrealized = unrealized.plus(unrealizedPnl(p, mark));
  }
  const equity = dec(settings.reporting.startingEquity).plus(realized).plus(unrealized).minus(fees);
  const curve = [
    ...points.filter((p) => p.ts < now).map((p) => ({ ts: p.ts, equity: dec(p.equity) })),
    { ts: now, equity },
  ];
  const metrics = computeMetrics({
    equityCurve: curve,
    fillStats: statsOf(ledger),
    realizedPnl: realized,
    unrealizedPnl: unrealized,
    fees,
    periodMs: settings.reporting.periodMs,
  });
  const report: ReportRecord = {
    reportId: `rpt-${strategyId}-${now}`,
    strategyId,
    asOf: now,
    trigger,
    metrics: serializeMetrics(metrics),
    ...(curve[0] ? { periodStart: curve[0].ts } : {}),
    positionVersions: Object.fromEntries(positions.map((p) => [p.symbol, p.version])),
    ledger,
  };
  await deps.store.saveReport(report);
  await deps.store.appendEquityPoints([
    {
      strategyId,
      ts: now,
      equity: equity.toFixed(),
      realizedPnl: realized.toFixed(),
      unrealizedPnl: unrealized.toFixed(),
      fees: fees.toFixed(),
    },
  ]);
  return report;
}

export async function handleReporting(input: ReportingInput, deps: BaseDependencies): Promise<ReportingOutcome> {
  const settings = await deps.settings.get();
  const now = deps.clock();
  const ids = input.strategyIds ?? [...new Set((await deps.store.listPositions()).map((p) => p.strategyId))].sort();
  const out: StrategyReport[] = [];
  const events = [];
  for (const strategyId of ids) {
    let last: ReportRecord | null | undefined;
    if (input.trigger === "POSITION_CHANGED") {
      // At most one report per strategy per window, even for a change the last report does not include: the next
      // change after the window, or the schedule, reports it (every report counts every booked fill).
      last = (await deps.store.getLatestReport(strategyId)) ?? null;
      const { symbol, version } = input.event.detail.data;
      const age = last ? now - last.asOf : Number.POSITIVE_INFINITY;
      if (age >= 0 && age < settings.reporting.debounceMs) {
        const covered = (last?.positionVersions?.[symbol] ?? 0) >= version;
        const why = covered ? `includes v${version}` : `v${version} waits for the next report or the schedule`;
        out.push({ strategyId, skipped: `debounced: last report ${age} ms ago ${why}` });
        continue;
      }
    }
    const report = await reportStrategy(deps, strategyId, input.trigger, now, last);
    out.push({ strategyId, report });
    const m = report.metrics as ReturnType<typeof serializeMetrics>;
    const correlation =
      input.trigger === "POSITION_CHANGED" ? { correlationId: input.event.detail.meta.correlationId } : {};
    events.push(
      buildBusEvent(
        "tse.engine",
        "ReportGenerated",
        {
          reportId: report.reportId,
          strategyId,
          trigger: input.trigger,
          ...(report.periodStart !== undefined ? { periodStart: new Date(report.periodStart).toISOString() } : {}),
          periodEnd: new Date(now).toISOString(),
          metrics: {
            totalPnl: m.totalPnl as string,
            realizedPnl: m.realizedPnl as string,
            unrealizedPnl: m.unrealizedPnl as string,
            fees: m.fees as string,
            maxDrawdown: m.maxDrawdown as string,
            maxDrawdownPct: m.maxDrawdownPct as number,
            sharpe: m.sharpe as number | null,
            sortino: m.sortino as number | null,
            winRate: m.winRate as number | null,
            trades: m.tradeCount as number,
          },
        },
        { now, ...correlation, eventId: report.reportId },
      ),
    );
  }
  if (events.length) assertPublished(await deps.bus.publish(events));
  return { trigger: input.trigger, reports: out };
}
