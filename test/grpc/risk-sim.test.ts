// Risk-monitor simulator: limits from configuration, pre-trade checks, position reports, alert severities, counters.
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ValueType } from "../../gen/proto/tse/config/config";
import { type Position, type RiskAlert, RiskMonitorServiceClient, Severity, Side } from "../../gen/proto/tse/risk/risk";
import { ConfigStore } from "../../lib/config/ConfigStore";
import { ConfigurationSimulator } from "../../sim/config/ConfigurationSimulator";
import { RiskMonitorSimulator } from "../../sim/risk/RiskMonitorSimulator";
import { connect, rejectsWith, rpc, take } from "./rpc";

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

describe("risk monitor simulator", () => {
  let store: ConfigStore;
  let sim: RiskMonitorSimulator;
  let raw: InstanceType<typeof RiskMonitorServiceClient>;
  let risk: ReturnType<typeof rpc<InstanceType<typeof RiskMonitorServiceClient>>>;

  beforeAll(async () => {
    store = new ConfigStore();
    store.set("risk.limits.max_position_size", "default", ValueType.NUMBER, "10");
    store.set("risk.limits.max_order_size", "default", ValueType.NUMBER, "4");
    store.set("risk.limits.max_notional", "default", ValueType.NUMBER, "1000000");
    sim = new RiskMonitorSimulator({ quiet: true, config: store, shutdownTimeoutMs: 500 });
    raw = connect(RiskMonitorServiceClient, `127.0.0.1:${await sim.start(0)}`);
    risk = rpc(raw);
  });
  afterAll(async () => {
    raw.close();
    sim.dispose();
    await sim.stop();
  });

  it("takes its limits from configuration and follows changes", async () => {
    expect((await risk.getRiskStatus({ strategyId: "" })).limits).toMatchObject({
      maxPositionSize: "10",
      maxOrderSize: "4",
      maxDailyLoss: "5000",
    });
    store.set("risk.limits.max_daily_loss", "default", ValueType.NUMBER, "100");
    expect((await risk.getRiskStatus({ strategyId: "" })).limits!.maxDailyLoss).toBe("100");
  });

  it("pre-trade checks approve within limits and deny with reasons", async () => {
    const ok = await risk.checkOrder({
      strategyId: "chk",
      venue: "venue-a",
      symbol: "BTC-USD",
      side: Side.BUY,
      quantity: "2",
      price: "100",
      clientOrderId: "c1",
    });
    expect(ok.approved).toBe(true);
    expect(ok.checkId).toMatch(/^chk-/);
    expect(ok.projectedUtilisation).toBe("0.2");
    const big = await risk.checkOrder({
      strategyId: "chk",
      venue: "venue-a",
      symbol: "BTC-USD",
      side: Side.SELL,
      quantity: "5",
      price: "100",
      clientOrderId: "c2",
    });
    expect(big.approved).toBe(false);
    expect(big.reasons.join()).toMatch(/max_order_size 4/);
    await risk.reportPosition({ position: pos({ strategyId: "chk", quantity: "9" }) });
    const over = await risk.checkOrder({
      strategyId: "chk",
      venue: "venue-b",
      symbol: "BTC-USD",
      side: Side.BUY,
      quantity: "2",
      price: "100",
      clientOrderId: "c3",
    });
    expect(over.approved).toBe(false);
    expect(over.reasons.join()).toMatch(/projected position 11 exceeds max_position_size 10/);
    const reducing = await risk.checkOrder({
      strategyId: "chk",
      venue: "venue-b",
      symbol: "BTC-USD",
      side: Side.SELL,
      quantity: "2",
      price: "100",
      clientOrderId: "c4",
    });
    expect(reducing.approved).toBe(true);
  });

  it("alerts at utilisation 0.5 LOW, 0.75 MEDIUM, 0.9 HIGH, 1.0 CRITICAL — once per band, on the stream", async () => {
    const alerts: Promise<RiskAlert[]> = take(
      raw.streamAlerts({ minSeverity: Severity.UNSPECIFIED, strategyId: "sev", includeActive: false }),
      4,
    );
    await new Promise((r) => setTimeout(r, 50));
    const seen: Severity[] = [];
    for (const q of ["4", "5", "6", "7.5", "7.6", "9", "10"]) {
      const r = await risk.reportPosition({ position: pos({ strategyId: "sev", quantity: q }) });
      seen.push(...r.alerts.filter((a) => a.limit === "position_size").map((a) => a.severity));
    }
    expect(seen).toEqual([Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL]);
    const streamed = (await alerts).filter((a) => a.limit === "position_size");
    expect(streamed.map((a) => [a.severity, a.utilisation])).toEqual([
      [Severity.LOW, "0.5"],
      [Severity.MEDIUM, "0.75"],
      [Severity.HIGH, "0.9"],
      [Severity.CRITICAL, "1"],
    ]);
    const st = await risk.getRiskStatus({ strategyId: "sev" });
    expect(st.activeAlerts.find((a) => a.limit === "position_size")!.severity).toBe(Severity.CRITICAL);
    // Back under 0.5 clears it; rising again re-alerts.
    await risk.reportPosition({ position: pos({ strategyId: "sev", quantity: "1" }) });
    expect(
      (await risk.getRiskStatus({ strategyId: "sev" })).activeAlerts.filter((a) => a.limit === "position_size"),
    ).toEqual([]);
    const again = await risk.reportPosition({ position: pos({ strategyId: "sev", quantity: "-8" }) });
    expect(again.alerts.map((a) => a.severity)).toEqual([Severity.MEDIUM]);
  });

  it("alerts on daily loss and counts every check and report", async () => {
    const r = await risk.reportPosition({
      position: pos({ strategyId: "loss", quantity: "0.1", realizedPnl: "-60", unrealizedPnl: "-35" }),
    });
    expect(r.alerts.find((a) => a.limit === "daily_loss")).toMatchObject({
      severity: Severity.HIGH,
      utilisation: "0.95",
    });
    const before = await risk.getRiskStatus({ strategyId: "" });
    await risk.reportPosition({ position: pos({ strategyId: "loss", quantity: "0.2" }) });
    await risk.checkOrder({
      strategyId: "loss",
      venue: "venue-a",
      symbol: "BTC-USD",
      side: Side.BUY,
      quantity: "1",
      price: "1",
      clientOrderId: "x",
    });
    await risk.reportStrategyStatus({ strategyId: "loss", status: "RUNNING", message: "", pnl: "-95", timestampMs: 0 });
    const after = await risk.getRiskStatus({ strategyId: "" });
    expect(after.positionReportsTotal - before.positionReportsTotal).toBe(1);
    expect(after.checksTotal - before.checksTotal).toBe(1);
    expect(after.strategyReportsTotal - before.strategyReportsTotal).toBe(1);
    expect(after.strategies.find((s) => s.strategyId === "loss")).toMatchObject({ status: "RUNNING", pnl: "-95" });
  });

  it("a retried position report (same position version) counts once; a new version counts again", async () => {
    const before = await risk.getRiskStatus({ strategyId: "" });
    const v1 = pos({ strategyId: "retry", quantity: "0.1", updatedAtMs: 1_000 });
    await risk.reportPosition({ position: v1 });
    await risk.reportPosition({ position: v1 }); // the client's retry after a late answer
    await risk.reportPosition({ position: pos({ strategyId: "retry", quantity: "0.2", updatedAtMs: 2_000 }) });
    const after = await risk.getRiskStatus({ strategyId: "" });
    expect(after.positionReportsTotal - before.positionReportsTotal).toBe(2);
    expect(after.positions.find((p) => p.strategyId === "retry")).toMatchObject({ quantity: "0.2" });
  });

  it("bad input → INVALID_ARGUMENT naming field and value, nothing recorded", async () => {
    const before = await risk.getRiskStatus({ strategyId: "" });
    const base = {
      strategyId: "b",
      venue: "venue-a",
      symbol: "BTC-USD",
      side: Side.BUY,
      quantity: "1",
      price: "1",
      clientOrderId: "",
    };
    expect(
      (await rejectsWith(risk.checkOrder({ ...base, quantity: "-1" }), status.INVALID_ARGUMENT)).details,
    ).toContain('quantity="-1"');
    expect((await rejectsWith(risk.checkOrder({ ...base, quantity: "0" }), status.INVALID_ARGUMENT)).details).toContain(
      'quantity="0"',
    );
    expect((await rejectsWith(risk.checkOrder({ ...base, price: "NaN" }), status.INVALID_ARGUMENT)).details).toContain(
      'price="NaN"',
    );
    expect(
      (await rejectsWith(risk.checkOrder({ ...base, strategyId: "" }), status.INVALID_ARGUMENT)).details,
    ).toContain('strategy_id=""');
    expect(
      (await rejectsWith(risk.reportPosition({ position: pos({ quantity: "abc" }) }), status.INVALID_ARGUMENT)).details,
    ).toContain('position.quantity="abc"');
    await rejectsWith(risk.reportPosition({}), status.INVALID_ARGUMENT);
    const after = await risk.getRiskStatus({ strategyId: "" });
    expect(after.checksTotal).toBe(before.checksTotal);
    expect(after.positionReportsTotal).toBe(before.positionReportsTotal);
  });
});

describe("risk monitor simulator with a remote configuration service", () => {
  it("takes limits from WatchValues, follows changes, and keeps the last ones through an outage", async () => {
    const cfg = new ConfigurationSimulator({ quiet: true, store: new ConfigStore(), shutdownTimeoutMs: 300 });
    cfg.store.set("risk.limits.max_position_size", "prod", ValueType.NUMBER, "7");
    const cfgPort = await cfg.start(0);
    const sim = new RiskMonitorSimulator({
      quiet: true,
      configAddress: `127.0.0.1:${cfgPort}`,
      environment: "prod",
      shutdownTimeoutMs: 300,
    });
    await sim.start(0);
    try {
      await expect.poll(() => sim.getLimits().maxPositionSize, { timeout: 5_000 }).toBe("7");
      expect(sim.getLimits().maxOrderSize).toBe("1"); // default
      cfg.store.set("risk.limits.max_order_size", "prod", ValueType.NUMBER, "0.25");
      await expect.poll(() => sim.getLimits().maxOrderSize, { timeout: 5_000 }).toBe("0.25");
      await cfg.stop();
      await new Promise((r) => setTimeout(r, 200));
      expect(sim.getLimits()).toMatchObject({ maxPositionSize: "7", maxOrderSize: "0.25" });
    } finally {
      await sim.stop();
      await cfg.stop();
    }
  });
});
