// The order of a tick's venue calls: the lead place in the tick's own turn and alone, the cancels and the other
// places after it, and a place that would cross an order of ours held until that order's cancel is confirmed.
import { afterEach, describe, expect, it } from "vitest";
import { Quoter } from "../../quoter/Quoter";
import { FakeVenue, quote } from "./support/fakeVenue";

const flush = () => new Promise<void>((r) => setImmediate(r));

let quoters: Quoter[] = [];
afterEach(async () => {
  for (const q of quoters) if (q.status().started) await q.stop(300);
  quoters = [];
});

async function quoting(venue: FakeVenue): Promise<Quoter> {
  const q = new Quoter({
    exchange: venue,
    marketData: venue,
    symbols: ["BTC-USD"],
    venues: ["venue-a"],
    quoterId: "ud",
    timerIntervalMs: 60_000,
    reconcileIntervalMs: 0,
    strategies: [
      { id: "mm-d", type: "market-making", params: { spreadBps: 10, refreshToleranceBps: 2, orderQuantity: "0.01" } },
    ],
  });
  quoters.push(q);
  await q.start();
  q.onQuote(quote(64_990, 65_010)); // bid ≈ 64 967.5, ask ≈ 65 032.5, answered NEW at once
  await flush();
  expect(q.openOrders().map((o) => o.status)).toEqual(["accepted", "accepted"]);
  return q;
}

const priceOf = (q: Quoter, side: "BUY" | "SELL") =>
  Number(
    q
      .openOrders()
      .find((o) => o.side === side && o.status === "accepted")!
      .limitPrice!.toFixed(),
  );

describe("Dispatcher call order", () => {
  it("a replacement that cannot cross our orders leads, alone in the tick's turn; the rest follows", async () => {
    const venue = new FakeVenue();
    const q = await quoting(venue);
    const before = venue.calls.length;
    q.onQuote(quote(65_040, 65_060)); // a 50 USD move: both quotes replaced, neither crosses the other side
    const sameTurn = venue.calls.slice(before);
    expect(sameTurn).toHaveLength(1);
    expect(sameTurn[0]!.startsWith("place:")).toBe(true);
    await flush();
    const rest = venue.calls.slice(before + 1);
    expect(rest.filter((c) => c.startsWith("cancel:"))).toHaveLength(2);
    expect(rest.filter((c) => c.startsWith("place:"))).toHaveLength(1);
    expect(rest[0]!.startsWith("place:")).toBe(true); // the other safe place, then the cancels
    expect(q.counters.placesHeld).toBe(0);
  });

  it("a place that would cross our resting order waits for that cancel's confirmation, not for time", async () => {
    const venue = new FakeVenue();
    const q = await quoting(venue);
    const oldAsk = q.openOrders().find((o) => o.side === "SELL")!;
    const oldAskPx = priceOf(q, "SELL");
    venue.holdCancels = true;
    const before = venue.calls.length;
    q.onQuote(quote(65_140, 65_160)); // the new bid (≈ 65 117) is above our old ask (≈ 65 032)
    await flush();
    await new Promise((r) => setTimeout(r, 50));
    const sent = venue.calls.slice(before);
    const newBid = q.openOrders().find((o) => o.side === "BUY" && o.status === "pending-new")!;
    expect(Number(newBid.limitPrice!.toFixed())).toBeGreaterThanOrEqual(oldAskPx);
    expect(sent).not.toContain(`place:${newBid.clientOrderId}`);
    expect(sent).toContain(`cancel:${oldAsk.clientOrderId}`);
    expect(q.counters.placesHeld).toBe(1);
    // The other cancel (our old bid) answering does not release it: the old ask still rests.
    const oldBidCancel = sent.find((c) => c.startsWith("cancel:") && c !== `cancel:${oldAsk.clientOrderId}`)!;
    venue.answerCancel(oldBidCancel.slice("cancel:".length));
    await flush();
    expect(venue.calls).not.toContain(`place:${newBid.clientOrderId}`);
    venue.answerCancel(oldAsk.clientOrderId);
    await flush();
    await flush();
    expect(venue.calls).toContain(`place:${newBid.clientOrderId}`);
    expect(venue.calls.indexOf(`place:${newBid.clientOrderId}`)).toBeGreaterThan(
      venue.calls.indexOf(`cancel:${oldAsk.clientOrderId}`),
    );
    expect(q.counters.ordersRejectedSelfCross).toBe(0);
  });

  it("a held place canceled by its strategy before it goes out is never sent", async () => {
    const venue = new FakeVenue();
    const q = await quoting(venue);
    venue.holdCancels = true;
    q.onQuote(quote(65_140, 65_160));
    await flush();
    const held = q.openOrders().find((o) => o.side === "BUY" && o.status === "pending-new")!;
    q.cancelAll();
    expect(q.openOrders().some((o) => o.clientOrderId === held.clientOrderId)).toBe(false);
    for (const k of [...venue.heldCancels.keys()]) venue.answerCancel(k);
    await flush();
    await flush();
    expect(venue.calls).not.toContain(`place:${held.clientOrderId}`);
  });
});
