// One contract for every StateStore implementation. Run by test/unit/stateStore.inMemory.test.ts and
// test/localstack/stateStore.dynamodb.test.ts. Each test builds a fresh store from the factory.
import { describe, expect, it } from "vitest";
import type { ItemStateStoreOptions } from "../../lib/adapters/state/ItemStateStore";
import type { Item } from "../../lib/adapters/state/itemBackend";
import { dec } from "../../lib/domain/decimal";
import { createOrder, IllegalTransitionError, type Order } from "../../lib/domain/orders";
import { type RiskContext, RiskEngine } from "../../lib/domain/risk";
import type { L1Quote, OrderIntent } from "../../lib/domain/types";
import {
  FillConflictError,
  type FillInput,
  type RiskStateInput,
  type SignalRecord,
  type StateStore,
  UnknownOrderError,
  VersionConflictError,
} from "../../lib/ports/StateStore";

export type ContractStore = StateStore & { dumpItems(): Promise<Item[]> };
export type StoreFactory = (options?: ItemStateStoreOptions) => Promise<ContractStore>;

const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);

function intent(over: Partial<OrderIntent> = {}): OrderIntent {
  return {
    strategyId: "arb",
    venue: "venue-a",
    symbol: "BTC-USD",
    side: "BUY",
    type: "LIMIT",
    timeInForce: "GTC",
    postOnly: false,
    quantity: dec("1"),
    limitPrice: dec("30000"),
    ...over,
  };
}

function newOrder(clientOrderId: string, over: Partial<OrderIntent> = {}, at = T0): Order {
  return createOrder(intent(over), { clientOrderId, signalId: `sig-${clientOrderId}` }, at);
}

/** Create and move to "accepted" so fills are legal. */
async function acceptedOrder(
  store: StateStore,
  clientOrderId: string,
  over: Partial<OrderIntent> = {},
): Promise<Order> {
  const o = newOrder(clientOrderId, over);
  const r = await store.createPendingOrder(o);
  expect(r.created).toBe(true);
  const sub = await store.updateOrderStatus(clientOrderId, 1, {
    status: "submitted",
    at: T0 + 1,
    exchangeOrderId: `x-${clientOrderId}`,
  });
  const acc = await store.updateOrderStatus(clientOrderId, sub.version, { status: "accepted", at: T0 + 2 });
  return acc.order;
}

function fill(executionId: string, clientOrderId: string, over: Partial<FillInput> = {}): FillInput {
  return {
    executionId,
    clientOrderId,
    strategyId: "arb",
    venue: "venue-a",
    symbol: "BTC-USD",
    side: "BUY",
    quantity: "0.25",
    price: "30000",
    fee: "0.75",
    feeAsset: "USD",
    liquidity: "TAKER",
    ts: T0 + 1000,
    ...over,
  };
}

/** Economic state of a position (timestamps and the venue of the latest fill depend on delivery order). */
function economics(
  p:
    | {
        quantity: { toFixed(): string };
        averageEntryPrice: { toFixed(): string };
        costBasis: { toFixed(): string };
        realizedPnl: { toFixed(): string };
        fees: { toFixed(): string };
        fillCount: number;
        version: number;
      }
    | undefined,
) {
  if (!p) return undefined;
  return {
    quantity: p.quantity.toFixed(),
    averageEntryPrice: p.averageEntryPrice.toFixed(),
    costBasis: p.costBasis.toFixed(),
    realizedPnl: p.realizedPnl.toFixed(),
    fees: p.fees.toFixed(),
    fillCount: p.fillCount,
    version: p.version,
  };
}

const riskCtx: RiskContext = {
  mid: 30000,
  position: 0,
  strategyNotional: 0,
  portfolioNotional: 0,
  availableQuote: 1e9,
};

const quote = (venue: string, ts: number, bid: string, ask: string): L1Quote => ({
  ts,
  venue,
  symbol: "BTC-USD",
  bid: dec(bid),
  ask: dec(ask),
  bidSize: dec("1.5"),
  askSize: dec("2"),
});

export function stateStoreContract(name: string, factory: StoreFactory): void {
  describe(`StateStore contract: ${name}`, () => {
    describe("orders", () => {
      it("a duplicate pending order never makes a second order", async () => {
        const store = await factory();
        const o = newOrder("coid-dup");
        const first = await store.createPendingOrder(o);
        const second = await store.createPendingOrder({ ...o, quantity: dec("5"), remainingQuantity: dec("5") });
        expect(first.created).toBe(true);
        expect(second.created).toBe(false);
        if (second.created) throw new Error("unreachable");
        expect(second.existing.version).toBe(1);
        expect(second.existing.order.quantity.toFixed()).toBe("1");
        expect(await store.listOrdersByStrategy("arb")).toHaveLength(1);
      });

      it("concurrent duplicate creates: exactly one wins", async () => {
        const store = await factory();
        const o = newOrder("coid-race");
        const results = await Promise.all(Array.from({ length: 8 }, () => store.createPendingOrder(o)));
        expect(results.filter((r) => r.created)).toHaveLength(1);
      });

      it("round-trips every order field exactly", async () => {
        const store = await factory();
        const o = newOrder("coid-rt", {
          quantity: dec("0.123456789012345678"),
          limitPrice: dec("30000.01"),
          tag: "arb:leg1",
        });
        await store.createPendingOrder(o);
        const got = await store.getOrder("coid-rt");
        expect(got?.version).toBe(1);
        expect(got?.order.quantity.toFixed()).toBe("0.123456789012345678");
        expect(got?.order.limitPrice?.toFixed()).toBe("30000.01");
        expect(got?.order.tag).toBe("arb:leg1");
        expect(got?.order.signalId).toBe("sig-coid-rt");
        expect(got?.order.status).toBe("pending-new");
        expect(await store.getOrder("missing")).toBeUndefined();
      });

      it("updateOrderStatus checks the version and the state machine, writing nothing on failure", async () => {
        const store = await factory();
        await store.createPendingOrder(newOrder("coid-upd"));
        const sub = await store.updateOrderStatus("coid-upd", 1, {
          status: "submitted",
          at: T0 + 5,
          exchangeOrderId: "x-1",
        });
        expect(sub.version).toBe(2);
        expect(sub.order.exchangeOrderId).toBe("x-1");
        await expect(store.updateOrderStatus("coid-upd", 1, { status: "accepted", at: T0 + 6 })).rejects.toBeInstanceOf(
          VersionConflictError,
        );
        const before = await store.dumpItems();
        await expect(store.updateOrderStatus("coid-upd", 2, { status: "denied", at: T0 + 7 })).rejects.toBeInstanceOf(
          IllegalTransitionError,
        );
        expect(await store.dumpItems()).toEqual(before);
        await expect(store.updateOrderStatus("nope", 1, { status: "submitted", at: T0 })).rejects.toThrow(/nope/);
      });

      it("updateOrderStatus with the caller's copy writes without a read; a stale copy is refused, nothing written", async () => {
        const store = await factory();
        const created = await store.createPendingOrder(newOrder("coid-known"));
        if (!created.created) throw new Error("unreachable");
        const sub = await store.updateOrderStatus(
          "coid-known",
          1,
          { status: "submitted", at: T0 + 5 },
          created.order.order,
        );
        expect(sub.version).toBe(2);
        expect(await store.getOrder("coid-known")).toEqual(sub);
        // The version-1 copy is stale now: the versioned write refuses it even though the move would be legal.
        const before = await store.dumpItems();
        await expect(
          store.updateOrderStatus("coid-known", 1, { status: "submitted", at: T0 + 6 }, created.order.order),
        ).rejects.toBeInstanceOf(VersionConflictError);
        // A missing order cannot be "known" into existence.
        await expect(
          store.updateOrderStatus("coid-none", 1, { status: "submitted", at: T0 + 6 }, newOrder("coid-none")),
        ).rejects.toBeInstanceOf(VersionConflictError);
        expect(await store.dumpItems()).toEqual(before);
        const acc = await store.updateOrderStatus("coid-known", 2, { status: "accepted", at: T0 + 7 }, sub.order);
        expect(acc.version).toBe(3);
        expect((await store.getOrder("coid-known"))?.order.status).toBe("accepted");
      });

      it("rejects ids that would corrupt composite keys, naming the field and the value", async () => {
        const store = await factory();
        await expect(store.createPendingOrder(newOrder("bad-key", { strategyId: "arb#2" }))).rejects.toThrow(
          /order\.strategyId.*arb#2/,
        );
        await expect(store.getPosition("arb", "")).rejects.toThrow(/symbol/);
        expect(await store.dumpItems()).toEqual([]);
      });

      it("lists orders by strategy and status, and open orders (terminal ones drop out)", async () => {
        const store = await factory();
        await store.createPendingOrder(newOrder("o1", {}, T0));
        await store.createPendingOrder(newOrder("o2", {}, T0 + 10));
        await store.createPendingOrder(newOrder("o3", { strategyId: "mm" }, T0 + 20));
        await store.updateOrderStatus("o2", 1, { status: "denied", at: T0 + 11, errorMessage: "max-position" });
        expect((await store.listOrdersByStrategy("arb")).map((o) => o.order.clientOrderId)).toEqual(["o1", "o2"]);
        expect(
          (await store.listOrdersByStrategy("arb", { status: "denied" })).map((o) => o.order.clientOrderId),
        ).toEqual(["o2"]);
        expect((await store.listOpenOrders()).map((o) => o.order.clientOrderId)).toEqual(["o1", "o3"]);
        expect((await store.listOpenOrders({ strategyId: "mm" })).map((o) => o.order.clientOrderId)).toEqual(["o3"]);
      });
    });

    describe("fills", () => {
      it("applies a fill to the order, the position and the ledger together", async () => {
        const store = await factory();
        await acceptedOrder(store, "f-order");
        const r = await store.applyFill(fill("e1", "f-order"));
        expect(r.applied).toBe(true);
        if (!r.applied) throw new Error("unreachable");
        expect(r.order.version).toBe(4);
        expect(r.order.order.status).toBe("partially-filled");
        expect(r.order.order.filledQuantity.toFixed()).toBe("0.25");
        expect(r.order.order.averageFillPrice?.toFixed()).toBe("30000");
        expect(r.position.quantity.toFixed()).toBe("0.25");
        expect(r.position.version).toBe(1);
        expect(r.position.fees.toFixed()).toBe("0.75");
        const pos = await store.getPosition("arb", "BTC-USD");
        expect(economics(pos)).toEqual(economics(r.position));
        expect((await store.listFillsByOrder("f-order")).map((f) => f.executionId)).toEqual(["e1"]);
        expect((await store.getFill("e1"))?.price).toBe("30000");
      });

      it("a fill without strategyId is resolved through the order", async () => {
        const store = await factory();
        await acceptedOrder(store, "f-nostrat");
        const { strategyId: _omit, ...noStrategy } = fill("e-ns", "f-nostrat");
        const r = await store.applyFill(noStrategy);
        expect(r.applied).toBe(true);
        expect((await store.getPosition("arb", "BTC-USD"))?.quantity.toFixed()).toBe("0.25");
      });

      it("a duplicate execution is a no-op: state byte-for-byte equal to a single delivery", async () => {
        const store = await factory();
        await acceptedOrder(store, "d-order");
        const first = await store.applyFill(fill("e-dup", "d-order"));
        expect(first.applied).toBe(true);
        const once = JSON.stringify(await store.dumpItems());
        const again = await store.applyFill(fill("e-dup", "d-order"));
        expect(again).toMatchObject({ applied: false, duplicate: true });
        expect(JSON.stringify(await store.dumpItems())).toBe(once);
        // concurrent duplicates too
        const both = await Promise.all([
          store.applyFill(fill("e-dup2", "d-order")),
          store.applyFill(fill("e-dup2", "d-order")),
        ]);
        expect(both.filter((b) => b.applied)).toHaveLength(1);
        expect((await store.getOrder("d-order"))?.order.filledQuantity.toFixed()).toBe("0.5");
      });

      it("double delivery leaves the whole table equal to a single delivery on another store", async () => {
        const single = await factory();
        const double = await factory();
        for (const store of [single, double]) await acceptedOrder(store, "b-order");
        const fills = [
          fill("b1", "b-order", { ts: T0 + 1000 }),
          fill("b2", "b-order", { ts: T0 + 2000, price: "30010" }),
        ];
        for (const f of fills) await single.applyFill(f);
        for (const f of fills) {
          await double.applyFill(f);
          await double.applyFill(f);
        }
        expect(JSON.stringify(await double.dumpItems())).toBe(JSON.stringify(await single.dumpItems()));
      });

      it("fills out of order and twice give the same position and order as once in order", async () => {
        const inOrder = await factory();
        const shuffled = await factory();
        for (const s of [inOrder, shuffled]) await acceptedOrder(s, "oo-order");
        const fs = [
          fill("oo1", "oo-order", { quantity: "0.1", price: "30000", ts: T0 + 1000 }),
          fill("oo2", "oo-order", { quantity: "0.3", price: "30000.5", ts: T0 + 2000 }),
          fill("oo3", "oo-order", { quantity: "0.6", price: "29999.25", ts: T0 + 3000, fee: "1.1" }),
        ];
        for (const f of fs) await inOrder.applyFill(f);
        for (const i of [2, 0, 2, 1, 0, 1]) await shuffled.applyFill(fs[i]!);
        const a = await inOrder.getPosition("arb", "BTC-USD");
        const b = await shuffled.getPosition("arb", "BTC-USD");
        expect(economics(b)).toEqual(economics(a));
        expect(a?.quantity.toFixed()).toBe("1");
        const oa = (await inOrder.getOrder("oo-order"))!;
        const ob = (await shuffled.getOrder("oo-order"))!;
        expect(ob.order.status).toBe("filled");
        expect(oa.order.status).toBe("filled");
        expect(ob.order.averageFillPrice?.toFixed()).toBe(oa.order.averageFillPrice?.toFixed());
        expect(ob.order.filledQuantity.toFixed()).toBe("1");
        expect(ob.version).toBe(oa.version);
        expect(JSON.stringify(await shuffled.listFillsByOrder("oo-order"))).toBe(
          JSON.stringify(await inOrder.listFillsByOrder("oo-order")),
        );
      });

      it("16 concurrent fills on one position: no lost update", async () => {
        const store = await factory();
        const n = 16;
        for (let i = 0; i < n; i++) await acceptedOrder(store, `c-${i}`);
        const results = await Promise.all(
          Array.from({ length: n }, (_, i) =>
            store.applyFill(
              fill(`ce-${i}`, `c-${i}`, { quantity: "0.1", price: `${30000 + i}.5`, fee: "0.01", ts: T0 + 1000 + i }),
            ),
          ),
        );
        expect(results.every((r) => r.applied)).toBe(true);
        const pos = await store.getPosition("arb", "BTC-USD");
        expect(pos?.quantity.toFixed()).toBe("1.6");
        expect(pos?.fillCount).toBe(n);
        expect(pos?.version).toBe(n);
        expect(pos?.fees.toFixed()).toBe("0.16");
        // cost = Σ 0.1 × (30000.5 + i) exactly
        const cost = Array.from({ length: n }, (_, i) => dec("0.1").times(`${30000 + i}.5`)).reduce((x, y) =>
          x.plus(y),
        );
        expect(pos?.costBasis.toFixed()).toBe(cost.toFixed());
        // the race was real: some fills needed more than one attempt
        const attempts = results.map((r) => (r.applied ? r.attempts : 0));
        expect(Math.max(...attempts)).toBeGreaterThan(1);
        expect((await store.listFillsByStrategy("arb")).length).toBe(n);
      });

      it("a version conflict is retried: two fills racing on one order both land", async () => {
        const store = await factory();
        // Two concurrent requests overlap only if the scheduler lets them: on a loaded machine one may finish
        // before the other reads. Race fresh orders until one round overlaps; every round must be correct.
        let raced = false;
        for (let round = 0; round < 10 && !raced; round++) {
          const coid = `vc-order-${round}`;
          await acceptedOrder(store, coid);
          const [a, b] = await Promise.all([
            store.applyFill(fill(`vc1-${round}`, coid, { quantity: "0.4" })),
            store.applyFill(fill(`vc2-${round}`, coid, { quantity: "0.6", price: "30001" })),
          ]);
          expect(a.applied && b.applied).toBe(true);
          const attempts = [a, b].map((r) => (r.applied ? r.attempts : 0)).sort();
          expect(attempts[0]).toBe(1);
          raced = attempts[1]! > 1;
          const o = (await store.getOrder(coid))!;
          expect(o.order.status).toBe("filled");
          expect(o.order.averageFillPrice?.toFixed()).toBe("30000.6");
        }
        expect(raced).toBe(true);
      });

      it("when retries run out the fill fails with a typed error and writes nothing", async () => {
        const store = await factory({ fillRetry: { maxAttempts: 1 } });
        // As above: retry the race with fresh orders until the two requests actually overlap.
        let raced = false;
        for (let round = 0; round < 10 && !raced; round++) {
          const coid = `x-order-${round}`;
          await acceptedOrder(store, coid);
          const results = await Promise.allSettled([
            store.applyFill(fill(`x1-${round}`, coid)),
            store.applyFill(fill(`x2-${round}`, coid)),
          ]);
          const failed = results.filter((r) => r.status === "rejected");
          if (failed.length === 0) {
            expect((await store.getOrder(coid))?.order.filledQuantity.toFixed()).toBe("0.5");
            continue;
          }
          raced = true;
          expect(failed).toHaveLength(1);
          const reason = (failed[0] as PromiseRejectedResult).reason;
          expect(reason).toBeInstanceOf(FillConflictError);
          const lost = (reason as FillConflictError).executionId;
          expect(await store.getFill(lost)).toBeUndefined();
          expect((await store.getOrder(coid))?.order.filledQuantity.toFixed()).toBe("0.25");
        }
        expect(raced).toBe(true);
      });

      it("a fill for an unknown order is a typed error and writes nothing", async () => {
        const store = await factory();
        await acceptedOrder(store, "k-order");
        const before = JSON.stringify(await store.dumpItems());
        await expect(store.applyFill(fill("u1", "no-such-order"))).rejects.toBeInstanceOf(UnknownOrderError);
        await expect(store.applyFill(fill("u1", "no-such-order"))).rejects.toThrow(/no-such-order/);
        expect(JSON.stringify(await store.dumpItems())).toBe(before);
      });

      it("bad fills name the field and the value, and write nothing", async () => {
        const store = await factory();
        await acceptedOrder(store, "bad-order");
        const before = JSON.stringify(await store.dumpItems());
        await expect(store.applyFill(fill("bad1", "bad-order", { quantity: "-1" }))).rejects.toThrow(
          /fill\.quantity.*-1/,
        );
        await expect(store.applyFill(fill("bad2", "bad-order", { price: "NaN" }))).rejects.toThrow(/fill\.price.*NaN/);
        await expect(store.applyFill(fill("bad3", "bad-order", { quantity: "5" }))).rejects.toThrow(/overfill/);
        await expect(store.applyFill(fill("bad4", "bad-order", { strategyId: "other" }))).rejects.toThrow(
          /fill\.strategyId.*other/,
        );
        await expect(store.applyFill(fill("bad5", "bad-order", { side: "SELL" }))).rejects.toThrow(/fill\.side/);
        expect(JSON.stringify(await store.dumpItems())).toBe(before);
      });

      it("a fill arriving before the 'submitted' write moves a pending order forward", async () => {
        const store = await factory();
        await store.createPendingOrder(newOrder("early"));
        const r = await store.applyFill(fill("early-1", "early", { quantity: "1", exchangeOrderId: "x-early" }));
        expect(r.applied).toBe(true);
        const o = (await store.getOrder("early"))!;
        expect(o.order.status).toBe("filled");
        expect(o.order.exchangeOrderId).toBe("x-early");
      });

      it("reductions realize PnL and list positions", async () => {
        const store = await factory();
        await acceptedOrder(store, "buy1");
        await acceptedOrder(store, "sell1", { side: "SELL", quantity: dec("0.5") });
        await acceptedOrder(store, "eth1", { symbol: "ETH-USD", quantity: dec("2"), limitPrice: dec("2000") });
        await store.applyFill(fill("r1", "buy1", { quantity: "1", price: "30000" }));
        await store.applyFill(fill("r2", "sell1", { side: "SELL", quantity: "0.5", price: "30100" }));
        await store.applyFill(fill("r3", "eth1", { symbol: "ETH-USD", quantity: "2", price: "2000" }));
        const pos = await store.getPosition("arb", "BTC-USD");
        expect(pos?.quantity.toFixed()).toBe("0.5");
        expect(pos?.realizedPnl.toFixed()).toBe("50");
        expect((await store.getFill("r2"))?.realizedPnl).toBe("50");
        // An opening fill books no realized PnL: null, not "0" (a "0" would be a break-even close).
        expect((await store.getFill("r1"))?.realizedPnl).toBeNull();
        expect((await store.listFillsByStrategy("arb")).find((f) => f.executionId === "r3")?.realizedPnl).toBeNull();
        expect((await store.listPositions()).map((p) => `${p.strategyId}/${p.symbol}`)).toEqual([
          "arb/BTC-USD",
          "arb/ETH-USD",
        ]);
        expect(await store.listPositions({ strategyId: "mm" })).toEqual([]);
        const window = await store.listFillsByStrategy("arb", { from: T0 + 1000, to: T0 + 1000 });
        expect(window.map((f) => f.executionId).sort()).toEqual(["r1", "r2", "r3"]);
        expect(await store.listFillsByStrategy("arb", { from: T0 + 1001 })).toEqual([]);
      });
    });

    describe("snapshots", () => {
      it("keeps the newest snapshot per venue and flags stale ones", async () => {
        const store = await factory();
        expect(await store.putSnapshot(quote("venue-a", T0 + 1000, "30000", "30001"), 7)).toEqual({ stored: true });
        expect(await store.putSnapshot(quote("venue-a", T0 + 500, "1", "2"), 6)).toEqual({ stored: false });
        expect(await store.putSnapshot(quote("venue-a", T0 + 1000, "1", "2"), 7)).toEqual({ stored: false });
        await store.putSnapshot(quote("venue-b", T0 + 3000, "30075", "30076"));
        const a = await store.getSnapshot("venue-a", "BTC-USD", { now: T0 + 4000, maxAgeMs: 2000 });
        expect(a?.quote.bid.toFixed()).toBe("30000");
        expect(a?.sequence).toBe(7);
        expect(a?.ageMs).toBe(3000);
        expect(a?.stale).toBe(true);
        const all = await store.listSnapshots("BTC-USD", { now: T0 + 4000, maxAgeMs: 2000 });
        expect(all.map((s) => [s.quote.venue, s.stale])).toEqual([
          ["venue-a", true],
          ["venue-b", false],
        ]);
        expect(await store.getSnapshot("venue-c", "BTC-USD", { now: T0, maxAgeMs: 1 })).toBeUndefined();
        await expect(store.putSnapshot(quote("venue-a", T0 + 9000, "30002", "30001"))).rejects.toThrow(/quote\.ask/);
      });

      it("getSnapshots reads other venues by key: one written a moment earlier is always seen, in venue order", async () => {
        const store = await factory();
        await store.putSnapshot(quote("venue-b", T0 + 10, "30000", "30001"), 3);
        // Right after the other venue's write, as the signal function does it (its own write in parallel).
        const [, seen] = await Promise.all([
          store.putSnapshot(quote("venue-a", T0 + 20, "29990", "29995"), 9),
          store.getSnapshots(["venue-c", "venue-b"], "BTC-USD", { now: T0 + 20, maxAgeMs: 5 }),
        ]);
        expect(seen.map((v) => [v.quote.venue, v.sequence, v.ageMs, v.stale])).toEqual([["venue-b", 3, 10, true]]);
        expect(seen[0]?.quote.bid.toFixed()).toBe("30000");
        expect(await store.getSnapshots([], "BTC-USD", { now: T0, maxAgeMs: 1 })).toEqual([]);
      });
    });

    describe("engine trading state (kill switch)", () => {
      it("is undefined until set, then optimistic-locked by version", async () => {
        const store = await factory();
        expect(await store.getTradingState()).toBeUndefined();
        const halted = await store.putTradingState(
          {
            state: "HALTED",
            strategies: { mm: "REDUCING", arb: "ACTIVE" },
            reason: "kill switch",
            at: T0,
            source: "kill-switch",
          },
          0,
        );
        expect(halted).toEqual({
          state: "HALTED",
          strategies: { mm: "REDUCING" },
          reason: "kill switch",
          at: T0,
          source: "kill-switch",
          version: 1,
        });
        expect(await store.getTradingState()).toEqual(halted);
        // A second "first write" and a stale version both lose, naming the versions.
        await expect(
          store.putTradingState({ state: "ACTIVE", strategies: {}, reason: "x", at: T0 + 1 }, 0),
        ).rejects.toThrow(VersionConflictError);
        await expect(
          store.putTradingState({ state: "ACTIVE", strategies: {}, reason: "x", at: T0 + 1 }, 2),
        ).rejects.toThrow(/RISKSTATE.*expected version=2, found 1/);
        const active = await store.putTradingState(
          { state: "ACTIVE", strategies: {}, reason: "resume", at: T0 + 2 },
          1,
        );
        expect(active.version).toBe(2);
        expect(await store.getTradingState()).toEqual({
          state: "ACTIVE",
          strategies: {},
          reason: "resume",
          at: T0 + 2,
          version: 2,
        });
        const items = (await store.dumpItems()).filter((i) => i.entity === "RISKSTATE");
        expect(items.map((i) => [i.pk, i.sk])).toEqual([["RISKSTATE", "RISKSTATE"]]);
      });

      it("rejects an unknown state naming the field and the value; nothing written", async () => {
        const store = await factory();
        await expect(
          store.putTradingState({ state: "PAUSED" as never, strategies: {}, reason: "x", at: T0 }, 0),
        ).rejects.toThrow(/state.*PAUSED/);
        await expect(
          store.putTradingState({ state: "ACTIVE", strategies: { mm: "STOP" as never }, reason: "x", at: T0 }, 0),
        ).rejects.toThrow(/strategies\.mm.*STOP/);
        expect(await store.getTradingState()).toBeUndefined();
      });
    });

    describe("risk state (one aggregate: trading state + the risk engine's memory)", () => {
      const engineAt = (now: number) => {
        const e = new RiskEngine({ limits: { maxOrdersPerSecond: 5 } });
        e.markEquity(1_000_000, now - 1000);
        e.markEquity(990_000.25, now);
        e.bookRealized(-12.5, now);
        e.check(intent(), riskCtx, now);
        return e;
      };
      const asInput = (e: RiskEngine, now: number, reason = "x"): RiskStateInput => ({
        state: e.tradingState,
        strategies: e.strategyStatesSnapshot(),
        reason,
        at: now,
        engine: e.snapshot(now),
      });

      it("round-trips the engine's memory; old trading-state readers and writers keep working beside it", async () => {
        const store = await factory();
        expect(await store.getRiskState()).toBeUndefined();
        const written = await store.putRiskState(asInput(engineAt(T0), T0, "first"), 0);
        expect(written.version).toBe(1);
        const read = await store.getRiskState();
        expect(read).toEqual(written);
        // The stored memory decides like the engine it came from.
        const restored = new RiskEngine({ limits: { maxOrdersPerSecond: 5 } });
        restored.restore(read!.engine!);
        expect(restored.equityStatus()).toEqual(engineAt(T0).equityStatus());
        // An old reader sees the trading state only; an old writer keeps the memory.
        expect(await store.getTradingState()).toEqual({
          state: "ACTIVE",
          strategies: {},
          reason: "first",
          at: T0,
          version: 1,
        });
        await store.putTradingState({ state: "HALTED", strategies: {}, reason: "kill", at: T0 + 1 }, 1);
        const after = await store.getRiskState();
        expect(after).toMatchObject({ state: "HALTED", reason: "kill", version: 2 });
        expect(after?.engine).toEqual(written.engine);
        await expect(store.putRiskState(asInput(engineAt(T0), T0), 1)).rejects.toThrow(
          /RISKSTATE.*expected version=1, found 2/,
        );
        await expect(
          store.putRiskState({ ...asInput(engineAt(T0), T0), engine: { v: 2 } as never }, 2),
        ).rejects.toThrow(/engine\.v/);
        expect((await store.dumpItems()).filter((i) => i.entity === "RISKSTATE")).toHaveLength(1);
      });

      it("reads a signal's decision and the risk state together; a placement commits signal, orders and risk state at once", async () => {
        const store = await factory();
        expect(await store.getSignalAndRiskState("sig-1")).toEqual({});
        const sig: SignalRecord = {
          signalId: "sig-1",
          strategyId: "arb",
          status: "approved",
          ts: T0,
          clientOrderIds: ["p-1", "p-2"],
        };
        const orders = [newOrder("p-1"), newOrder("p-2", { side: "SELL", venue: "venue-b" })];
        const r = await store.commitPlacement({
          signal: sig,
          orders,
          risk: asInput(engineAt(T0), T0),
          expectedRiskVersion: 0,
        });
        expect(r.committed).toBe(true);
        const both = await store.getSignalAndRiskState("sig-1");
        expect(both.signal).toEqual(sig);
        expect(both.risk?.version).toBe(1);
        expect((await store.getOrder("p-2"))?.version).toBe(1);
        const before = JSON.stringify(await store.dumpItems());
        // A second delivery of the signal: told who won, nothing written.
        const again = await store.commitPlacement({
          signal: { ...sig, status: "denied" },
          orders: [],
          risk: asInput(engineAt(T0), T0),
          expectedRiskVersion: 1,
        });
        expect(again).toEqual({ committed: false, reason: "signal-exists", existing: sig });
        // Another signal against a stale risk version: a conflict, nothing written (no signal, no order).
        const stale = await store.commitPlacement({
          signal: { ...sig, signalId: "sig-2", clientOrderIds: ["p-3"] },
          orders: [newOrder("p-3")],
          risk: asInput(engineAt(T0), T0),
          expectedRiskVersion: 0,
        });
        expect(stale).toMatchObject({ committed: false, reason: "risk-conflict" });
        expect(JSON.stringify(await store.dumpItems())).toBe(before);
      });

      it("16 concurrent placements against a rate limit of 5 per second: exactly 5 admitted (conditional writes)", async () => {
        const store = await factory();
        const limits = { maxOrdersPerSecond: 5, circuitBreakers: { rateLimitBreachesToHalt: 100 } };
        let conflicts = 0;
        const place = async (i: number) => {
          for (let attempt = 0; attempt < 60; attempt++) {
            const { risk } = await store.getSignalAndRiskState(`c-sig-${i}`);
            const e = new RiskEngine({ limits });
            if (risk?.engine) e.restore(risk.engine);
            const d = e.check(intent(), riskCtx, T0 + 10);
            const signal: SignalRecord = {
              signalId: `c-sig-${i}`,
              strategyId: "arb",
              status: d.approved ? "approved" : "denied",
              ts: T0 + 10,
              ...(d.approved ? {} : { rule: d.denial.rule }),
            };
            const r = await store.commitPlacement({
              signal,
              orders: d.approved ? [newOrder(`c-${i}`)] : [],
              risk: asInput(e, T0 + 10),
              expectedRiskVersion: risk?.version ?? 0,
            });
            if (r.committed) return signal;
            conflicts++;
            await new Promise((res) => setTimeout(res, Math.random() * 20));
          }
          throw new Error(`placement ${i} kept conflicting`);
        };
        const out = await Promise.all(Array.from({ length: 16 }, (_, i) => place(i)));
        expect(out.filter((s) => s.status === "approved")).toHaveLength(5);
        expect(out.filter((s) => s.status === "denied").map((s) => s.rule)).toEqual(Array(11).fill("order-rate"));
        expect(conflicts).toBeGreaterThan(0);
        expect((await store.getRiskState())?.version).toBe(16);
        expect(await store.listOpenOrders()).toHaveLength(5);
      });

      it("a fill books into the risk state in its own transaction, exactly once", async () => {
        const store = await factory();
        await acceptedOrder(store, "rf-1");
        let calls = 0;
        const riskState = (
          cur: { engine?: RiskStateInput["engine"] } | undefined,
          f: { realizedPnl: string | null; fee: string; ts: number },
        ) => {
          calls++;
          const e = new RiskEngine();
          if (cur?.engine) e.restore(cur.engine);
          e.bookRealized(Number(f.realizedPnl ?? 0) - Number(f.fee), f.ts);
          return { state: "ACTIVE" as const, strategies: {}, reason: "fill", at: f.ts, engine: e.snapshot(f.ts) };
        };
        const first = await store.applyFill(fill("rf-e1", "rf-1"), { riskState });
        expect(first.applied && first.risk?.version).toBe(1);
        expect((await store.getRiskState())?.engine?.equity.dayRealized).toBe(-0.75);
        const dup = await store.applyFill(fill("rf-e1", "rf-1"), { riskState });
        expect(dup.applied).toBe(false);
        expect(calls).toBe(1);
        // Another writer's version in between: the next fill reads it and writes on top (version 3), booked once.
        await store.putRiskState({ state: "ACTIVE", strategies: {}, reason: "other", at: T0 }, 1);
        const second = await store.applyFill(fill("rf-e2", "rf-1"), { riskState });
        expect(second.applied && second.risk?.version).toBe(3);
        expect((await store.getRiskState())?.engine?.equity.dayRealized).toBe(-0.75);
      });
    });

    describe("signals, reports, equity, idempotency", () => {
      it("records a signal decision once", async () => {
        const store = await factory();
        const denied = {
          signalId: "s1",
          strategyId: "arb",
          status: "denied" as const,
          rule: "risk-monitor-unavailable",
          reason: "risk monitor down: fail closed",
          ts: T0,
        };
        expect(await store.recordSignal(denied)).toEqual({ recorded: true });
        const again = await store.recordSignal({ ...denied, status: "approved", reason: undefined });
        expect(again).toEqual({ recorded: false, existing: denied });
        expect(await store.getSignal("s1")).toEqual(denied);
        expect((await store.listSignalsByStrategy("arb")).map((s) => s.signalId)).toEqual(["s1"]);
      });

      it("round-trips reports (latest first, with their fill ledger) and equity points in a window", async () => {
        const store = await factory();
        const LEDGER = {
          count: 3,
          turnover: "9001.5",
          closing: 1,
          wins: 1,
          grossProfit: "1",
          grossLoss: "0",
          throughTs: T0 + 1500,
          throughIds: ["x-1", "x-2"],
        };
        const metrics = { totalPnl: "12.5", sharpe: null, winRate: 0.5, trades: 3, nested: { fees: "1.25" } };
        await store.saveReport({ reportId: "r1", strategyId: "arb", asOf: T0 + 1000, metrics, trigger: "SCHEDULE" });
        await store.saveReport({
          reportId: "r2",
          strategyId: "arb",
          asOf: T0 + 2000,
          metrics: { ...metrics, totalPnl: "13" },
          trigger: "DIRECT",
          periodStart: T0,
          positionVersions: { "BTC-USD": 3 },
          ledger: { ...LEDGER },
        });
        const latest = await store.getLatestReport("arb");
        expect(latest).toEqual({
          reportId: "r2",
          strategyId: "arb",
          asOf: T0 + 2000,
          metrics: { ...metrics, totalPnl: "13" },
          trigger: "DIRECT",
          periodStart: T0,
          positionVersions: { "BTC-USD": 3 },
          ledger: LEDGER,
        });
        expect((await store.listReports("arb")).map((r) => r.reportId)).toEqual(["r2", "r1"]);
        expect(await store.getLatestReport("none")).toBeUndefined();
        await store.appendEquityPoints([
          { strategyId: "arb", ts: T0 + 2000, equity: "100012.5" },
          { strategyId: "arb", ts: T0 + 1000, equity: "100000", realizedPnl: "0", unrealizedPnl: "0", fees: "0" },
          { strategyId: "arb", ts: T0 + 3000, equity: "99990.25" },
        ]);
        expect((await store.listEquityPoints("arb")).map((p) => p.equity)).toEqual(["100000", "100012.5", "99990.25"]);
        expect((await store.listEquityPoints("arb", { from: T0 + 1500, to: T0 + 3000 })).map((p) => p.ts)).toEqual([
          T0 + 2000,
          T0 + 3000,
        ]);
        await expect(store.appendEquityPoints([{ strategyId: "arb", ts: T0, equity: "abc" }])).rejects.toThrow(
          /equity.*abc/,
        );
      });

      it("appends long equity curves (more than one batch) in time order", async () => {
        const store = await factory();
        const points = Array.from({ length: 60 }, (_, i) => ({
          strategyId: "mm",
          ts: T0 + (59 - i) * 60_000,
          equity: `${100000 + i}.5`,
        }));
        await store.appendEquityPoints(points);
        const got = await store.listEquityPoints("mm");
        expect(got).toHaveLength(60);
        expect(got.map((p) => p.ts)).toEqual([...points.map((p) => p.ts)].sort((a, b) => a - b));
        expect(got[0]?.equity).toBe("100059.5");
      });

      it("idempotency keys: first claim wins until the record expires; only they carry the TTL attribute", async () => {
        const store = await factory();
        expect(await store.claimIdempotencyKey("k1", { ok: 1 }, 60, T0)).toEqual({ claimed: true });
        const second = await store.claimIdempotencyKey("k1", { ok: 2 }, 60, T0 + 1000);
        expect(second).toEqual({
          claimed: false,
          existing: { key: "k1", result: { ok: 1 }, expiresAt: T0 / 1000 + 60 },
        });
        expect(await store.getIdempotencyRecord("k1", T0 + 61_000)).toBeUndefined();
        expect(await store.claimIdempotencyKey("k1", { ok: 3 }, 60, T0 + 61_000)).toEqual({ claimed: true });
        await acceptedOrder(store, "ttl-order");
        await store.applyFill(fill("ttl-f", "ttl-order"));
        const withTtl = (await store.dumpItems()).filter((i) => "expiresAt" in i).map((i) => i.entity);
        expect(withTtl).toEqual(["IDEMPOTENCY"]);
      });
    });
  });
}
