// The risk-monitor simulator's daily loss resets at the trading-day boundary (UTC "HH:MM", default 00:00), the
// same boundary as the engine's daily window: yesterday's loss no longer counts against today's limit.
import { describe, expect, it } from "vitest";
import type { Position } from "../../gen/proto/tse/risk/risk";
import { RiskMonitorSimulator } from "../../sim/risk/RiskMonitorSimulator";

const D0 = Date.UTC(2026, 5, 1);
const HOUR = 3_600_000;
const pos = (p: Partial<Position>): Position => ({
  strategyId: "mm",
  venue: "venue-a",
  symbol: "BTC-USD",
  quantity: "0",
  averagePrice: "100",
  markPrice: "100",
  unrealizedPnl: "0",
  realizedPnl: "0",
  updatedAtMs: 0,
  ...p,
});
const dailyLoss = (sim: RiskMonitorSimulator) =>
  sim.status("mm").utilisations.find((u) => u.limit === "daily_loss")?.utilisation;

describe("risk monitor simulator: daily loss window", () => {
  it("resets at 00:00 UTC by default: the loss before midnight is the new day's baseline", () => {
    let now = D0 + 23 * HOUR;
    const sim = new RiskMonitorSimulator({ limits: { maxDailyLoss: "100" }, now: () => now });
    sim.reportPosition({ position: pos({ realizedPnl: "-80" }) });
    expect(dailyLoss(sim)).toBe("0.8");
    now = D0 + 24 * HOUR + 1;
    // Same cumulative PnL after the boundary: nothing lost today.
    sim.reportPosition({ position: pos({ realizedPnl: "-80" }) });
    expect(dailyLoss(sim)).toBe("0");
    sim.reportPosition({ position: pos({ realizedPnl: "-95" }) });
    expect(dailyLoss(sim)).toBe("0.15");
  });

  it("resets at a configured boundary (22:00 UTC) and not at midnight", () => {
    let now = D0 + 21 * HOUR;
    const sim = new RiskMonitorSimulator({ limits: { maxDailyLoss: "100" }, now: () => now, dailyResetUtc: "22:00" });
    sim.reportPosition({ position: pos({ realizedPnl: "-50" }) });
    now = D0 + 23 * HOUR;
    sim.reportPosition({ position: pos({ realizedPnl: "-70" }) });
    expect(dailyLoss(sim)).toBe("0.2");
    now = D0 + 25 * HOUR; // past midnight, same trading day
    sim.reportPosition({ position: pos({ realizedPnl: "-90" }) });
    expect(dailyLoss(sim)).toBe("0.4");
    expect(() => new RiskMonitorSimulator({ dailyResetUtc: "7am" })).toThrow(/dailyResetUtc.*7am/);
  });
});
