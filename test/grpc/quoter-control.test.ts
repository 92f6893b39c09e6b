// The quoter's control API (tse.engine.EngineService on port 0) and HTTP ops, against real simulators; and the
// process: SIGTERM cancels every order and exits 0 within 10 s.
import { afterEach, describe, expect, it } from "vitest";
import { StrategyState, TradingState } from "../../gen/proto/tse/engine/engine";
import { ScenarioType } from "../../gen/proto/tse/marketdata/quotes";
import { ClientManager } from "../../lib/grpc/ClientManager";
import { Discovery } from "../../lib/grpc/discovery";
import { EngineClient } from "../../lib/grpc/EngineClient";
import { InvalidArgumentError } from "../../lib/grpc/errors";
import { EngineControlServer } from "../../quoter/control/EngineControlServer";
import { QuoterHttpServer } from "../../quoter/control/httpServer";
import { engineCredentials, httpsGet, testControlAuth } from "../support/controlAuth";
import { makeQuoter, quietLog, sleep, spawnQuoterProcess, startSims, waitFor } from "./quoterHarness";

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe("quoter control API", () => {
  it("starts and stops a strategy; positions match the exchange's balances; bad input names field and value", async () => {
    const sims = await startSims({ liquidity: true, scenario: ScenarioType.VOLATILITY_SPIKE, seed: 8 });
    cleanup.push(() => sims.stop());
    const r = makeQuoter(sims, { strategies: [] });
    cleanup.push(() => r.close());
    const auth = await testControlAuth();
    const control = new EngineControlServer(r.quoter, { auth, log: quietLog });
    const port = await control.start(0);
    cleanup.push(() => control.stop());
    const http = new QuoterHttpServer(r.quoter, { auth, log: quietLog });
    const httpPort = await http.start(0);
    cleanup.push(() => http.stop());
    const cm = new ClientManager({
      discovery: new Discovery({ env: { TSE_ENGINE_ENDPOINT: `127.0.0.1:${port}` } }),
      logger: quietLog,
      serviceCredentials: { engine: await engineCredentials() },
    });
    cleanup.push(() => cm.close());
    const engine = new EngineClient(cm);

    expect((await httpsGet(`https://127.0.0.1:${httpPort}/ready`, false)).status).toBe(503);
    await r.quoter.start();
    await waitFor("ready", async () => (await httpsGet(`https://127.0.0.1:${httpPort}/ready`, false)).status === 200);

    const bad = await engine
      .startStrategy({ strategyId: "x", strategyType: "nope", symbols: ["BTC-USD"] })
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(InvalidArgumentError);
    expect((bad as Error).message).toMatch(/strategy_type="nope"/);
    const badParams = await engine
      .startStrategy({ strategyId: "x", strategyType: "market_making", parametersJson: '{"levels": 0}' })
      .catch((e: unknown) => e);
    expect(badParams).toBeInstanceOf(InvalidArgumentError);
    expect((badParams as Error).message).toMatch(/levels/);

    const started = await engine.startStrategy({
      strategyId: "mm-ctl",
      strategyType: "market_making",
      symbols: ["BTC-USD"],
      venues: ["venue-a"],
      parametersJson: JSON.stringify({ spreadBps: 1, minSpreadBps: 0, refreshToleranceBps: 0.5, maxPosition: "5" }),
    });
    expect(started.state).toBe(StrategyState.RUNNING);
    expect((await engine.listActiveStrategies()).strategies.map((s) => s.strategyId)).toEqual(["mm-ctl"]);
    await waitFor("fills", () => r.quoter.counters.fills >= 3, 10_000);

    const stopped = await engine.stopStrategy({ strategyId: "mm-ctl", reason: "test" });
    expect(stopped.state).toBe(StrategyState.STOPPED);
    expect(stopped.openOrders).toBe(0);
    expect(await r.exchange.listOpenOrders({ accountId: r.quoter.accountId })).toHaveLength(0);
    expect((await engine.listActiveStrategies()).strategies).toHaveLength(0);
    await sleep(200); // executions of fills that raced the cancels

    const { positions } = await engine.getPositions({ strategyId: "mm-ctl" });
    const balances = await r.exchange.getBalances({ accountId: r.quoter.accountId, venue: "venue-a" });
    const btc = balances.balances.find((b) => b.asset === "BTC")!;
    const exchangePosition = Number(btc.total) - 10; // every account starts with 10 BTC per venue
    expect(positions).toHaveLength(1);
    expect(Number(positions[0]!.quantity)).toBeCloseTo(exchangePosition, 8);
    expect(positions[0]!.quantity).toBe(r.quoter.portfolio.position("mm-ctl", "BTC-USD")!.quantity.toFixed());

    const pf = await engine.getPortfolio("mm-ctl");
    expect(pf.positions).toHaveLength(1);
    const limits = await engine.setRiskLimits("", { maxPositionSize: "0.5", maxOpenOrders: 50 });
    expect(limits).toMatchObject({ maxPositionSize: "0.5", maxOpenOrders: 50 });
    const badLimit = await engine.setRiskLimits("", { maxOrderSize: "-1" }).catch((e: unknown) => e);
    expect((badLimit as Error).message).toMatch(/limits\.max_order_size="-1"/);
    const st = await engine.setTradingState("HALTED", "test");
    expect(st).toMatchObject({ previous: TradingState.ACTIVE, current: TradingState.HALTED });
    expect((await engine.getRiskStatus()).tradingState).toBe(TradingState.HALTED);

    const metrics = (await httpsGet(`https://127.0.0.1:${httpPort}/metrics`)).body;
    expect(metrics).toMatch(/^quoter_fills_total \d+$/m);
    expect(metrics).toMatch(/quoter_decision_latency_us\{quantile="0.99"\} [\d.]+/);
    expect(metrics).toMatch(/quoter_breaker_state\{service="exchange"\} 0/);
    expect(metrics).toMatch(/^quoter_trading_state 2$/m);
  }, 30_000);

  it("SIGTERM: the quoter process cancels all its orders and exits 0 within 10 s", async () => {
    const sims = await startSims({ liquidity: false });
    cleanup.push(() => sims.stop());
    const account = `sig-${Date.now().toString(36)}`;
    const q = await spawnQuoterProcess(sims, {
      TSE_QUOTER_SYMBOLS: "BTC-USD,ETH-USD",
      TSE_QUOTER_VENUES: "venue-a,venue-b",
      TSE_QUOTER_STRATEGY_PARAMS: JSON.stringify({ levels: 2 }),
      TSE_QUOTER_ACCOUNT: account,
      TSE_QUOTER_MD_INTERVAL_MS: "20",
    });
    cleanup.push(async () => {
      if (q.child.exitCode === null) q.child.kill("SIGKILL");
    });
    const r = makeQuoter(sims, { strategies: [] }); // only for its exchange client
    cleanup.push(() => r.close());
    // 2 symbols × 2 venues × 2 levels × 2 sides.
    await waitFor(
      "16 resting quotes",
      async () => (await r.exchange.listOpenOrders({ accountId: account })).length === 16,
      10_000,
    );
    expect((await httpsGet(`https://127.0.0.1:${q.httpPort}/ready`, false)).status).toBe(200);
    const t0 = Date.now();
    q.child.kill("SIGTERM");
    const code = await q.exited;
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(code, q.stderr()).toBe(0);
    expect(await r.exchange.listOpenOrders({ accountId: account })).toHaveLength(0);
  }, 40_000);
});
