// Custodian simulator on loopback through the engine's CustodianClient (ClientManager): balances, T+n settlement
// compressed to ms, idempotency keys, transfers, the event stream, chaos (failed / partial / delayed / drift /
// down) and grpc.health (ours and upstream's keys). Bad input answers INVALID_ARGUMENT naming field and value.
import { credentials, makeGenericClientConstructor, status } from "@grpc/grpc-js";
import { service as healthService } from "grpc-health-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CustodianAdminServiceClient } from "../../gen/proto/tse/custodian/custodian";
import { Decimal } from "../../lib/domain/decimal";
import { ClientManager } from "../../lib/grpc/ClientManager";
import { CustodianClient } from "../../lib/grpc/CustodianClient";
import { Discovery } from "../../lib/grpc/discovery";
import { InvalidArgumentError, PeerUnavailableError } from "../../lib/grpc/errors";
import { CustodianSimulator } from "../../sim/custodian/CustodianSimulator";
import { connect, rpc } from "./rpc";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Poll until `probe` is true (bounded): timing assertions that only bound from below stay fixed sleeps. */
async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe("custodian simulator + CustodianClient", () => {
  let sim: CustodianSimulator;
  let manager: ClientManager;
  let c: CustodianClient;
  let address: string;

  beforeAll(async () => {
    sim = new CustodianSimulator({
      quiet: true,
      dayMs: 200,
      processingMs: 20,
      tickMs: 10,
      balances: { "venue-a": { USD: "1000", BTC: "1" }, "venue-b": { USD: "500" } },
    });
    address = `127.0.0.1:${await sim.start(0)}`;
    manager = new ClientManager({
      discovery: new Discovery({ env: {}, explicit: { custodian: address } }),
      retry: { maxAttempts: 1 },
    });
    c = new CustodianClient(manager);
  });
  afterAll(async () => {
    await manager.close();
    await sim.stop();
  });

  const bal = async (account: string, currency: string) =>
    (await c.getBalances(account)).find((b) => b.currency === currency);

  it("reports the opening balances per account and currency: available / locked / total", async () => {
    expect(await bal("venue-a", "USD")).toMatchObject({ available: "1000", locked: "0", total: "1000", pending: "0" });
    expect((await c.getBalances("")).map((b) => `${b.accountId}:${b.currency}`).sort()).toEqual([
      "venue-a:BTC",
      "venue-a:USD",
      "venue-b:USD",
    ]);
  });

  it("settles T+1 after one compressed day: deliveries locked while pending, then moved; a repeated key is the same instruction", async () => {
    const events: string[] = [];
    const stream = c.streamSettlementEvents("venue-a");
    const reading = (async () => {
      for await (const e of stream) {
        events.push(`${e.settlement?.idempotencyKey}:${e.status}`);
        if (events.length >= 2) break;
      }
    })();
    const streams = (sim as unknown as { streams: { size: number } }).streams;
    await until("the event stream is open at the server", async () => streams.size > 0);
    const args = {
      idempotencyKey: "venue-a:E-1",
      accountId: "venue-a",
      legs: [
        { currency: "BTC", amount: "0.1" },
        { currency: "USD", amount: "-300.5" },
      ],
      cycleDays: 1,
      tradeTimeMs: Date.now(),
    };
    const first = await c.instructSettlement(args);
    expect(first).toMatchObject({ duplicate: false, settlement: { status: "PENDING" } });
    expect(await bal("venue-a", "USD")).toMatchObject({
      available: "699.5",
      locked: "300.5",
      total: "1000",
      pending: "-300.5",
    });
    const again = await c.instructSettlement(args);
    expect(again).toMatchObject({ duplicate: true, settlement: { settlementId: first.settlement.settlementId } });
    await sleep(120); // less than a day: still pending
    expect((await c.getSettlement({ idempotencyKey: "venue-a:E-1" })).status).toBe("PENDING");
    await until(
      "E-1 settled",
      async () => (await c.getSettlement({ idempotencyKey: "venue-a:E-1" })).status === "COMPLETED",
    );
    const done = await c.getSettlement({ settlementId: first.settlement.settlementId });
    expect(done).toMatchObject({ status: "COMPLETED", partial: false });
    expect(done.legs.map((l) => l.settledAmount)).toEqual(["0.1", "-300.5"]);
    expect(await bal("venue-a", "USD")).toMatchObject({
      available: "699.5",
      locked: "0",
      total: "699.5",
      pending: "0",
    });
    expect(await bal("venue-a", "BTC")).toMatchObject({ total: "1.1" });
    await reading;
    stream.close();
    expect(events).toEqual(["venue-a:E-1:1", "venue-a:E-1:3"]); // PENDING, COMPLETED
    expect(sim.ledger.getCounters()).toMatchObject({ instructed: 1, duplicates: 1, settled: 1, pending: 0 });
  });

  it("refuses a reused key with different legs, and bad input naming the field and the value", async () => {
    await expect(
      c.instructSettlement({
        idempotencyKey: "venue-a:E-1",
        accountId: "venue-a",
        legs: [{ currency: "BTC", amount: "0.2" }],
        cycleDays: 0,
        tradeTimeMs: 0,
      }),
    ).rejects.toThrow(/idempotency_key="venue-a:E-1": already used/);
    const bad = c.instructSettlement({
      idempotencyKey: "k-2",
      accountId: "venue-a",
      legs: [{ currency: "usd", amount: "1" }],
      cycleDays: 0,
      tradeTimeMs: 0,
    });
    await expect(bad).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(bad).rejects.toThrow(/legs\.0\.currency="usd"/);
    await expect(
      c.instructSettlement({
        idempotencyKey: "k-3",
        accountId: "venue-a",
        legs: [{ currency: "USD", amount: "x" }],
        cycleDays: 5,
        tradeTimeMs: 0,
      }),
    ).rejects.toThrow(/cycle_days=5/);
  });

  it("transfers between accounts (T+0)", async () => {
    const t = await c.initiateTransfer({
      idempotencyKey: "tr-1",
      fromAccountId: "venue-a",
      toAccountId: "venue-b",
      currency: "USD",
      amount: "99.5",
    });
    expect(t.settlement.status).toBe("PENDING");
    expect(await bal("venue-b", "USD")).toMatchObject({ total: "500", pending: "99.5" });
    await until(
      "the transfer settled",
      async () => (await c.getSettlement({ idempotencyKey: "tr-1" })).status === "COMPLETED",
    );
    expect(await bal("venue-a", "USD")).toMatchObject({ total: "600", locked: "0" });
    expect(await bal("venue-b", "USD")).toMatchObject({ total: "599.5", pending: "0" });
    await expect(
      c.initiateTransfer({
        idempotencyKey: "tr-2",
        fromAccountId: "venue-a",
        toAccountId: "venue-a",
        currency: "USD",
        amount: "1",
      }),
    ).rejects.toThrow(/to_account_id/);
  });

  it("chaos: an injected failure moves nothing; partial moves part; delay holds it; drift moves a total", async () => {
    sim.ledger.setChaos({ failNext: 1 });
    const leg = (k: string, amount: string) => ({
      idempotencyKey: k,
      accountId: "venue-b",
      legs: [{ currency: "USD", amount }],
      cycleDays: 0,
      tradeTimeMs: Date.now(),
    });
    await c.instructSettlement(leg("f-1", "-100"));
    sim.ledger.setChaos({ partialRate: 1, partialFraction: 0.25 });
    await c.instructSettlement(leg("p-1", "40"));
    sim.ledger.setChaos({ partialRate: 0, delayMs: 2_000 });
    await c.instructSettlement(leg("d-1", "1"));
    await until("f-1 and p-1 done", async () =>
      (await c.listSettlements({ statuses: ["PENDING"] })).every((x) => x.idempotencyKey === "d-1"),
    );
    expect(await c.getSettlement({ idempotencyKey: "f-1" })).toMatchObject({
      status: "FAILED",
      reason: "settlement failed (injected)",
    });
    const p = await c.getSettlement({ idempotencyKey: "p-1" });
    expect(p).toMatchObject({ status: "COMPLETED", partial: true });
    expect(p.legs[0]!.settledAmount).toBe("10");
    expect((await c.getSettlement({ idempotencyKey: "d-1" })).status).toBe("PENDING");
    expect(await bal("venue-b", "USD")).toMatchObject({ total: "609.5", locked: "0", pending: "1" });
    expect((await c.listSettlements({ statuses: ["FAILED"] })).map((s) => s.idempotencyKey)).toEqual(["f-1"]);
    sim.ledger.drift("venue-b", "USD", "-0.5");
    expect(await bal("venue-b", "USD")).toMatchObject({ total: "609" });
    sim.ledger.setChaos({ delayMs: 0 });
  });

  it("chaos down: UNAVAILABLE (a typed peer failure for the engine)", async () => {
    sim.ledger.setChaos({ downUntilMs: Date.now() + 60_000 });
    try {
      await expect(c.getBalances("venue-a")).rejects.toBeInstanceOf(PeerUnavailableError);
    } finally {
      sim.ledger.setChaos({ downUntilMs: 0 });
    }
    expect(await bal("venue-a", "USD")).toBeDefined();
  });

  it("admin: chaos and drift over gRPC (answers while down), bad values named", async () => {
    const admin = connect(CustodianAdminServiceClient, address);
    try {
      const a = rpc(admin);
      const down = await a.setChaos({ chaos: { downUntilMs: Date.now() + 60_000, failNext: 2 } });
      expect(down).toMatchObject({ failNext: 2, delayMs: 0 });
      await expect(c.getBalances("venue-a")).rejects.toBeInstanceOf(PeerUnavailableError);
      expect(await a.setChaos({ chaos: { downUntilMs: 0, failNext: 0 } })).toMatchObject({
        downUntilMs: 0,
        failNext: 0,
      });
      const before = await bal("venue-a", "BTC");
      const after = await a.driftBalance({ accountId: "venue-a", currency: "BTC", delta: "0.25" });
      expect(after.total).toBe(new Decimal(before!.total).plus("0.25").toFixed());
      await expect(a.setChaos({ chaos: { failureRate: 1.5 } })).rejects.toMatchObject({
        code: status.INVALID_ARGUMENT,
        details: expect.stringMatching(/chaos\.failure_rate=1\.5/),
      });
      await expect(a.driftBalance({ accountId: "venue-a", currency: "btc", delta: "1" })).rejects.toMatchObject({
        code: status.INVALID_ARGUMENT,
        details: expect.stringMatching(/currency="btc"/),
      });
    } finally {
      admin.close();
    }
  });

  it("serves grpc.health for its services and for upstream's keys", async () => {
    const Health = makeGenericClientConstructor(healthService, "Health");
    const h = new Health(address, credentials.createInsecure());
    try {
      const check = (rpc(h) as unknown as { check: (r: { service: string }) => Promise<{ status: unknown }> }).check;
      for (const service of [
        "",
        "tse.custodian.SettlementService",
        "tse.custodian.TransferService",
        "tse.custodian.CustodyService",
        "tse.custodian.CustodianAdminService",
        "custodian",
        "settlement",
        "custodian-simulator",
      ])
        expect((await check({ service })).status, service).toBe("SERVING");
      await expect(check({ service: "no.such" })).rejects.toMatchObject({ code: status.NOT_FOUND });
    } finally {
      h.close();
    }
  });
});
