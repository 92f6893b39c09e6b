// Writing the engine-wide trading state (kill switch, breaker escalation) where every process reads it:
// order-placement builds a fresh RiskEngine per invocation and takes its state from this record.
import type { TradingState } from "../domain/types";
import { type TradingStateRecord, type TradingStateRepository, VersionConflictError } from "../ports/StateStore";

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
  store: TradingStateRepository,
  change: TradingStateChangeRequest,
  maxAttempts = 10,
): Promise<TradingStateRecord> {
  for (let attempt = 1; ; attempt++) {
    const cur = await store.getTradingState();
    const strategies = { ...(cur?.strategies ?? {}) };
    if (change.strategyId !== undefined) strategies[change.strategyId] = change.state;
    try {
      return await store.putTradingState(
        {
          state: change.strategyId === undefined ? change.state : (cur?.state ?? "ACTIVE"),
          strategies,
          reason: change.reason,
          at: change.at,
          ...(change.source !== undefined ? { source: change.source } : {}),
        },
        cur?.version ?? 0,
      );
    } catch (e) {
      if (!(e instanceof VersionConflictError) || attempt >= maxAttempts) throw e;
    }
  }
}
