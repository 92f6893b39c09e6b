// ExchangeClient + ClientManager against the real exchange simulator on loopback (port 0).
// Acceptance: breaker opens/closes with the simulator; a retried PlaceOrder never creates two orders;
// an exceeded deadline is typed; execution replay after reconnect delivers each execution once, in sequence.
import Decimal from "decimal.js";
import { afterEach, describe, expect, it } from "vitest";
import { PlaceOrderRequest, Side } from "../../gen/proto/tse/exchange/exchange";
import { type BreakerStateName, ClientManager, type ClientManagerOptions } from "../../lib/grpc/ClientManager";
import { Discovery } from "../../lib/grpc/discovery";
import { ExchangeClient, type Execution } from "../../lib/grpc/ExchangeClient";
import {
  CircuitOpenError,
  DeadlineExceededError,
  InvalidArgumentError,
  NotFoundError,
  PeerUnavailableError,
} from "../../lib/grpc/errors";
import { ExchangeSimulator } from "../../sim/exchange/ExchangeSimulator";

const quiet = { info() {}, warn() {}, debug() {} };
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function setup(opts: Partial<ClientManagerOptions> = {}) {
  const sim = new ExchangeSimulator({ quiet: true, seed: 11, shutdownTimeoutMs: 300 });
  const port = await sim.start(0);
  cleanup.push(() => sim.stop());
  const manager = new ClientManager({
    discovery: new Discovery({ env: { TSE_EXCHANGE_ENDPOINT: `127.0.0.1:${port}` } }),
    logger: quiet,
    retry: { maxAttempts: 3, initialDelayMs: 20, maxDelayMs: 100 },
    ...opts,
  });
  cleanup.push(() => manager.close());
  return { sim, port, manager, exchange: new ExchangeClient(manager) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("ExchangeClient against the exchange simulator", () => {
  it("opens the breaker when the simulator is stopped and closes it after the simulator returns", async () => {
    const { sim, port, manager, exchange } = await setup({
      breaker: { consecutiveFailures: 3, halfOpenAfterMs: 300 },
      reresolveAfterUnavailable: 100,
    });
    const transitions: BreakerStateName[] = [];
    manager.onBreakerChange("exchange", (s) => transitions.push(s));
    await exchange.getBalances();
    expect(manager.breakerState("exchange")).toBe("closed");

    await sim.stop();
    const errors: unknown[] = [];
    for (let i = 0; i < 10 && manager.breakerState("exchange") !== "open"; i++) {
      errors.push(await exchange.getBalances().catch((e: unknown) => e));
    }
    expect(manager.breakerState("exchange")).toBe("open");
    expect(errors[0]).toBeInstanceOf(PeerUnavailableError);
    expect(errors[0]).toMatchObject({ service: "exchange", method: "GetBalances" });
    // Open: fails fast without touching the network.
    // It settles before the event loop reaches its next I/O phase (setImmediate), so no network was involved;
    // a wall-clock bound would measure the machine's load instead.
    const call = exchange.getBalances().then(
      () => "resolved",
      (e: unknown) => e,
    );
    const first = await Promise.race([call, new Promise((r) => setImmediate(() => r("the event loop turned")))]);
    const fast = await call;
    expect(first).toBe(fast);
    expect(fast).toBeInstanceOf(CircuitOpenError);
    expect(fast).toMatchObject({ service: "exchange", method: "GetBalances" });

    await sim.start(port);
    await sleep(350);
    let recovered = false;
    for (const until = Date.now() + 5_000; Date.now() < until; ) {
      try {
        await exchange.getBalances();
        recovered = true;
        break;
      } catch {
        await sleep(100);
      }
    }
    expect(recovered).toBe(true);
    expect(manager.breakerState("exchange")).toBe("closed");
    expect(transitions).toContain("open");
    expect(transitions).toContain("half-open");
    expect(transitions.at(-1)).toBe("closed");
  });

  it("a PlaceOrder retried after a lost response never creates a second order", async () => {
    const { sim, exchange, manager } = await setup({ retry: { maxAttempts: 6, initialDelayMs: 30, maxDelayMs: 100 } });
    const book = await exchange.getOrderBook("venue-a", "BTC-USD", 1);
    const bestBid = new Decimal(book.bids[0]?.price ?? "1000");
    const price = bestBid.mul(0.5).toDecimalPlaces(2, Decimal.ROUND_DOWN); // rests, never fills
    // Every call now takes 300 ms; each attempt gives up after 150 ms — but the exchange still acts on it.
    sim.setChaos({ latencyMs: 300 });
    setTimeout(() => sim.setChaos({ latencyMs: 0 }), 450);
    const res = await exchange.placeOrder(
      {
        clientOrderId: "retry-once-1",
        strategyId: "retry-test",
        venue: "venue-a",
        symbol: "BTC-USD",
        side: "BUY",
        type: "LIMIT",
        price,
        quantity: "0.001",
      },
      { attemptTimeoutMs: 150, deadlineMs: 5_000 },
    );
    expect(res.duplicate).toBe(true); // the first attempt did create it; the retry got the same order back
    const counters = sim.engine.getCounters();
    expect(counters.duplicateOrders).toBeGreaterThanOrEqual(1);
    const open = await exchange.listOpenOrders({ strategyId: "retry-test" });
    expect(open).toHaveLength(1);
    expect(open[0]?.orderId).toBe(res.order?.orderId);
    expect(open[0]?.clientOrderId).toBe("retry-once-1");
    expect(manager.stats()["exchange.PlaceOrder"]).toMatchObject({ count: 1, errors: 0 });
  });

  it("an exceeded deadline surfaces as DeadlineExceededError naming the service and method", async () => {
    const { sim, exchange } = await setup();
    sim.setChaos({ latencyMs: 5_000 }); // far beyond the deadline, so the bound below has room on a loaded machine
    const t0 = Date.now();
    const err = await exchange.getOrder({ orderId: "ord-x" }, { deadlineMs: 120 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeadlineExceededError);
    expect(err).toMatchObject({ service: "exchange", method: "GetOrder", code: 4 });
    expect(Date.now() - t0).toBeLessThan(4_000);
    sim.setChaos({ latencyMs: 0 });
  });

  it("maps bad input and unknown orders to typed errors", async () => {
    const { exchange } = await setup();
    const bad = await exchange
      .placeOrder({
        clientOrderId: "bad-1",
        venue: "venue-a",
        symbol: "BTC-USD",
        side: "BUY",
        type: "LIMIT",
        price: "100",
        quantity: "-1",
      })
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(InvalidArgumentError);
    expect((bad as Error).message).toMatch(/quantity/);
    const noId = await exchange
      .placeOrder({
        clientOrderId: " ",
        venue: "venue-a",
        symbol: "BTC-USD",
        side: "BUY",
        type: "MARKET",
        quantity: "1",
      })
      .catch((e: unknown) => e);
    expect(noId).toBeInstanceOf(InvalidArgumentError);
    const missing = await exchange.getOrder({ orderId: "ord-does-not-exist" }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(NotFoundError);
  });

  it("execution replay after reconnects delivers every execution exactly once, in sequence", async () => {
    const { sim, port, exchange } = await setup();
    const book = await exchange.getOrderBook("venue-a", "BTC-USD", 1);
    const crossing = new Decimal(book.asks[0]?.price ?? "100000").mul(1.02).toDecimalPlaces(2);
    let n = 0;
    const viaGrpc = () =>
      exchange.placeOrder({
        clientOrderId: `exec-${n++}`,
        strategyId: "replay",
        venue: "venue-a",
        symbol: "BTC-USD",
        side: "BUY",
        type: "LIMIT",
        timeInForce: "IOC",
        price: crossing,
        quantity: "0.001",
      });
    // Executions produced while the client is disconnected (straight into the engine).
    const inProcess = () =>
      sim.engine.placeOrder(
        PlaceOrderRequest.fromPartial({
          clientOrderId: `exec-${n++}`,
          strategyId: "replay",
          venue: "venue-a",
          symbol: "BTC-USD",
          side: Side.BUY,
          type: 2,
          timeInForce: 2,
          price: crossing.toFixed(),
          quantity: "0.001",
        }),
        { chaosReject: false },
      );

    for (let i = 0; i < 3; i++) await viaGrpc();
    const stream = exchange.streamExecutions({ fromSequence: 1, initialDelayMs: 30, maxDelayMs: 150 });
    cleanup.push(() => stream.close());
    const got: Execution[] = [];
    const consumer = (async () => {
      for await (const e of stream) got.push(e);
    })();
    const waitFor = async (pred: () => boolean, what: string) => {
      for (const until = Date.now() + 10_000; !pred(); ) {
        if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
        await sleep(20);
      }
    };
    const lastSeq = () => sim.engine.getCounters().lastSequence;
    await waitFor(() => got.at(-1)?.sequence === lastSeq() && got.length > 0, "initial replay");

    // 1) Chaos outage drops the stream; executions happen meanwhile.
    sim.setChaos({ downtimeMs: 300 });
    for (let i = 0; i < 3; i++) inProcess();
    await waitFor(() => stream.stats.reconnects >= 1 && got.at(-1)?.sequence === lastSeq(), "replay after outage");

    // 2) Full restart of the simulator process (same state, same port).
    await sim.stop();
    for (let i = 0; i < 3; i++) inProcess();
    await sim.start(port);
    await waitFor(() => stream.stats.reconnects >= 2 && got.at(-1)?.sequence === lastSeq(), "replay after restart");
    // Live executions on the resumed stream.
    for (let i = 0; i < 2; i++) await viaGrpc();
    await waitFor(() => got.at(-1)?.sequence === lastSeq(), "live after restart");

    stream.close();
    await consumer;
    const expected = sim.engine.executionsFrom(1).map((e) => e.sequence);
    const seqs = got.map((e) => e.sequence);
    expect(expected.length).toBeGreaterThanOrEqual(11);
    expect(seqs).toEqual(expected); // exactly once, in order, nothing missing
    expect(new Set(got.map((e) => e.executionId)).size).toBe(got.length);
    expect(stream.lastSequence).toBe(expected.at(-1));
  });

  it("manager.close() cancels open streams and they stop reconnecting", async () => {
    const { manager, exchange } = await setup();
    const stream = exchange.streamExecutions({ initialDelayMs: 20 });
    const done = (async () => {
      for await (const _ of stream) {
        // drain
      }
      return "ended";
    })();
    await sleep(100);
    expect(stream.stats.connects).toBe(1);
    await manager.close();
    const outcome = await Promise.race([done, sleep(2_000).then(() => "still running")]);
    expect(outcome).toBe("ended");
    expect(stream.isClosed).toBe(true);
  });
});
