// The shared risk state (the RISKSTATE item) ↔ a domain RiskEngine. Every writer restores an engine from the
// stored record, lets it decide, and writes its snapshot back under the record's version (docs/state.md).

import { Portfolio } from "../domain/portfolio/Portfolio";
import type { Position } from "../domain/portfolio/position";
import type { RiskLimits, RiskLimitsInput } from "../domain/risk/limits";
import { RiskEngine, type TradingStateChange } from "../domain/risk/RiskEngine";
import { RATE_WINDOW_MS, type RiskMemorySnapshot } from "../domain/risk/riskMemory";
import type { Instrument } from "../domain/types";
import type { RiskStateInput, RiskStateRecord } from "../ports/StateStore";

/** A fresh engine holding the stored memory and trading state; `changes` collects what it changes from here. */
export function riskEngineFrom(
  record: RiskStateRecord | undefined,
  limits: RiskLimits | RiskLimitsInput | Record<string, unknown>,
): { engine: RiskEngine; changes: TradingStateChange[] } {
  const changes: TradingStateChange[] = [];
  const engine = new RiskEngine({ limits: limits as RiskLimitsInput, onStateChange: (c) => changes.push(c) });
  if (record?.engine) engine.restore(record.engine);
  if (record) engine.restoreTradingState(record.state, record.strategies);
  return { engine, changes };
}

/**
 * The record to write back: the engine's trading state and memory. The reason / source / time describe the last
 * trading-state change: this invocation's newest one, else the stored record's. `ownRates`: the strategies whose
 * rate windows this writer changed; every other window stays exactly as stored (a writer's limits never cut
 * another path's window). Default: all from the engine.
 */
export function riskStateInput(
  engine: RiskEngine,
  now: number,
  previous: RiskStateRecord | undefined,
  changes: readonly TradingStateChange[],
  ownRates?: readonly string[],
): RiskStateInput {
  const last = changes.at(-1);
  const why = last
    ? { reason: last.reason, at: last.at, source: last.rule as string }
    : { reason: previous?.reason ?? "", at: previous?.at ?? now, source: previous?.source };
  return {
    state: engine.tradingState,
    strategies: engine.strategyStatesSnapshot(),
    reason: why.reason,
    at: why.at,
    ...(why.source !== undefined ? { source: why.source } : {}),
    engine: ownRates ? withRates(engine.snapshot(now), previous, ownRates, now) : engine.snapshot(now),
  };
}

function withRates(
  snap: RiskMemorySnapshot,
  previous: RiskStateRecord | undefined,
  ownRates: readonly string[],
  now: number,
): RiskMemorySnapshot {
  const ours = new Set(ownRates);
  const live = (ts: number[]) => ts.filter((t) => now - t < RATE_WINDOW_MS);
  const rates: RiskMemorySnapshot["rates"] = {};
  for (const [id, r] of Object.entries(previous?.engine?.rates ?? {})) {
    if (ours.has(id)) continue;
    // Windows older than a second are dropped, so the item does not grow with every strategy ever seen.
    const kept = { approvals: live(r.approvals), breaches: live(r.breaches) };
    if (kept.approvals.length > 0 || kept.breaches.length > 0) rates[id] = kept;
  }
  for (const id of ours) if (snap.rates[id]) rates[id] = snap.rates[id];
  return { ...snap, rates };
}

/**
 * The stored positions as a domain Portfolio marked at `mids` (symbols without a mid at their entry price),
 * so notional, PnL and net positions come from the one accounting model.
 */
export function portfolioFromPositions(
  positions: readonly Position[],
  mids: ReadonlyMap<string, number>,
  instruments?: readonly Instrument[],
): Portfolio {
  const p = new Portfolio(instruments ? { instruments } : {});
  p.loadPositions(positions);
  for (const [symbol, mid] of mids) if (mid > 0) p.setMark(symbol, mid);
  for (const pos of positions)
    if (!pos.quantity.isZero() && p.mark(pos.symbol) === undefined) p.setMark(pos.symbol, pos.averageEntryPrice);
  return p;
}
