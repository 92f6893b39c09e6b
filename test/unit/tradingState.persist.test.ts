// The quoter's in-process trading-state changes must reach the stored record that order-placement reads,
// in the order they happened.
import { describe, expect, it } from "vitest";
import { InMemoryStateStore } from "../../lib/adapters/embedded/InMemoryStateStore";
import { persistTradingStateChanges } from "../../lib/app/tradingState";
import type { TradingStateChange } from "../../lib/domain/risk/RiskEngine";
import { RiskEngine } from "../../lib/domain/risk/RiskEngine";

describe("persistTradingStateChanges", () => {
  it("writes a real RiskEngine's kill switch, strategy halt and resume to the store, in order", async () => {
    const store = new InMemoryStateStore();
    const listeners: Array<(c: TradingStateChange) => void> = [];
    const risk = new RiskEngine({
      onStateChange: (c) => {
        for (const l of listeners) l(c);
      },
    });
    const errors: string[] = [];
    const flushed = persistTradingStateChanges(
      (l) => listeners.push(l),
      store,
      (m) => errors.push(m),
    );

    risk.setTradingState("HALTED", "kill switch", 1_000);
    risk.setTradingState("HALTED", "runaway", 1_001, "mm-1");
    risk.setTradingState("ACTIVE", "resume", 1_002);
    await flushed();

    const rec = await store.getTradingState();
    expect(errors).toEqual([]);
    expect(rec?.state).toBe("ACTIVE");
    expect(rec?.strategies).toEqual({ "mm-1": "HALTED" });
    expect(rec?.reason).toBe("resume");
    expect(rec?.version).toBe(3);
  });
});
