import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { dec } from "../../lib/domain/decimal";
import {
  applyFill,
  canTransition,
  clientOrderIdFor,
  createOrder,
  expireRemainder,
  FillError,
  IllegalTransitionError,
  isTerminal,
  ORDER_STATUSES,
  ORDER_TRANSITIONS,
  type Order,
  type OrderStatus,
  transition,
} from "../../lib/domain/orders";
import type { OrderIntent } from "../../lib/domain/types";

const intent = (o: Partial<OrderIntent> = {}): OrderIntent => ({
  strategyId: "mm-1",
  venue: "venue-a",
  symbol: "BTC-USD",
  side: "BUY",
  type: "LIMIT",
  timeInForce: "GTC",
  postOnly: false,
  quantity: dec("1"),
  limitPrice: dec("50000"),
  ...o,
});
const T0 = 1_700_000_000_000;
const newOrder = (o: Partial<OrderIntent> = {}) => createOrder(intent(o), { clientOrderId: "c1", signalId: "s1" }, T0);
const accepted = (o: Partial<OrderIntent> = {}) =>
  transition(transition(newOrder(o), "submitted", T0 + 1), "accepted", T0 + 2, { exchangeOrderId: "x-1" });

describe("createOrder", () => {
  it("starts pending-new with every field", () => {
    const o = newOrder({ tag: "mm:bid:0" });
    expect(o).toMatchObject({
      orderId: "c1",
      clientOrderId: "c1",
      strategyId: "mm-1",
      signalId: "s1",
      symbol: "BTC-USD",
      venue: "venue-a",
      side: "BUY",
      type: "LIMIT",
      timeInForce: "GTC",
      postOnly: false,
      status: "pending-new",
      createdAt: T0,
      updatedAt: T0,
      tag: "mm:bid:0",
    });
    expect(o.remainingQuantity.toFixed()).toBe("1");
    expect(o.filledQuantity.toFixed()).toBe("0");
    expect(o.commission.toFixed()).toBe("0");
    expect(o.realizedPnl.toFixed()).toBe("0");
    expect(o.averageFillPrice).toBeUndefined();
  });
  it("rejects bad input naming field and value", () => {
    expect(() => newOrder({ quantity: dec(0) })).toThrow(/quantity=0/);
    expect(() => newOrder({ limitPrice: undefined })).toThrow(/limitPrice/);
    expect(() => newOrder({ type: "MARKET", postOnly: true, limitPrice: undefined })).toThrow(/postOnly=true/);
  });
});

describe("state machine", () => {
  it("walks the happy path pending-new → submitted → accepted → partially-filled → filled", () => {
    let o = accepted();
    expect(o.exchangeOrderId).toBe("x-1");
    o = applyFill(o, { quantity: "0.4", price: "50000", fee: "10" }, T0 + 3);
    expect(o.status).toBe("partially-filled");
    o = applyFill(o, { quantity: "0.6", price: "50010", fee: "15" }, T0 + 4);
    expect(o.status).toBe("filled");
    expect(o.filledQuantity.toFixed()).toBe("1");
    expect(o.remainingQuantity.toFixed()).toBe("0");
    expect(o.averageFillPrice?.toFixed()).toBe("50006");
    expect(o.commission.toFixed()).toBe("25");
    expect(o.updatedAt).toBe(T0 + 4);
  });

  it("every pair not in the table throws IllegalTransitionError naming both states", () => {
    let illegal = 0;
    for (const from of ORDER_STATUSES) {
      for (const to of ORDER_STATUSES) {
        if (ORDER_TRANSITIONS[from].includes(to)) continue;
        illegal++;
        const o: Order = { ...newOrder(), status: from };
        expect(canTransition(from, to)).toBe(false);
        try {
          transition(o, to, T0);
          expect.unreachable(`${from} -> ${to} should be illegal`);
        } catch (e) {
          expect(e).toBeInstanceOf(IllegalTransitionError);
          expect((e as IllegalTransitionError).from).toBe(from);
          expect((e as IllegalTransitionError).to).toBe(to);
          expect((e as Error).message).toContain(`${from} -> ${to}`);
        }
      }
    }
    expect(illegal).toBeGreaterThan(60);
  });

  it("terminal states accept nothing", () => {
    const terminal: OrderStatus[] = ["filled", "canceled", "rejected", "expired", "denied"];
    for (const s of terminal) {
      expect(isTerminal(s)).toBe(true);
      expect(ORDER_TRANSITIONS[s]).toEqual([]);
    }
  });

  it("risk denial, rejection, cancel flow and a rejected cancel", () => {
    expect(transition(newOrder(), "denied", T0, { errorMessage: "max-position-long" }).errorMessage).toBe(
      "max-position-long",
    );
    expect(transition(transition(newOrder(), "submitted", T0), "rejected", T0, { errorMessage: "no" }).status).toBe(
      "rejected",
    );
    const pc = transition(accepted(), "pending-cancel", T0 + 5);
    expect(transition(pc, "canceled", T0 + 6).status).toBe("canceled");
    expect(transition(pc, "accepted", T0 + 6).status).toBe("accepted");
  });

  it("filled requires nothing remaining", () => {
    expect(() => transition(accepted(), "filled", T0)).toThrow(FillError);
  });
});

describe("applyFill", () => {
  it("overfill is an error naming the value", () => {
    const o = applyFill(accepted(), { quantity: "0.7", price: "50000" }, T0);
    expect(() => applyFill(o, { quantity: "0.4", price: "50000" }, T0)).toThrow(FillError);
    expect(() => applyFill(o, { quantity: "0.4", price: "50000" }, T0)).toThrow(/fill.quantity=0.4.*overfill/);
  });
  it("rejects non-positive qty/price and fills on non-open orders", () => {
    expect(() => applyFill(accepted(), { quantity: "0", price: "1" }, T0)).toThrow(/fill.quantity=0/);
    expect(() => applyFill(accepted(), { quantity: "1", price: "-1" }, T0)).toThrow(/fill.price=-1/);
    expect(() => applyFill(newOrder(), { quantity: "1", price: "1" }, T0)).toThrow(/pending-new/);
    const done = applyFill(accepted(), { quantity: "1", price: "1" }, T0);
    expect(() => applyFill(done, { quantity: "0.1", price: "1" }, T0)).toThrow(/status="filled"/);
  });
  it("a cancel requested before the place's answer: the venue may still reject the order itself", () => {
    const sent = transition(createOrder(intent(), { clientOrderId: "c-pc" }, T0), "submitted", T0);
    const pc = transition(sent, "pending-cancel", T0 + 1);
    expect(transition(pc, "rejected", T0 + 2, { errorMessage: "post-only would cross" }).status).toBe("rejected");
    expect(canTransition("pending-cancel", "denied")).toBe(false);
  });
  it("a fill can arrive before the ack, and during pending-cancel", () => {
    const sub = transition(newOrder(), "submitted", T0);
    expect(applyFill(sub, { quantity: "1", price: "50000" }, T0).status).toBe("filled");
    const pc = transition(accepted(), "pending-cancel", T0);
    const part = applyFill(pc, { quantity: "0.5", price: "50000" }, T0);
    expect(part.status).toBe("pending-cancel");
    expect(transition(part, "canceled", T0).filledQuantity.toFixed()).toBe("0.5");
    expect(applyFill(pc, { quantity: "1", price: "50000" }, T0).status).toBe("filled");
  });
  it("accumulates realized PnL passed from the portfolio", () => {
    const o = applyFill(accepted(), { quantity: "0.5", price: "50000", realizedPnl: "12.5" }, T0);
    expect(applyFill(o, { quantity: "0.5", price: "50000", realizedPnl: "-2.5" }, T0).realizedPnl.toFixed()).toBe("10");
  });
  it("IOC: partial fill then the remainder expires", () => {
    let o = accepted({ timeInForce: "IOC" });
    o = applyFill(o, { quantity: "0.3", price: "50000" }, T0);
    o = expireRemainder(o, T0 + 1);
    expect(o.status).toBe("expired");
    expect(o.filledQuantity.toFixed()).toBe("0.3");
    expect(o.remainingQuantity.toFixed()).toBe("0.7");
    expect(o.errorMessage).toMatch(/IOC remainder 0.7 expired/);
    // Nothing filled: expires too; fully filled: unchanged.
    expect(expireRemainder(accepted({ timeInForce: "IOC" }), T0).status).toBe("expired");
    const full = applyFill(accepted({ timeInForce: "IOC" }), { quantity: "1", price: "1" }, T0);
    expect(expireRemainder(full, T0)).toBe(full);
    expect(() => expireRemainder(accepted(), T0)).toThrow(/timeInForce="GTC"/);
  });
  it("FOK: all or nothing", () => {
    const o = accepted({ timeInForce: "FOK" });
    expect(() => applyFill(o, { quantity: "0.5", price: "50000" }, T0)).toThrow(/FOK/);
    expect(applyFill(o, { quantity: "1", price: "50000" }, T0).status).toBe("filled");
    expect(expireRemainder(o, T0).status).toBe("expired");
  });
});

describe("clientOrderIdFor", () => {
  it("is deterministic per signal and leg, and distinct across them", () => {
    const a = clientOrderIdFor("sig-1", 0);
    expect(clientOrderIdFor("sig-1", 0)).toBe(a);
    expect(clientOrderIdFor("sig-1", 1)).not.toBe(a);
    expect(clientOrderIdFor("sig-2", 0)).not.toBe(a);
    expect(a).toMatch(/^tse-[0-9a-f]{28}$/);
  });
  it("validates its input", () => {
    expect(() => clientOrderIdFor("", 0)).toThrow(/signalId=""/);
    expect(() => clientOrderIdFor("s", -1)).toThrow(/legIndex=-1/);
  });
});

describe("applyFill properties", () => {
  it("filled + remaining = quantity; average within fill prices; overfill never slips through", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.array(fc.tuple(fc.integer({ min: 1, max: 4_000 }), fc.integer({ min: 1, max: 1_000_000 })), {
          maxLength: 20,
        }),
        (lots, fills) => {
          let o = accepted({ quantity: dec(lots).div(10_000) });
          let lo = Number.POSITIVE_INFINITY;
          let hi = 0;
          for (const [q, p] of fills) {
            const qty = dec(q).div(10_000);
            if (qty.gt(o.remainingQuantity) || o.status === "filled") {
              expect(() => applyFill(o, { quantity: qty, price: dec(p).div(100) }, T0)).toThrow(FillError);
              continue;
            }
            o = applyFill(o, { quantity: qty, price: dec(p).div(100) }, T0);
            lo = Math.min(lo, p / 100);
            hi = Math.max(hi, p / 100);
            expect(o.filledQuantity.plus(o.remainingQuantity).eq(o.quantity)).toBe(true);
            expect(o.averageFillPrice!.gte(lo) && o.averageFillPrice!.lte(hi)).toBe(true);
            expect(o.status).toBe(o.remainingQuantity.isZero() ? "filled" : "partially-filled");
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("late fills (execution delivered after the cancel/expiry was recorded)", () => {
  it("books a late fill on an expired IOC remainder and keeps the order expired", () => {
    const ioc = transition(newOrder({ timeInForce: "IOC", quantity: dec("1") }), "submitted", T0);
    const expired = expireRemainder(ioc, T0 + 1);
    const late = applyFill(expired, { quantity: "0.4", price: "50000", fee: "10" }, T0 + 2);
    expect(late.status).toBe("expired");
    expect(late.filledQuantity.toFixed()).toBe("0.4");
    expect(late.remainingQuantity.toFixed()).toBe("0.6");
    expect(late.commission.toFixed()).toBe("10");
  });

  it("a late fill that completes a canceled order marks it filled", () => {
    const canceled = transition(transition(newOrder({ quantity: dec("1") }), "submitted", T0), "canceled", T0 + 1);
    const late = applyFill(canceled, { quantity: "1", price: "50000" }, T0 + 2);
    expect(late.status).toBe("filled");
    expect(late.averageFillPrice?.toFixed()).toBe("50000");
  });

  it("still refuses overfills and fills on rejected or denied orders", () => {
    const canceled = transition(transition(newOrder({ quantity: dec("1") }), "submitted", T0), "canceled", T0 + 1);
    expect(() => applyFill(canceled, { quantity: "1.5", price: "50000" }, T0)).toThrow(FillError);
    const rejected = transition(transition(newOrder(), "submitted", T0), "rejected", T0);
    expect(() => applyFill(rejected, { quantity: "0.1", price: "50000" }, T0)).toThrow(FillError);
    const denied = transition(newOrder(), "denied", T0);
    expect(() => applyFill(denied, { quantity: "0.1", price: "50000" }, T0)).toThrow(FillError);
  });
});
