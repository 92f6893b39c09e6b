// The shared risk state (the RISKSTATE item) ↔ a domain RiskEngine. Every writer restores an engine from the
// stored record, lets it decide, and writes its snapshot back under the record's version (docs/state.md).

import { Portfolio } from "../domain/portfolio/Portfolio";
import type { Position } from "../domain/portfolio/position";
import type { RiskLimits, RiskLimitsInput } from "../domain/risk/limits";
import { RiskEngine, type TradingStateChange } from "../domain/risk/RiskEngine";
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
 * trading-state change: this invocation's newest one, else the stored record's.
 */
export function riskStateInput(
  engine: RiskEngine,
  now: number,
  previous: RiskStateRecord | undefined,
  changes: readonly TradingStateChange[],
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
    engine: engine.snapshot(now),
  };
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
