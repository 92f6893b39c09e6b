// Writing the engine-wide trading state (kill switch, breaker escalation) into the shared risk state, where every
// path reads it (order-placement, fill-handling, the quoter's RiskStateSync). The risk engine's memory on the
// same item is kept as it is.
import type { TradingStateChange } from "../domain/risk/RiskEngine";
import type { TradingState } from "../domain/types";
import { type RiskStateRepository, type TradingStateRecord, VersionConflictError } from "../ports/StateStore";

export interface TradingStateChangeRequest {
  state: TradingState;
  reason: string;
  /** Epoch ms (the caller's clock). */
  at: number;
  /** Only this strategy; without it, the portfolio-wide state. */
  strategyId?: string;
  /** Who sets it, e.g. "kill-switch", "control-api", "breaker:rapid-loss". */
  source?: string;
}

/**
 * Set the persisted trading state (read-modify-write under the record's version; a lost race re-reads and
 * applies the change again, so concurrent writers never drop each other's strategy entries).
 */
export async function setEngineTradingState(
  store: RiskStateRepository,
  change: TradingStateChangeRequest,
  maxAttempts = 10,
): Promise<TradingStateRecord> {
  for (let attempt = 1; ; attempt++) {
    const cur = await store.getRiskState();
    const strategies = { ...(cur?.strategies ?? {}) };
    if (change.strategyId !== undefined) strategies[change.strategyId] = change.state;
    try {
      const { engine: _memory, ...written } = await store.putRiskState(
        {
          state: change.strategyId === undefined ? change.state : (cur?.state ?? "ACTIVE"),
          strategies,
          reason: change.reason,
          at: change.at,
          ...(change.source !== undefined ? { source: change.source } : {}),
          ...(cur?.engine ? { engine: cur.engine } : {}),
        },
        cur?.version ?? 0,
      );
      return written;
    } catch (e) {
      if (!(e instanceof VersionConflictError) || attempt >= maxAttempts) throw e;
    }
  }
}

/**
 * (Superseded by RiskStateSync, which the quoter and the session use: it also shares the engine's memory and
 * adopts changes made elsewhere. Kept for embedders that only need the one-way write.)
 * Persist every trading-state change of an in-process risk engine (the quoter's) so that order-placement,
 * which reads the stored record, honours the kill switch and breaker trips. Writes are chained so that
 * quick successive changes (HALTED then ACTIVE) land in the order they happened. Returns a function that
 * resolves once every change so far is written.
 */
export function persistTradingStateChanges(
  onStateChange: (listener: (c: TradingStateChange) => void) => void,
  store: RiskStateRepository,
  onError: (message: string) => void,
): () => Promise<void> {
  let chain: Promise<unknown> = Promise.resolve();
  onStateChange((c) => {
    chain = chain.then(() =>
      setEngineTradingState(store, {
        state: c.to,
        reason: c.reason,
        at: c.at,
        ...(c.scope !== "portfolio" ? { strategyId: c.scope } : {}),
        source: `quoter:${c.rule}`,
      }).catch((e: unknown) => onError(`trading state not persisted: ${e instanceof Error ? e.message : String(e)}`)),
    );
  });
  return () => chain.then(() => undefined);
}
