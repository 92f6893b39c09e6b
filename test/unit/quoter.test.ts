// The quoter's logic against an in-process venue (no simulator): decisions, the order life on the domain state
// machine, cancels that wait for their place's answer, executions applied exactly once, refusals, the kill switch.
// The same quoter against the real simulators: test/grpc/quoter-*.test.ts.
import { afterEach, describe, expect, it } from "vitest";
import { PeerUnavailableError, RejectedError } from "../../lib/grpc/errors";
import { Quoter, type QuoterOptions } from "../../quoter/Quoter";
import { FakeVenue, quote } from "./support/fakeVenue";

const flush = () => new Promise<void>((r) => setImmediate(r));

let quoters: Quoter[] = [];
afterEach(async () => {
  for (const q of quoters) if (q.status().started) await q.stop(300);
  quoters = [];
});

function make(venue: FakeVenue, opts: Partial<QuoterOptions> = {}): Quoter {
  const q = new Quoter({
    exchange: venue,
    marketData: venue,
    symbols: ["BTC-USD"],
    venues: ["venue-a"],
    quoterId: "uq",
    timerIntervalMs: 60_000,
    reconcileIntervalMs: 0,
    strategies: [
      { id: "mm-u", type: "market-making", params: { spreadBps: 10, refreshToleranceBps: 2, orderQuantity: "0.01" } },
    ],
    ...opts,
  });
  quoters.push(q);
  return q;
}

describe("Quoter on an in-process venue", () => {
  it("a tick becomes a post-only bid and ask, each tracked on the order state machine until answered", async () => {
    const venue = new FakeVenue();
    venue.holdPlaces = true;
    const q = make(venue);
    await q.start();
    q.onQuote(quote(64_990, 65_010));
    expect(venue.placed.map((p) => p.side).sort()).toEqual(["BUY", "SELL"]);
    for (const p of venue.placed) {
      expect(p.postOnly).toBe(true);
      expect(p.clientOrderId.startsWith(q.sessionPrefix)).toBe(true);
      expect(p.riskChecked).toBe(true);
    }
    expect(q.openOrders().map((o) => o.status)).toEqual(["submitted", "submitted"]);
    expect(q.status().decisionLatencyUs.count).toBe(1);
    for (const p of venue.placed) venue.answerPlace(p.clientOrderId, "NEW");
    await flush();
    expect(q.openOrders().map((o) => o.status)).toEqual(["accepted", "accepted"]);
    expect(q.openOrders().every((o) => o.exchangeOrderId === `x-${o.clientOrderId}`)).toBe(true);
    expect(q.counters.ordersAcked).toBe(2);
  });

  it("a cancel wanted before the place is answered goes out only after the answer", async () => {
    const venue = new FakeVenue();
    venue.holdPlaces = true;
    const q = make(venue);
    await q.start();
    q.onQuote(quote(64_990, 65_010));
    const [bid] = venue.placed.filter((p) => p.side === "BUY");
    expect(q.cancelAll()).toBe(2);
    await flush();
    expect(venue.calls.filter((c) => c.startsWith("cancel:"))).toEqual([]);
    expect(q.openOrders().every((o) => o.status === "pending-cancel")).toBe(true);
    venue.answerPlace(bid!.clientOrderId, "NEW");
    await flush();
    expect(venue.calls.at(-1)).toBe(`cancel:${bid!.clientOrderId}`);
    await flush();
    expect(q.openOrders().map((o) => o.side)).toEqual(["SELL"]);
    expect(q.counters.cancelsConfirmed).toBe(1);
  });

  it("applies each execution exactly once (by sequence and id) and closes the filled order", async () => {
    const venue = new FakeVenue();
    const q = make(venue);
    await q.start();
    q.onQuote(quote(64_990, 65_010));
    await flush();
    const bid = venue.placed.find((p) => p.side === "BUY")!;
    const half = venue.fill(bid, "0.004", "0.006");
    expect(q.applyExecution(half)).toBeUndefined();
    expect(q.applyExecution(half)).toBeUndefined(); // the same execution again
    const o = q.openOrders().find((x) => x.clientOrderId === bid.clientOrderId)!;
    expect(o.status).toBe("partially-filled");
    expect(o.remainingQuantity.toFixed()).toBe("0.006");
    q.applyExecution(venue.fill(bid, "0.006", "0"));
    expect(q.portfolio.position("mm-u", "BTC-USD")!.quantity.toFixed()).toBe("0.01");
    expect(q.counters).toMatchObject({ fills: 2, duplicateExecutions: 1 });
    expect([...q.appliedExecutionIds]).toEqual([half.executionId, "e-2"]);
    expect(q.openOrders().some((x) => x.clientOrderId === bid.clientOrderId)).toBe(false);
    // An execution of somebody else's order is not ours to book.
    q.applyExecution({ ...venue.fill({ ...bid, clientOrderId: "other-1" }), strategyId: "mm-u" });
    expect(q.counters.executionsIgnored).toBe(1);
    expect(q.portfolio.position("mm-u", "BTC-USD")!.quantity.toFixed()).toBe("0.01");
  });

  it("a refused place closes the order as rejected; an unknown outcome is canceled by client order id", async () => {
    const venue = new FakeVenue();
    venue.holdPlaces = true;
    const q = make(venue);
    await q.start();
    q.onQuote(quote(64_990, 65_010));
    const [a, b] = venue.placed;
    venue.answerPlace(
      a!.clientOrderId,
      new RejectedError("post-only would cross", "exchange", "PlaceOrder", undefined, ""),
    );
    venue.answerPlace(b!.clientOrderId, new PeerUnavailableError("peer down", "exchange", "PlaceOrder", undefined, ""));
    await flush();
    await flush();
    expect(q.counters.placeErrors).toBe(2);
    expect(venue.calls).toContain(`cancel:${b!.clientOrderId}`);
    expect(venue.calls).not.toContain(`cancel:${a!.clientOrderId}`);
    expect(q.openOrders()).toEqual([]); // NOT_FOUND-like answer (not resting) closes the unknown one too
  });

  it("risk denials and the open-order cap refuse intents before the venue sees them", async () => {
    const venue = new FakeVenue();
    const q = make(venue, { riskLimits: { maxOrderNotional: 100 } });
    await q.start();
    q.onQuote(quote(64_990, 65_010));
    expect(venue.placed).toEqual([]);
    expect(q.counters.riskDenials).toBe(2);
    expect([...q.denialsByRule.values()].reduce((a, b) => a + b, 0)).toBe(2);

    const capped = make(new FakeVenue(), { maxOpenOrders: 1 });
    await capped.start();
    capped.onQuote(quote(64_990, 65_010));
    expect(capped.openOrders()).toHaveLength(1);
    expect(capped.counters.openOrderCapDenials).toBe(1);
    expect(capped.denialsByRule.get("max-open-orders")).toBe(1);
  });

  it("HALTED cancels every open order and stops new ones", async () => {
    const venue = new FakeVenue();
    const q = make(venue);
    await q.start();
    q.onQuote(quote(64_990, 65_010));
    await flush();
    expect(q.openOrders()).toHaveLength(2);
    q.setTradingState("HALTED", "test kill switch");
    await flush();
    expect(venue.calls.filter((c) => c.startsWith("cancel:"))).toHaveLength(2);
    expect(q.openOrders()).toEqual([]);
    const placed = venue.placed.length;
    q.onQuote(quote(64_900, 64_920));
    expect(venue.placed.length).toBe(placed);
  });

  it("an intent throttle in front of the risk engine denies with rule throttle", async () => {
    const venue = new FakeVenue();
    let budget = 1;
    const q = make(venue, { throttle: { admit: () => budget-- > 0 } });
    await q.start();
    q.onQuote(quote(64_990, 65_010));
    expect(venue.placed).toHaveLength(1);
    expect(q.denialsByRule.get("throttle")).toBe(1);
  });
});
