// The quoter's engine and the shared risk state: it takes the stored state on start, writes its own changes with
// their rule, honours a HALTED set by another path (through its change listener: the quoter cancels everything
// there), never undoes a local change made while a merge was in flight, and shares its equity marks.
import { describe, expect, it } from "vitest";
import { InMemoryStateStore } from "../../lib/adapters/embedded/InMemoryStateStore";
import { RiskStateSync } from "../../lib/app/RiskStateSync";
import { setEngineTradingState } from "../../lib/app/tradingState";
import { RiskEngine, type TradingStateChange } from "../../lib/domain/risk";

const T0 = Date.UTC(2026, 3, 1, 12);

function quoterLike(store: InMemoryStateStore, now: () => number, maxOrdersPerSecond = 50) {
  const listeners: ((c: TradingStateChange) => void)[] = [];
  const seen: TradingStateChange[] = [];
  const engine = new RiskEngine({
    limits: { maxOrdersPerSecond },
    onStateChange: (c) => {
      seen.push(c);
      for (const l of listeners) l(c);
    },
  });
  const sync = new RiskStateSync({
    store,
    engine,
    subscribe: (l) => listeners.push(l),
    ownStrategies: () => ["mm-1"],
    intervalMs: 0,
    now,
  });
  return { engine, sync, seen };
}

describe("RiskStateSync", () => {
  it("takes the stored state, writes its own changes with their rule, and adopts a HALTED set elsewhere", async () => {
    const store = new InMemoryStateStore();
    let now = T0;
    // Memory left by the serverless path: an equity high-water mark and a strategy halt.
    const other = new RiskEngine();
    other.markEquity(1_000_000, T0 - 60_000);
    other.markEquity(1_020_000, T0 - 30_000);
    await store.putRiskState(
      { state: "ACTIVE", strategies: { "arb-1": "HALTED" }, reason: "breaker", at: T0 - 1, engine: other.snapshot(T0) },
      0,
    );
    const q = quoterLike(store, () => now);
    await q.sync.start();
    expect(q.engine.equityStatus()).toMatchObject({ peak: 1_020_000, last: 1_020_000 });
    expect(q.engine.strategyState("arb-1")).toBe("HALTED");

    q.engine.setTradingState("HALTED", "operator kill switch", now, "mm-1");
    await q.sync.flush();
    expect(await store.getTradingState()).toMatchObject({
      strategies: { "arb-1": "HALTED", "mm-1": "HALTED" },
      reason: "operator kill switch",
      source: "quoter:manual",
    });

    // The serverless rapid-loss breaker halts the portfolio: the quoter's engine follows within one merge, and
    // its listeners (the quoter's cancel-all) hear it.
    now += 1000;
    await setEngineTradingState(store, {
      state: "HALTED",
      reason: "equity fell -7%",
      at: now,
      source: "breaker-rapid-loss",
    });
    expect(q.engine.tradingState).toBe("ACTIVE");
    await q.sync.syncNow();
    expect(q.engine.tradingState).toBe("HALTED");
    expect(q.seen.at(-1)).toMatchObject({ scope: "portfolio", to: "HALTED" });
    expect(q.seen.at(-1)?.reason).toMatch(/equity fell -7%.*breaker-rapid-loss/);
    // Adopting is not a change of ours: the next merge keeps the other path's reason and source.
    await q.sync.syncNow();
    expect(await store.getTradingState()).toMatchObject({ state: "HALTED", source: "breaker-rapid-loss" });
    expect(q.sync.failures).toBe(0);
  });

  it("a local change made while a merge is in flight is written next, never undone", async () => {
    const store = new InMemoryStateStore();
    const q = quoterLike(store, () => T0);
    await q.sync.start();
    const merging = q.sync.syncNow();
    q.engine.setTradingState("HALTED", "kill switch", T0);
    await merging;
    await q.sync.flush();
    expect(q.engine.tradingState).toBe("HALTED");
    expect((await store.getTradingState())?.state).toBe("HALTED");
  });

  it("shares its equity marks: the stored tracking carries them, and the engine keeps marking on top", async () => {
    const store = new InMemoryStateStore();
    let now = T0;
    const q = quoterLike(store, () => now);
    await q.sync.start();
    q.engine.markEquity(500_000, now);
    now += 1000;
    q.engine.markEquity(510_000, now);
    await q.sync.syncNow();
    expect((await store.getRiskState())?.engine?.equity).toMatchObject({ peak: 510_000, last: 510_000, lastAt: now });
    // A −6 % drop marked by the quoter trips the rapid-loss breaker, and the trip is shared.
    now += 1000;
    expect(q.engine.markEquity(479_000, now)?.rule).toBe("breaker-rapid-loss");
    await q.sync.flush();
    expect(await store.getTradingState()).toMatchObject({ state: "HALTED", source: "quoter:breaker-rapid-loss" });
  });

  it("keeps other paths' rate windows as stored, whatever its own limits", async () => {
    const store = new InMemoryStateStore();
    const functions = new RiskEngine({ limits: { maxOrdersPerSecond: 50 } });
    const ctx = { mid: 50_000, position: 0, strategyNotional: 0, portfolioNotional: 0, availableQuote: 1e9 };
    for (let i = 0; i < 30; i++)
      functions.checkOrder(
        { strategyId: "arb-1", symbol: "BTC-USD", side: "BUY", type: "LIMIT", quantity: 0.01, limitPrice: 50_000 },
        ctx,
        T0,
      );
    await store.putRiskState(
      { state: "ACTIVE", strategies: {}, reason: "", at: T0, engine: functions.snapshot(T0) },
      0,
    );
    const q = quoterLike(store, () => T0 + 10, 5);
    await q.sync.start();
    await q.sync.syncNow();
    expect((await store.getRiskState())?.engine?.rates["arb-1"]?.approvals).toHaveLength(30);
  });
});
