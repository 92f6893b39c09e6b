// Careless or hostile input on the control API: limits only up to the hard caps, strict strategy parameters,
// chaos strategies only where configuration enables them, and bounded strings answered at once.
import type * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClientManager } from "../../lib/grpc/ClientManager";
import { Discovery } from "../../lib/grpc/discovery";
import { EngineClient } from "../../lib/grpc/EngineClient";
import { type GrpcClientError, InvalidArgumentError } from "../../lib/grpc/errors";
import { EngineControlServer } from "../../quoter/control/EngineControlServer";
import { DEFAULT_HARD_CAPS } from "../../quoter/control/hardCaps";
import { engineCredentials, testControlAuth } from "../support/controlAuth";
import { makeQuoter, type QuoterRig, quietLog, type Sims, startSims } from "./quoterHarness";

async function refusal(p: Promise<unknown>): Promise<GrpcClientError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(InvalidArgumentError);
  return e as GrpcClientError;
}

const meta = (e: GrpcClientError, key: string) =>
  String(((e.cause as grpc.ServiceError).metadata.get(key)[0] as string | undefined) ?? "");

describe("control API: hard caps, strict schemas, chaos switch, bounded strings", () => {
  let sims: Sims;
  let rig: QuoterRig;
  const servers: EngineControlServer[] = [];
  const managers: ClientManager[] = [];

  async function engineWith(chaosStrategies: boolean): Promise<EngineClient> {
    const control = new EngineControlServer(rig.quoter, {
      auth: await testControlAuth(),
      policy: { hardCaps: DEFAULT_HARD_CAPS, chaosStrategies },
      log: quietLog,
    });
    const port = await control.start(0);
    servers.push(control);
    const cm = new ClientManager({
      discovery: new Discovery({ env: { TSE_ENGINE_ENDPOINT: `127.0.0.1:${port}` } }),
      logger: quietLog,
      serviceCredentials: { engine: await engineCredentials() },
    });
    managers.push(cm);
    return new EngineClient(cm);
  }

  beforeAll(async () => {
    sims = await startSims({ liquidity: false });
    rig = makeQuoter(sims, { strategies: [], allowChaosStrategies: true });
  }, 30_000);

  afterAll(async () => {
    for (const m of managers) await m.close();
    for (const s of servers) await s.stop();
    await rig?.close();
    await sims?.stop();
  });

  it("SetRiskLimits lowers freely, raises only up to the hard cap, and names the cap when refused", async () => {
    const engine = await engineWith(false);
    const before = rig.quoter.risk.limits.maxStrategyNotional;
    const huge = await refusal(engine.setRiskLimits("", { maxNotional: "99999999999999999999999" }));
    expect(huge.details).toContain("limits.max_notional");
    expect(huge.details).toContain(`risk.hard_caps.max_notional = ${DEFAULT_HARD_CAPS.max_notional}`);
    const orders = await refusal(engine.setRiskLimits("", { maxOpenOrders: 4294967295 }));
    expect(orders.details).toContain("limits.max_open_orders");
    expect(orders.details).toContain("risk.hard_caps.max_open_orders");
    expect(rig.quoter.risk.limits.maxStrategyNotional).toBe(before);
    // Lower, then raise again within the cap.
    expect((await engine.setRiskLimits("", { maxNotional: "500000" })).maxNotional).toBe("500000");
    expect((await engine.setRiskLimits("", { maxNotional: "900000" })).maxNotional).toBe("900000");
    const over = await refusal(engine.setRiskLimits("", { maxNotional: "1000001" }));
    expect(over.details).toMatch(/limits\.max_notional.*exceeds the hard cap/);
    // The daily-loss limit starts above its cap (100 000 > 50 000): lowering to 60 000 is still a lowering.
    expect((await engine.setRiskLimits("", { maxDailyLoss: "60000" })).maxDailyLoss).toBe("60000");
    const loss = await refusal(engine.setRiskLimits("", { maxDailyLoss: "70000" }));
    expect(loss.details).toContain("risk.hard_caps.max_daily_loss");
    const pos = await refusal(engine.setRiskLimits("", { maxPositionSize: "11" }));
    expect(pos.details).toContain("risk.hard_caps.max_position_size");
  });

  it('StartStrategy refuses unknown or bad parameters, naming field and value ({"quoteSize": -1})', async () => {
    const engine = await engineWith(false);
    const unknown = await refusal(
      engine.startStrategy({ strategyId: "mm-x", strategyType: "market_making", parametersJson: '{"quoteSize": -1}' }),
    );
    expect(unknown.details).toContain("quoteSize=-1");
    expect(unknown.details).toContain("unknown parameter");
    const bad = await refusal(
      engine.startStrategy({
        strategyId: "mm-x",
        strategyType: "market_making",
        parametersJson: '{"orderQuantity": -1}',
      }),
    );
    expect(bad.details).toContain("orderQuantity=-1");
    expect(meta(bad, "field")).toBe("orderQuantity");
    expect(rig.quoter.strategyStatus("mm-x")).toBeUndefined();
  });

  it("chaos strategies start only where configuration enables them, with bounded parameters", async () => {
    const off = await engineWith(false);
    const refused = await refusal(off.startStrategy({ strategyId: "chaos-x", strategyType: "chaos-runaway" }));
    expect(refused.details).toContain("engine.chaos_strategies.enabled");
    const on = await engineWith(true);
    const flood = await refusal(
      on.startStrategy({
        strategyId: "chaos-x",
        strategyType: "chaos-runaway",
        parametersJson: '{"ordersPerTick": 100000}',
      }),
    );
    expect(flood.details).toContain("ordersPerTick=100000");
    const ok = await on.startStrategy({
      strategyId: "chaos-x",
      strategyType: "chaos-runaway",
      parametersJson: '{"ordersPerTick": 5}',
    });
    expect(ok.strategyType).toBe("chaos-runaway");
    await on.stopStrategy({ strategyId: "chaos-x", reason: "test" });
  });

  it.each([
    [
      "a 100 000-character strategy_id",
      (e: EngineClient) => e.getStrategyStatus("s".repeat(100_000)),
      "strategy_id",
      100_000,
    ],

    [
      "a 300-character reason",
      (e: EngineClient) => e.stopStrategy({ strategyId: "x", reason: "q".repeat(300) }),
      "reason",
      300,
    ],
    [
      "a 200-character venue",
      (e: EngineClient) => e.forcePositionClose({ strategyId: "x", venue: "v".repeat(200) }),
      "venue",
      200,
    ],
    [
      "a 129-character symbol in a list",
      (e: EngineClient) =>
        e.startStrategy({ strategyId: "x", strategyType: "market_making", symbols: ["S".repeat(129)] }),
      "symbols[0]",
      129,
    ],
  ])(
    "%s is refused at once, naming the field and its length, echoing at most 64 characters",
    async (_n, send, field, length) => {
      const engine = await engineWith(false);
      const t0 = performance.now();
      const e = await refusal(send(engine));
      expect(performance.now() - t0).toBeLessThan(1_000);
      expect(e.details).toContain(`invalid ${field}=`);
      expect(e.details).toContain(`is ${length} characters`);
      expect(e.details.length).toBeLessThan(300);
      expect(meta(e, "field")).toBe(field);
      expect(meta(e, "value").length).toBeLessThanOrEqual(64 + 2);
      expect(rig.quoter.risk.tradingState).toBe("ACTIVE");
    },
  );

  it("a 1 MB reason is over the 128 KiB message bound: refused at its length prefix, not retried, no breaker trip", async () => {
    const engine = await engineWith(false);
    for (let i = 0; i < 6; i++) {
      const e = await refusal(engine.setTradingState("HALTED", "r".repeat(1 << 20)));
      expect(e.details).toMatch(/^Received message larger than max \(\d+ vs 131072\)$/);
    }
    // Six refusals later the engine's breaker is still closed and the kill switch works.
    expect((await engine.setTradingState("HALTED", "after six oversized calls")).current).toBe(3);
    expect((await engine.setTradingState("ACTIVE", "resume")).current).toBe(1);
  });

  it("parameters nested 3 000 levels deep are refused naming parameters_json", async () => {
    const engine = await engineWith(false);
    const deep = `${"[".repeat(3000)}${"]".repeat(3000)}`;
    const e = await refusal(
      engine.startStrategy({ strategyId: "x", strategyType: "market_making", parametersJson: deep }),
    );
    expect(e.details).toContain("parameters_json");
    expect(e.details).toContain("deeper than 32");
  });
});
