// The order journal over the exchange port, on the in-process state store (which passes the same contract suite
// as DynamoDB): journal before place, the halt gate after the write, status moves written once and only when legal.
import { describe, expect, it } from "vitest";
import { Execution, Liquidity, Side, OrderStatus as WireStatus } from "../../gen/proto/tse/exchange/exchange";
import { InMemoryStateStore } from "../../lib/adapters/embedded/InMemoryStateStore";
import { executionEvent, executionReportOf, venueStatusOf } from "../../lib/adapters/exchangeWire";
import { dec } from "../../lib/domain/decimal";
import { createOrder } from "../../lib/domain/orders";
import { OrderJournal, OrderNotPlacedError } from "../../lib/engine/OrderJournal";
import { FakeVenue, venueOrder } from "./support/fakeVenue";

const args = (clientOrderId: string) => ({
  clientOrderId,
  venue: "venue-a",
  symbol: "BTC-USD",
  side: "BUY" as const,
  type: "LIMIT" as const,
  quantity: "0.01",
  price: "65000",
  timeInForce: "GTC" as const,
  postOnly: true,
  strategyId: "mm-j",
});
const settle = () => new Promise<void>((r) => setTimeout(r, 5));

describe("OrderJournal", () => {
  it("journals the order before placing it, then records the venue's answer once", async () => {
    const store = new InMemoryStateStore();
    const venue = new FakeVenue();
    let recordedBeforePlace: string | undefined;
    venue.placeAnswer = async (a) => {
      recordedBeforePlace = (await store.getOrder(a.clientOrderId))?.order.status;
      return { order: venueOrder(a, "NEW"), duplicate: false };
    };
    const journal = new OrderJournal(venue, { store });
    await journal.placeOrder(args("j-1"));
    await settle();
    expect(recordedBeforePlace).toBe("pending-new");
    const rec = await store.getOrder("j-1");
    expect(rec?.order.status).toBe("accepted");
    expect(rec?.order.exchangeOrderId).toBe("x-j-1");
    expect(rec?.version).toBe(3); // created, submitted, accepted: no other write
    await journal.cancelOrder({ clientOrderId: "j-1" });
    await settle();
    expect((await store.getOrder("j-1"))?.order.status).toBe("canceled");
    expect(journal.journaled).toBe(1);
  });

  it("a halt during the journal write keeps the order off the venue and records it rejected", async () => {
    const store = new InMemoryStateStore();
    const venue = new FakeVenue();
    const journal = new OrderJournal(venue, { store, mayPlace: () => "trading is HALTED" });
    await expect(journal.placeOrder(args("j-2"))).rejects.toBeInstanceOf(OrderNotPlacedError);
    await settle();
    expect(venue.placed).toEqual([]);
    expect((await store.getOrder("j-2"))?.order.status).toBe("rejected");
  });

  it("moveOrder re-reads after a version conflict, steps pending-new through submitted and never moves a finished order", async () => {
    const store = new InMemoryStateStore();
    const journal = new OrderJournal(new FakeVenue(), { store });
    const o = createOrder(
      { ...args("j-3"), quantity: dec("0.01"), limitPrice: dec("65000"), timeInForce: "GTC", postOnly: true },
      { clientOrderId: "j-3" },
      1,
    );
    const { order: v1 } = await journal.record(o);
    // Another writer moves it behind the journal's back: the journal's cached version is stale now.
    await store.updateOrderStatus("j-3", v1.version, { status: "submitted", at: 2 }, v1.order);
    const moved = await journal.moveOrder("j-3", "accepted", 3, { exchangeOrderId: "x-3" });
    expect(moved?.status).toBe("accepted");
    expect(moved?.exchangeOrderId).toBe("x-3");
    expect(await journal.moveOrder("j-3", "canceled", 4)).toMatchObject({ status: "canceled" });
    // Finished: a late "accepted" or "rejected" is a no-op, not an error.
    expect((await journal.moveOrder("j-3", "rejected", 5))?.status).toBe("canceled");
    expect((await store.getOrder("j-3"))?.version).toBe(4);

    const { order: v2 } = await journal.record({ ...o, orderId: "j-4", clientOrderId: "j-4" });
    expect(v2.order.status).toBe("pending-new");
    expect((await journal.moveOrder("j-4", "accepted", 6))?.status).toBe("accepted");
    expect((await store.getOrder("j-4"))?.version).toBe(3); // pending-new → submitted → accepted
    expect(await journal.moveOrder("missing", "accepted", 7)).toBeUndefined();
  });

  it("an order a fill finishes is no longer held (memory stays bounded by the live orders); a partial fill keeps it", async () => {
    const store = new InMemoryStateStore();
    const venue = new FakeVenue();
    venue.placeAnswer = async (a) => ({ order: venueOrder(a, "NEW"), duplicate: false });
    const journal = new OrderJournal(venue, { store });
    await journal.placeOrder(args("j-5"));
    await journal.placeOrder(args("j-6"));
    await settle();
    expect(journal.tracked).toBe(2);
    const feed = journal.streamExecutions();
    const seen: string[] = [];
    const reading = (async () => {
      for await (const e of feed) seen.push(`${e.clientOrderId}:${e.orderStatus}`);
    })();
    const fill = (clientOrderId: string, sequence: number, orderStatus: "partially-filled" | "filled") =>
      venue.executions.push({
        clientOrderId,
        orderId: `x-${clientOrderId}`,
        strategyId: "mm-j",
        venue: "venue-a",
        symbol: "BTC-USD",
        side: "BUY",
        sequence,
        executionId: `e-${sequence}`,
        price: "65000",
        quantity: "0.005",
        fee: "0",
        feeAsset: "USD",
        liquidity: "MAKER",
        timestampMs: sequence,
        cumulativeQuantity: orderStatus === "filled" ? "0.01" : "0.005",
        remainingQuantity: orderStatus === "filled" ? "0" : "0.005",
        orderStatus,
      });
    fill("j-5", 1, "partially-filled");
    fill("j-6", 2, "filled");
    await settle();
    expect(seen).toEqual(["j-5:partially-filled", "j-6:filled"]); // passed through unchanged
    expect(journal.tracked).toBe(1); // j-6 finished; j-5 still live
    fill("j-5", 3, "filled");
    await settle();
    expect(journal.tracked).toBe(0);
    feed.close();
    venue.executions.close();
    await reading;
  });
});

describe("exchange wire mapping", () => {
  const wire = Execution.fromPartial({
    sequence: 7,
    executionId: "exec-0000000007",
    orderId: "o-1",
    clientOrderId: "c-1",
    venue: "venue-b",
    symbol: "BTC-USD",
    side: Side.SELL,
    price: "65000",
    quantity: "0.01",
    fee: "",
    feeAsset: "",
    liquidity: Liquidity.UNSPECIFIED,
    timestampMs: Date.UTC(2026, 0, 1),
    remainingQuantity: "0",
    orderStatus: WireStatus.FILLED,
  });

  it("maps an execution once: domain side, status, fee defaults; unspecified liquidity counts as TAKER", () => {
    const r = executionReportOf(wire);
    expect(r).toMatchObject({ side: "SELL", orderStatus: "filled", fee: "0", feeAsset: "USD", liquidity: "TAKER" });
    expect(executionReportOf({ ...wire, liquidity: Liquidity.MAKER }).liquidity).toBe("MAKER");
    expect(venueStatusOf(WireStatus.PARTIALLY_FILLED)).toBe("PARTIALLY_FILLED");
    expect(venueStatusOf(99 as WireStatus)).toBe("UNRECOGNIZED");
  });

  it("an execution is the same event whoever publishes it: id exec-<venue>-<executionId>", () => {
    const a = executionEvent(executionReportOf(wire));
    const b = executionEvent(executionReportOf(Execution.fromPartial({ ...wire })));
    expect(a.detail.meta.eventId).toBe("exec-venue-b-exec-0000000007");
    expect(b.detail.meta.eventId).toBe(a.detail.meta.eventId);
    expect(a.detail.data).toMatchObject({
      executionId: "exec-0000000007",
      sequence: 7,
      side: "SELL",
      leavesQuantity: "0",
    });
  });
});
