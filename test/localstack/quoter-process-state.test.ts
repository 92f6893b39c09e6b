// The deployed quoter process with a state table (TSE_TABLE_NAME): every order it places is journaled in
// DynamoDB first (so fill-handling can book its fills), and its kill switch is persisted as the engine trading
// state that order-placement reads; a HALTED another path writes there reaches it (RiskStateSync) and cancels its quotes.
import { afterEach, describe, expect, it } from "vitest";
import { createTable, deleteTable } from "../../lib/adapters/aws/createTable";
import { DynamoDbStateStore } from "../../lib/adapters/aws/DynamoDbStateStore";
import { setEngineTradingState } from "../../lib/app/tradingState";
import { ClientManager } from "../../lib/grpc/ClientManager";
import { Discovery } from "../../lib/grpc/discovery";
import { EngineClient } from "../../lib/grpc/EngineClient";
import { makeQuoter, quietLog, spawnQuoterProcess, startSims, waitFor } from "../grpc/quoterHarness";
import { engineCredentials } from "../support/controlAuth";
import { localClients } from "./awsClients";

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => {});
});

describe("quoter process with a state table (LocalStack DynamoDB)", () => {
  it("journals every order before placing it and persists the kill switch", async () => {
    const sims = await startSims({ liquidity: false });
    cleanup.push(() => sims.stop());
    const { ddb } = localClients();
    const table = `tse-quoter-${Date.now().toString(36)}`;
    await createTable(ddb, table);
    cleanup.push(() => deleteTable(ddb, table));
    const store = new DynamoDbStateStore({ tableName: table, client: ddb });

    const account = `qs-${Date.now().toString(36)}`;
    const q = await spawnQuoterProcess(sims, {
      TSE_QUOTER_SYMBOLS: "BTC-USD",
      TSE_QUOTER_VENUES: "venue-a,venue-b",
      TSE_QUOTER_ACCOUNT: account,
      TSE_QUOTER_MD_INTERVAL_MS: "50",
      TSE_TABLE_NAME: table,
      // Reconcile positions (a Query on the positions index) within the test, as the deployed quoter does.
      TSE_QUOTER_RECONCILE_MS: "500",
    });
    cleanup.push(async () => {
      if (q.child.exitCode === null) q.child.kill("SIGKILL");
    });
    const r = makeQuoter(sims, { strategies: [] }); // only for its exchange client
    cleanup.push(() => r.close());

    // 1 symbol × 2 venues × 1 level × 2 sides, each journaled before it reached the exchange.
    const open = await waitFor(
      "4 resting quotes",
      async () => {
        const o = await r.exchange.listOpenOrders({ accountId: account });
        return o.length === 4 ? o : undefined;
      },
      20_000,
    );
    for (const o of open) {
      const rec = await store.getOrder(o.clientOrderId);
      expect(rec, `order ${o.clientOrderId} journaled`).toBeDefined();
      expect(rec?.order.symbol).toBe("BTC-USD");
      // The exchange's acceptance is recorded after the place call returns.
      await waitFor(`order ${o.clientOrderId} accepted in state`, async () => {
        const s = (await store.getOrder(o.clientOrderId))?.order.status;
        return s === "accepted" || s === "canceled" ? s : undefined;
      });
    }

    const cm = new ClientManager({
      discovery: new Discovery({ env: { TSE_ENGINE_ENDPOINT: `127.0.0.1:${q.grpcPort}` } }),
      logger: quietLog,
      serviceCredentials: { engine: await engineCredentials() },
    });
    cleanup.push(() => cm.close());
    await new EngineClient(cm).setTradingState("HALTED", "operator kill switch");
    const persisted = await waitFor(
      "the persisted HALTED state",
      async () => {
        const s = await store.getTradingState();
        return s?.state === "HALTED" ? s : undefined;
      },
      10_000,
    );
    expect(persisted.reason).toBe("operator kill switch");
    await waitFor("no open orders", async () => (await r.exchange.listOpenOrders({ accountId: account })).length === 0);

    q.child.kill("SIGTERM");
    expect(await q.exited, q.stderr()).toBe(0);
  }, 90_000);

  it("honours a HALTED written to the shared risk state by another path: cancels its quotes and reports HALTED", async () => {
    const sims = await startSims({ liquidity: false });
    cleanup.push(() => sims.stop());
    const { ddb } = localClients();
    const table = `tse-quoter-halt-${Date.now().toString(36)}`;
    await createTable(ddb, table);
    cleanup.push(() => deleteTable(ddb, table));
    const store = new DynamoDbStateStore({ tableName: table, client: ddb });
    const account = `qh-${Date.now().toString(36)}`;
    const q = await spawnQuoterProcess(sims, {
      TSE_QUOTER_SYMBOLS: "BTC-USD",
      TSE_QUOTER_VENUES: "venue-a,venue-b",
      TSE_QUOTER_ACCOUNT: account,
      TSE_QUOTER_MD_INTERVAL_MS: "50",
      TSE_TABLE_NAME: table,
    });
    cleanup.push(async () => {
      if (q.child.exitCode === null) q.child.kill("SIGKILL");
    });
    const r = makeQuoter(sims, { strategies: [] });
    cleanup.push(() => r.close());
    await waitFor(
      "4 resting quotes",
      async () => ((await r.exchange.listOpenOrders({ accountId: account })).length === 4 ? true : undefined),
      20_000,
    );
    // The serverless rapid-loss breaker's write (order-placement), here written straight into the item.
    await setEngineTradingState(store, {
      state: "HALTED",
      reason: "equity fell -7.01% within 600000 ms",
      at: Date.now(),
      source: "breaker-rapid-loss",
    });
    await waitFor(
      "no open orders after the shared HALTED",
      async () => (await r.exchange.listOpenOrders({ accountId: account })).length === 0,
      10_000,
    );
    const cm = new ClientManager({
      discovery: new Discovery({ env: { TSE_ENGINE_ENDPOINT: `127.0.0.1:${q.grpcPort}` } }),
      logger: quietLog,
      serviceCredentials: { engine: await engineCredentials() },
    });
    cleanup.push(() => cm.close());
    const engine = new EngineClient(cm);
    // The control API is TLS + token: a call that fails here must fail the test, not read as "not yet HALTED".
    await engine.getRiskStatus("");
    await waitFor(
      "the quoter's engine reports HALTED",
      async () => ((await engine.getRiskStatus("").catch(() => undefined))?.tradingState === 3 ? true : undefined),
      15_000,
    );
    expect(await store.getTradingState()).toMatchObject({ state: "HALTED", source: "breaker-rapid-loss" });
    q.child.kill("SIGTERM");
    expect(await q.exited, q.stderr()).toBe(0);
  }, 90_000);
});
