// Acceptance on LocalStack through the function host: every event delivered twice and out of order leaves the
// table byte-for-byte equal to a single delivery, with no second order at the exchange; 16 concurrent fills
// on one position lose no update.
import "../support/quietPowertools";
import { afterEach, describe, expect, it } from "vitest";
import type { FunctionName } from "../../lib/app/handlers";
import { dec } from "../../lib/domain/decimal";
import { createOrder } from "../../lib/domain/orders";
import { buildBusEvent } from "../../lib/events";
import { WIDE_BOOKS } from "../support/engineRig";
import { type FunctionsRig, settled, startFunctionsRig, until } from "./functionsHarness";

// One fixed instant for both runs: every timestamp written (snapshot, signal, orders, fills) derives from it.
const T0 = Date.now();
const STRATEGY = "arb-1";
const TRADING: FunctionName[] = ["signal", "order-placement", "fill-handling"];
const rigs: FunctionsRig[] = [];
afterEach(async () => {
  await Promise.allSettled(rigs.splice(0).map((r) => r.stop()));
});

function snapshots() {
  return WIDE_BOOKS.map((b, i) =>
    buildBusEvent(
      "tse.market",
      "MarketSnapshot",
      { ...b, sequence: 1, ts: new Date(T0).toISOString() },
      { now: T0 + i },
    ),
  );
}

async function runScenario(duplicateEverything: boolean) {
  const rig = await startFunctionsRig({ now: T0, functions: TRADING, duplicateEverything });
  rigs.push(rig);
  const snaps = snapshots();
  if (duplicateEverything) await rig.putEvents([...snaps, ...[...snaps].reverse()]);
  else await rig.putEvents(snaps);
  await until(async () => {
    const p = await rig.store.getPosition(STRATEGY, "BTC-USD");
    return p && p.fillCount === 2 ? p : undefined;
  }, "both fills");
  await rig.forwarder.flush();
  await settled(rig, TRADING);
  return { rig, items: await rig.store.dumpItems() };
}

/**
 * The state as far as delivery can decide it. SQS may hand the two fills of one position to fill-handling in either
 * order, and netting books the realized PnL on whichever fill closes: the fills' and orders' own `realizedPnl`, the
 * position's last venue and the risk state's float sum follow the application order, not the number of deliveries.
 * Those are compared apart (the realized totals, the rounded sum); everything else must be byte-for-byte equal.
 */
function deliveryInvariant(items: readonly Record<string, unknown>[]) {
  const round = (_k: string, v: unknown) => (typeof v === "number" && !Number.isInteger(v) ? Number(v.toFixed(9)) : v);
  const total = (entity: string) =>
    items
      .filter((i) => i.entity === entity)
      .reduce((sum, i) => sum + Number(i.realizedPnl ?? 0), 0)
      .toFixed(9);
  const fillsRealized = `${total("FILL")} / ${total("ORDER")}`;
  const rest = items.map((i) =>
    i.entity === "FILL" || i.entity === "ORDER"
      ? { ...i, realizedPnl: "(order-dependent)" }
      : i.entity === "POSITION"
        ? { ...i, venue: "(last fill's)" }
        : i.entity === "RISKSTATE"
          ? JSON.parse(JSON.stringify(i, round))
          : i,
  );
  return { fillsRealized, state: JSON.stringify(rest) };
}

describe("functions on LocalStack: duplicates and concurrency", () => {
  it("every event twice and out of order: state byte-for-byte equal to a single delivery, no second order", async () => {
    const single = await runScenario(false);
    const double = await runScenario(true);
    expect(single.items.length).toBeGreaterThan(0);
    const a = deliveryInvariant(single.items);
    const b = deliveryInvariant(double.items);
    expect(b.state).toBe(a.state);
    expect(b.fillsRealized).toBe(a.fillsRealized);
    // Both runs traded: signal, 2 orders, 2 fills, the position, the shared risk state, 2 snapshots, the cooldown
    // claim.
    const kinds = single.items.map((i) => String(i.entity)).sort();
    expect(kinds).toEqual([
      "FILL",
      "FILL",
      "IDEMPOTENCY",
      "ORDER",
      "ORDER",
      "POSITION",
      "RISKSTATE",
      "SIGNAL",
      "SNAPSHOT",
      "SNAPSHOT",
    ]);
    // The duplicated run really saw every event at least twice.
    const obs = double.rig.observed;
    expect(obs.signal?.results.length).toBeGreaterThanOrEqual(4);
    expect(obs["order-placement"]?.results.length).toBeGreaterThanOrEqual(2);
    expect(obs["fill-handling"]?.results.length).toBeGreaterThanOrEqual(4);
    expect(
      ((obs["fill-handling"]?.results ?? []) as { duplicate: boolean }[]).filter((r) => r.duplicate).length,
    ).toBeGreaterThanOrEqual(2);
    // At the exchange: two orders in each run; a duplicate delivery never created another.
    expect(single.rig.sims.distinctOrders()).toBe(2);
    expect(double.rig.sims.distinctOrders()).toBe(2);
  });

  it("16 concurrent fills on one position: no lost update", async () => {
    const rig = await startFunctionsRig({ now: T0, functions: ["fill-handling"], serialFills: false });
    rigs.push(rig);
    const coid = "tse-concurrency-16";
    const order = createOrder(
      {
        strategyId: "conc-1",
        venue: "venue-a",
        symbol: "BTC-USD",
        side: "BUY",
        type: "LIMIT",
        timeInForce: "GTC",
        postOnly: false,
        quantity: dec("0.16"),
        limitPrice: dec("64100"),
      },
      { clientOrderId: coid },
      T0,
    );
    await rig.store.createPendingOrder(order);
    const sub = await rig.store.updateOrderStatus(coid, 1, { status: "submitted", at: T0 });
    await rig.store.updateOrderStatus(coid, sub.version, { status: "accepted", at: T0, exchangeOrderId: "ex-16" });
    const executions = Array.from({ length: 16 }, (_, i) =>
      buildBusEvent(
        "tse.exchange",
        "ExecutionReported",
        {
          executionId: `conc-exec-${i}`,
          sequence: i + 1,
          clientOrderId: coid,
          exchangeOrderId: "ex-16",
          strategyId: "conc-1",
          venue: "venue-a",
          symbol: "BTC-USD",
          side: "BUY",
          quantity: "0.01",
          price: String(64000 + i),
          fee: "0.32",
          feeAsset: "USD",
          liquidity: "TAKER",
          ts: new Date(T0 + i).toISOString(),
        },
        { now: T0 + i },
      ),
    );
    await rig.putEvents(executions);
    const pos = await until(
      async () => {
        const p = await rig.store.getPosition("conc-1", "BTC-USD");
        return p && p.fillCount === 16 ? p : undefined;
      },
      "16 fills on the position",
      40_000,
    );
    expect(pos.quantity.toFixed()).toBe("0.16");
    expect(pos.version).toBe(16);
    // Σ 0.01 × (64000 + i), i = 0..15
    expect(pos.costBasis.toFixed()).toBe("10241.2");
    expect(pos.fees.toFixed()).toBe("5.12");
    const o = await rig.store.getOrder(coid);
    expect(o?.order.status).toBe("filled");
    expect(o?.order.filledQuantity.toFixed()).toBe("0.16");
    expect(await rig.store.listFillsByOrder(coid)).toHaveLength(16);
    // The fills really ran concurrently (several invocations in flight at once).
    expect(rig.observed["fill-handling"]?.maxInFlight).toBeGreaterThan(1);
  });
});
