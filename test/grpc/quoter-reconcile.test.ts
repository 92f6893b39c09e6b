// Reconciliation of the quoter's inventory against the state store's positions (in-memory adapter), with the
// quoter on real simulators: a drift is counted once and left alone; when it persists, the store's quantity wins.
import { afterEach, describe, expect, it } from "vitest";
import { InMemoryStateStore } from "../../lib/adapters/embedded/InMemoryStateStore";
import { dec } from "../../lib/domain/decimal";
import { createOrder } from "../../lib/domain/orders";
import { makeQuoter, mmStrategy, startSims, waitFor } from "./quoterHarness";

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function storedPosition(store: InMemoryStateStore, strategyId: string, qty: string) {
  const at = Date.now();
  const o = createOrder(
    {
      strategyId,
      venue: "venue-a",
      symbol: "BTC-USD",
      side: "BUY",
      type: "LIMIT",
      timeInForce: "GTC",
      postOnly: false,
      quantity: dec(qty),
      limitPrice: dec("65000"),
    },
    { clientOrderId: "rec-1", signalId: "sig-rec-1" },
    at,
  );
  await store.createPendingOrder(o);
  const sub = await store.updateOrderStatus("rec-1", 1, {
    status: "submitted",
    at: at + 1,
    exchangeOrderId: "x-rec-1",
  });
  await store.updateOrderStatus("rec-1", sub.version, { status: "accepted", at: at + 2 });
  await store.applyFill({
    executionId: "e-rec-1",
    clientOrderId: "rec-1",
    strategyId,
    venue: "venue-a",
    symbol: "BTC-USD",
    side: "BUY",
    quantity: qty,
    price: "65000",
    fee: "0",
    feeAsset: "USD",
    ts: at + 3,
  });
}

describe("quoter reconciliation", () => {
  it("logs and counts a drift, then adopts the store's quantity when the drift persists", async () => {
    const sims = await startSims({ liquidity: false });
    cleanup.push(() => sims.stop());
    const store = new InMemoryStateStore();
    const warnings: string[] = [];
    const r = makeQuoter(sims, {
      strategies: [mmStrategy("mm-rec")],
      positions: store,
      reconcileIntervalMs: 0, // driven by the test
      logger: { debug() {}, info() {}, warn: (m) => warnings.push(m), error() {} },
    });
    cleanup.push(() => r.close());
    await r.quoter.start();
    await waitFor("quotes", () => r.quoter.openOrders().length === 2);

    expect(await r.quoter.reconcile()).toEqual({ drifts: 0, corrected: 0 });
    await storedPosition(store, "mm-rec", "0.05");

    expect(await r.quoter.reconcile()).toEqual({ drifts: 1, corrected: 0 });
    expect(r.quoter.counters.reconcileDrifts).toBe(1);
    expect(warnings).toContain("inventory drift vs state store");
    expect(r.quoter.portfolio.position("mm-rec", "BTC-USD")).toBeUndefined();

    expect(await r.quoter.reconcile()).toEqual({ drifts: 1, corrected: 1 });
    expect(r.quoter.counters.reconcileCorrections).toBe(1);
    expect(r.quoter.portfolio.position("mm-rec", "BTC-USD")?.quantity.toFixed()).toBe("0.05");

    expect(await r.quoter.reconcile()).toEqual({ drifts: 0, corrected: 0 });
  }, 15_000);
});
