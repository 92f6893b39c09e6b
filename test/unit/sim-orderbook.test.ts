// Property tests of the exchange simulator's order book: conservation, no crossed book, price-time priority.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type BookSide, OrderBook } from "../../sim/exchange/OrderBook";

type Op =
  | { kind: "limit"; side: BookSide; price: number; lots: number }
  | { kind: "market"; side: BookSide; lots: number }
  | { kind: "cancel"; index: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant("limit" as const),
    side: fc.constantFrom<BookSide>("BUY", "SELL"),
    price: fc.integer({ min: 90, max: 110 }),
    lots: fc.integer({ min: 1, max: 20 }),
  }),
  fc.record({
    kind: fc.constant("market" as const),
    side: fc.constantFrom<BookSide>("BUY", "SELL"),
    lots: fc.integer({ min: 1, max: 30 }),
  }),
  fc.record({ kind: fc.constant("cancel" as const), index: fc.nat(200) }),
);

describe("OrderBook", () => {
  it("conserves quantity, never rests crossed, and fills best price then oldest first", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 200 }), (ops) => {
        const book = new OrderBook("v", "S");
        let added = 0;
        let filledTwice = 0; // each fill counted on the resting side
        let canceled = 0;
        const ids: string[] = [];
        const arrival = new Map<string, number>();
        let n = 0;
        for (const op of ops) {
          if (op.kind === "cancel") {
            const id = ids[op.index % Math.max(1, ids.length)];
            const removed = id ? book.remove(id) : undefined;
            if (removed) canceled += removed.lots;
            continue;
          }
          const limit = op.kind === "limit" ? op.price : undefined;
          const fills = book.match(op.side, limit, op.lots);
          // Best price first, then time priority within a price.
          for (let i = 1; i < fills.length; i++) {
            const a = fills[i - 1]!;
            const b = fills[i]!;
            if (op.side === "BUY") expect(b.priceTicks).toBeGreaterThanOrEqual(a.priceTicks);
            else expect(b.priceTicks).toBeLessThanOrEqual(a.priceTicks);
            if (a.priceTicks === b.priceTicks) {
              expect(arrival.get(b.maker.orderId)!).toBeGreaterThan(arrival.get(a.maker.orderId)!);
            }
          }
          for (const f of fills) {
            if (limit !== undefined) {
              if (op.side === "BUY") expect(f.priceTicks).toBeLessThanOrEqual(limit);
              else expect(f.priceTicks).toBeGreaterThanOrEqual(limit);
            }
          }
          const took = fills.reduce((s, f) => s + f.lots, 0);
          expect(took).toBeLessThanOrEqual(op.lots);
          filledTwice += took;
          if (op.kind === "limit" && took < op.lots) {
            const id = `o${++n}`;
            book.add(id, op.side, op.price, op.lots - took);
            arrival.set(id, n);
            ids.push(id);
            added += op.lots - took;
          }
          const bid = book.bestBid();
          const ask = book.bestAsk();
          if (bid !== undefined && ask !== undefined) expect(bid).toBeLessThan(ask);
        }
        const resting = [...book.depth("BUY", 1e9), ...book.depth("SELL", 1e9)].reduce((s, l) => s + l.lots, 0);
        expect(added).toBe(resting + filledTwice + canceled);
      }),
      { numRuns: 300 },
    );
  });

  it("executable() agrees with what match() then takes", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 95, max: 105 }), fc.integer({ min: 1, max: 10 })), { maxLength: 30 }),
        fc.integer({ min: 95, max: 105 }),
        fc.integer({ min: 1, max: 60 }),
        (asks, limit, lots) => {
          const book = new OrderBook("v", "S");
          for (const [i, [p, q]] of asks.entries()) book.add(`a${i}`, "SELL", p, q);
          const ex = book.executable("BUY", limit, lots);
          const fills = book.match("BUY", limit, lots);
          expect(ex.lots).toBe(fills.reduce((s, f) => s + f.lots, 0));
          expect(ex.tickLots).toBe(fills.reduce((s, f) => s + f.lots * f.priceTicks, 0));
        },
      ),
    );
  });
});
