// RiskMonitorClient and TestCoordinatorClient against their real simulators; EngineClient against a
// loopback server implementing the generated EngineService (the quoter serves the real one).
import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { type EngineServiceServer, EngineServiceService, TradingState } from "../../gen/proto/tse/engine/engine";
import { ClientManager } from "../../lib/grpc/ClientManager";
import { Discovery } from "../../lib/grpc/discovery";
import { EngineClient } from "../../lib/grpc/EngineClient";
import { InvalidArgumentError } from "../../lib/grpc/errors";
import { type RiskAlert, RiskMonitorClient, Severity } from "../../lib/grpc/RiskMonitorClient";
import { ScenarioState, TestCoordinatorClient } from "../../lib/grpc/TestCoordinatorClient";
import { TestCoordinatorSimulator } from "../../sim/coordinator/TestCoordinatorSimulator";
import { RiskMonitorSimulator } from "../../sim/risk/RiskMonitorSimulator";
import { startStallProxy } from "../support/stallProxy";

const quiet = { info() {}, warn() {}, debug() {} };
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function managerFor(endpoints: Record<string, string>) {
  const m = new ClientManager({
    discovery: new Discovery({ explicit: endpoints, env: {} }),
    logger: quiet,
    retry: { maxAttempts: 2, initialDelayMs: 10, maxDelayMs: 20 },
    breaker: { consecutiveFailures: 3, halfOpenAfterMs: 1_000 },
  });
  cleanup.push(() => m.close());
  return m;
}

describe("RiskMonitorClient", () => {
  it("checks orders, reports positions, streams alerts and fails closed when the monitor is down", async () => {
    const sim = new RiskMonitorSimulator({ quiet: true, shutdownTimeoutMs: 300 });
    const port = await sim.start(0);
    cleanup.push(() => sim.stop());
    const risk = new RiskMonitorClient(managerFor({ "risk-monitor": `127.0.0.1:${port}` }));

    const ok = await risk.checkOrder({
      strategyId: "s1",
      venue: "venue-a",
      symbol: "BTC-USD",
      side: "BUY",
      quantity: "0.5",
      price: "60000",
    });
    expect(ok.approved).toBe(true);
    const tooBig = await risk.checkOrder({
      strategyId: "s1",
      venue: "venue-a",
      symbol: "BTC-USD",
      side: "BUY",
      quantity: "5",
      price: "60000",
    });
    expect(tooBig.approved).toBe(false);
    expect(tooBig.reasons.join(" ")).toMatch(/max_order_size/);
    const bad = await risk
      .checkOrder({ strategyId: "s1", venue: "venue-a", symbol: "BTC-USD", side: "BUY", quantity: "0", price: "60000" })
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(InvalidArgumentError);
    expect(bad).toMatchObject({ service: "risk-monitor", method: "CheckOrder" });

    const alerts: RiskAlert[] = [];
    const stream = risk.streamAlerts({ minSeverity: Severity.LOW, initialDelayMs: 30 });
    cleanup.push(() => stream.close());
    const consumer = (async () => {
      for await (const a of stream) alerts.push(a);
    })();
    await sleep(100);
    // 1.9 of a 2.0 max position = 0.95 utilisation → HIGH.
    const rep = await risk.reportPosition({
      strategyId: "s1",
      venue: "venue-a",
      symbol: "BTC-USD",
      quantity: "1.9",
      averagePrice: "60000",
    });
    expect(rep.alerts.some((a) => a.severity === Severity.HIGH)).toBe(true);
    for (const until = Date.now() + 5_000; alerts.length === 0 && Date.now() < until; ) await sleep(20);
    expect(alerts.find((a) => a.limit === "position_size")?.severity).toBe(Severity.HIGH);
    expect((await risk.reportStrategyStatus({ strategyId: "s1", status: "RUNNING" })).acknowledged).toBe(true);
    const status = await risk.getRiskStatus("s1");
    expect(status.positions[0]?.quantity).toBe("1.9");

    await sim.stop();
    const denied = await risk.checkOrderFailClosed({
      strategyId: "s1",
      venue: "venue-a",
      symbol: "BTC-USD",
      side: "SELL",
      quantity: "0.1",
      price: "60000",
    });
    expect(denied).toMatchObject({ approved: false, failedClosed: true });
    expect(denied.reasons[0]).toMatch(/risk monitor unavailable/);
    stream.close();
    await consumer;
  });

  it("a position report the open circuit refused is sent after the half-open interval, not dropped", async () => {
    const sim = new RiskMonitorSimulator({ quiet: true, shutdownTimeoutMs: 300 });
    const port = await sim.start(0);
    cleanup.push(() => sim.stop());
    const proxy = await startStallProxy(port);
    cleanup.push(() => proxy.close());
    const m = managerFor({ "risk-monitor": `127.0.0.1:${proxy.port}` });
    const risk = new RiskMonitorClient(m);
    const order = {
      strategyId: "s1",
      venue: "venue-a",
      symbol: "BTC-USD",
      side: "BUY",
      quantity: "0.1",
      price: "60000",
    } as const;
    expect((await risk.checkOrder(order)).approved).toBe(true);
    // Pre-trade checks time out against a hung peer until the service's circuit opens.
    proxy.stall();
    for (let i = 0; i < 3; i++) await risk.checkOrderFailClosed(order);
    expect(m.breakerState("risk-monitor")).toBe("open");
    proxy.resume();
    const sent = Date.now();
    await risk.reportPosition({ strategyId: "s1", venue: "venue-a", symbol: "BTC-USD", quantity: "0.7" });
    expect(Date.now() - sent).toBeGreaterThanOrEqual(900); // it waited out the open circuit (1 s here)
    expect((await risk.getRiskStatus("s1")).positions[0]?.quantity).toBe("0.7");
  }, 20_000);
});

describe("TestCoordinatorClient", () => {
  it("reports scenario status and chaos events and lists them", async () => {
    const sim = new TestCoordinatorSimulator({ quiet: true, shutdownTimeoutMs: 300 });
    const port = await sim.start(0);
    cleanup.push(() => sim.stop());
    const tc = new TestCoordinatorClient(managerFor({ "test-coordinator": `127.0.0.1:${port}` }));
    expect(
      (
        await tc.reportScenarioStatus({
          scenarioId: "sc-1",
          name: "exchange outage",
          state: ScenarioState.RUNNING,
          component: "engine",
        })
      ).accepted,
    ).toBe(true);
    expect(
      (
        await tc.reportChaosEvent({
          eventId: "ev-1",
          scenarioId: "sc-1",
          kind: "downtime",
          target: "exchange",
          phase: "start",
        })
      ).accepted,
    ).toBe(true);
    const active = await tc.getActiveScenarios();
    expect(active.scenarios.map((s) => s.scenarioId)).toContain("sc-1");
    const events = await tc.listChaosEvents("sc-1");
    expect(events.events.map((e) => e.kind)).toEqual(["downtime"]);
    const bad = await tc
      .reportScenarioStatus({ scenarioId: "", state: ScenarioState.RUNNING })
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(InvalidArgumentError);
  });
});

describe("EngineClient", () => {
  it("drives the kill switch and reads risk status over the generated EngineService contract", async () => {
    let state = TradingState.ACTIVE;
    const seen: grpc.Metadata[] = [];
    const impl: Partial<EngineServiceServer> = {
      setTradingState: (call, cb) => {
        seen.push(call.metadata);
        const previous = state;
        state = call.request.state;
        cb(null, { previous, current: state });
      },
      getRiskStatus: (_call, cb) =>
        cb(null, { tradingState: state, utilisations: [], dailyPnl: "0", drawdown: "0", reason: "" }),
    };
    const server = new grpc.Server();
    server.addService(EngineServiceService, impl as EngineServiceServer);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    cleanup.push(() => new Promise<void>((r) => server.tryShutdown(() => r())));
    const engine = new EngineClient(managerFor({ engine: `127.0.0.1:${port}` }));
    const res = await engine.setTradingState("HALTED", "test kill switch", {
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    });
    expect(res).toEqual({ previous: TradingState.ACTIVE, current: TradingState.HALTED });
    expect((await engine.getRiskStatus()).tradingState).toBe(TradingState.HALTED);
    expect(seen[0]?.get("traceparent")[0]).toBe("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    const unimpl = await engine.listActiveStrategies().catch((e: unknown) => e);
    expect(unimpl).toMatchObject({
      service: "engine",
      method: "ListActiveStrategies",
      code: grpc.status.UNIMPLEMENTED,
    });
  });
});
