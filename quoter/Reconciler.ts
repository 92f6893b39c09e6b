// Reconciliation of the quoter's local inventory with the state store's positions (its strategies only).
// Policy: a difference is a drift (logged, counted). The store is fed asynchronously from the very executions
// this quoter applies, so a difference seen once may be in flight. A drift that persists unchanged across two
// consecutive reconciliations (same local quantity, same stored version) is corrected: the local inventory adopts
// the store's quantity (the store is the system of record) through an adjusting fill at the current mark.
import { ZERO } from "../lib/domain/decimal";
import type { Portfolio } from "../lib/domain/portfolio/Portfolio";
import type { PositionRepository } from "../lib/ports/StateStore";
import type { QuoterCounters, QuoterLogger } from "./types";

export interface ReconcilerOptions {
  repo: PositionRepository;
  portfolio: Portfolio;
  strategyIds: () => Iterable<string>;
  /** Marks from the latest mids, before comparing. */
  refreshMarks: () => void;
  defaultVenue: string;
  counters: QuoterCounters;
  log: QuoterLogger;
  now: () => number;
}

export class Reconciler {
  private readonly driftSeen = new Map<string, { local: string; stored: string; version: number }>();

  constructor(private readonly o: ReconcilerOptions) {}

  async reconcile(): Promise<{ drifts: number; corrected: number }> {
    const { repo, portfolio, counters, log } = this.o;
    counters.reconciliations++;
    let drifts = 0;
    let corrected = 0;
    try {
      const stored = await repo.listPositions();
      const byKey = new Map(stored.map((p) => [`${p.strategyId}|${p.symbol}`, p]));
      const keys = new Set<string>();
      for (const id of this.o.strategyIds()) {
        for (const p of portfolio.positions(id)) keys.add(`${id}|${p.symbol}`);
        for (const p of stored) if (p.strategyId === id) keys.add(`${id}|${p.symbol}`);
      }
      this.o.refreshMarks();
      for (const key of keys) {
        const [sid, symbol] = key.split("|") as [string, string];
        const local = portfolio.position(sid, symbol)?.quantity ?? ZERO;
        const s = byKey.get(key);
        const remote = s?.quantity ?? ZERO;
        if (local.eq(remote)) {
          this.driftSeen.delete(key);
          continue;
        }
        drifts++;
        counters.reconcileDrifts++;
        const seen = this.driftSeen.get(key);
        const version = s?.version ?? 0;
        log.warn("inventory drift vs state store", {
          strategyId: sid,
          symbol,
          local: local.toFixed(),
          stored: remote.toFixed(),
          storedVersion: version,
          persistent: !!seen,
        });
        if (seen && seen.local === local.toFixed() && seen.stored === remote.toFixed() && seen.version === version) {
          const mark = portfolio.mark(symbol);
          if (!mark) continue;
          const delta = remote.minus(local);
          const now = this.o.now();
          portfolio.applyFill({
            strategyId: sid,
            symbol,
            venue: portfolio.position(sid, symbol)?.venue ?? s?.venue ?? this.o.defaultVenue,
            side: delta.gt(0) ? "BUY" : "SELL",
            quantity: delta.abs(),
            price: mark,
            fee: "0",
            ts: now,
            fillId: `reconcile-${now}`,
          });
          corrected++;
          counters.reconcileCorrections++;
          this.driftSeen.delete(key);
          log.warn("inventory corrected to the state store", { strategyId: sid, symbol, delta: delta.toFixed() });
        } else {
          this.driftSeen.set(key, { local: local.toFixed(), stored: remote.toFixed(), version });
        }
      }
    } catch (err) {
      counters.reconcileErrors++;
      log.error("reconciliation failed", { error: String(err) });
    }
    return { drifts, corrected };
  }
}
