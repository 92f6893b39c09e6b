// Keeps a long-lived in-process RiskEngine (the quoter's) and the shared risk state (RISKSTATE) as one:
//  - on start, the engine takes the stored memory (equity tracking, its strategies' rate windows) and trading state;
//  - its own trading-state changes (kill switch, breaker trips) are written, in order, with version-checked writes;
//  - every interval it merges: the stored state + its strategies' rate windows + its newest equity mark + its
//    pending changes are written back, and it adopts the result — so a HALTED set by another path (the serverless
//    rapid-loss breaker, an operator) reaches it within one interval, through its onStateChange (cancel-all).
import type { RiskEngine, TradingStateChange } from "../domain/risk/RiskEngine";
import type { TradingState } from "../domain/types";
import { type RiskStateRecord, type RiskStateRepository, VersionConflictError } from "../ports/StateStore";
import { riskEngineFrom, riskStateInput } from "./riskState";

export interface RiskStateSyncOptions {
  store: RiskStateRepository;
  /** The live engine (e.g. `quoter.risk`). */
  engine: RiskEngine;
  /** Registers a listener for the engine's trading-state changes (e.g. `quoter.onStateChange`). */
  subscribe: (listener: (c: TradingStateChange) => void) => void;
  /** Strategies whose order-rate windows this engine owns (the others' are kept as stored). */
  ownStrategies: () => readonly string[];
  /** Merge period, ms. Default 1000. */
  intervalMs?: number;
  now?: () => number;
  onError?: (message: string) => void;
  /** Prefix of the record's `source` for this engine's own changes. Default "quoter". */
  source?: string;
}

const MAX_ATTEMPTS = 5;

export class RiskStateSync {
  private readonly o: RiskStateSyncOptions;
  private readonly now: () => number;
  /** Local changes not yet written, oldest first. */
  private pending: TradingStateChange[] = [];
  private applyingRemote = false;
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  /** Writes that lost every attempt (a conflict storm) or failed; for status and tests. */
  failures = 0;
  syncs = 0;

  constructor(opts: RiskStateSyncOptions) {
    this.o = opts;
    this.now = opts.now ?? Date.now;
    opts.subscribe((c) => {
      if (this.applyingRemote) return;
      this.pending.push(c);
      void this.syncNow();
    });
  }

  /** Take over the stored state, then merge every interval. Call before the engine starts deciding. */
  async start(): Promise<void> {
    const cur = await this.o.store.getRiskState();
    if (cur?.engine) this.o.engine.restore(cur.engine, { rates: this.o.ownStrategies() });
    if (cur) this.o.engine.restoreTradingState(cur.state, cur.strategies);
    const ms = this.o.intervalMs ?? 1000;
    if (ms > 0) {
      this.timer = setInterval(() => void this.syncNow(), ms);
      this.timer.unref();
    }
  }

  /** Merge once (serialized after any merge in flight). */
  syncNow(): Promise<void> {
    const run = this.chain.then(() => this.mergeOnce());
    this.chain = run.catch((e: unknown) => {
      this.failures++;
      this.o.onError?.(`risk state not synced: ${e instanceof Error ? e.message : String(e)}`);
    });
    return this.chain.then(() => undefined);
  }

  /** Resolves once every change so far is written (or failed). */
  flush(): Promise<void> {
    return this.pending.length > 0 ? this.syncNow() : this.chain.then(() => undefined);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.syncNow();
  }

  private async mergeOnce(): Promise<void> {
    const live = this.o.engine;
    for (let attempt = 1; ; attempt++) {
      const cur = await this.o.store.getRiskState();
      const now = this.now();
      const mine = live.snapshot(now);
      const taken = this.pending.length;
      const { engine: merged, changes } = riskEngineFrom(cur, live.limits);
      merged.restore(mine, { equity: false, rates: this.o.ownStrategies() });
      const lastAt = mine.equity.lastAt;
      if (mine.equity.last !== null && lastAt !== null && lastAt > (cur?.engine?.equity.lastAt ?? -1))
        merged.markEquity(mine.equity.last, lastAt);
      const own = this.pending.slice(0, taken);
      for (const c of own) merged.setTradingState(c.to, c.reason, c.at, c.scope === "portfolio" ? undefined : c.scope);
      // Other paths' rate windows stay as stored; ours come from the live engine.
      const next = riskStateInput(merged, now, cur, changes, this.o.ownStrategies());
      const last = own.at(-1);
      // Our own change is recorded with its own rule (the merge replays it as a manual one).
      if (last)
        Object.assign(next, { reason: last.reason, at: last.at, source: `${this.o.source ?? "quoter"}:${last.rule}` });
      let written: RiskStateRecord;
      try {
        written = await this.o.store.putRiskState(next, cur?.version ?? 0);
      } catch (e) {
        if (e instanceof VersionConflictError && attempt < MAX_ATTEMPTS) continue;
        throw e;
      }
      this.syncs++;
      this.pending = this.pending.slice(taken);
      // Adopt the shared equity tracking, then re-mark our newest equity (marks made while we were away).
      const newest = live.snapshot(this.now()).equity;
      live.restore(written.engine!, { rates: "none" });
      if (newest.last !== null && newest.lastAt !== null && newest.lastAt > (written.engine?.equity.lastAt ?? -1))
        live.markEquity(newest.last, newest.lastAt);
      // A change made locally meanwhile is written next time; adopting now would undo it.
      if (this.pending.length === 0) this.adopt(written);
      return;
    }
  }

  /** Move the live engine to the stored trading state, through its normal change path (cancel-all on HALTED). */
  private adopt(rec: RiskStateRecord): void {
    const live = this.o.engine;
    const at = this.now();
    const reason = `shared risk state: ${rec.reason}${rec.source ? ` (${rec.source})` : ""}`;
    this.applyingRemote = true;
    try {
      if (live.tradingState !== rec.state) live.setTradingState(rec.state, reason, at);
      const ids = new Set([...Object.keys(live.strategyStatesSnapshot()), ...Object.keys(rec.strategies)]);
      for (const id of ids) {
        const want: TradingState = rec.strategies[id] ?? "ACTIVE";
        if (live.strategyState(id) !== want) live.setTradingState(want, reason, at, id);
      }
    } finally {
      this.applyingRemote = false;
    }
  }
}
