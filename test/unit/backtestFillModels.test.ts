// Fill models on a constructed tape where our queue position is known exactly, and latency.
import { describe, expect, it } from "vitest";
import { BacktestEngine, type BacktestOptions } from "../../lib/backtest/engine/BacktestEngine";
import type { FillModelInput } from "../../lib/backtest/engine/fills/fillModel";
import { probabilisticQueue, queueProbability, riskAverseQueue } from "../../lib/backtest/engine/fills/queue";
import { type TradePrint, tradePrint } from "../../lib/backtest/engine/marketEvents";
import { Decimal } from "../../lib/domain/decimal";
import { instrumentFromConfig } from "../../lib/domain/instruments";
import type { Strategy } from "../../lib/domain/strategies/Strategy";
import type { L1Quote, OrderIntent } from "../../lib/domain/types";

const D = (x: string | number) => new Decimal(x);
// Whole lots make "3 lots ahead" literal.
const INSTRUMENTS = [instrumentFromConfig({ symbol: "BTC-USD", tickSize: "0.01", lotSize: "1", minNotional: "0" })];

const q = (ts: number, bid: string, bidSize: string, ask: string, askSize = "5"): L1Quote => ({
  ts,
  venue: "venue-a",
  symbol: "BTC-USD",
  bid: D(bid),
  ask: D(ask),
  bidSize: D(bidSize),
  askSize: D(askSize),
});
const sellPrint = (ts: number, px: string, qty: string): TradePrint =>
  tradePrint({ ts, venue: "venue-a", symbol: "BTC-USD", price: D(px), qty: D(qty), side: "SELL" });

/** Sends `intent` on its first market callback; logs fills as "ts qty@px" and order events. */
function oneShot(intent: Omit<OrderIntent, "strategyId">) {
  const log: string[] = [];
  const seen: number[] = [];
  let sent = false;
  const s: Strategy = {
    id: "s1",
    name: "one-shot",
    onMarket: (_q, ctx) => {
      seen.push(ctx.now);
      if (sent) return [];
      sent = true;
      return [{ ...intent, strategyId: "s1" }];
    },
    onFill: (f, ctx) => {
      log.push(`${ctx.now} fill ${f.quantity.toFixed()}@${f.price.toFixed()} ${f.liquidity}`);
      return [];
    },
    onTimer: () => [],
    onOrderEvent: (e, ctx) => {
      log.push(`${ctx.now} ${e.kind}`);
      return [];
    },
  };
  return { s, log, seen };
}

const bid = (qty: string, px: string, extra: Partial<OrderIntent> = {}): Omit<OrderIntent, "strategyId"> => ({
  venue: "venue-a",
  symbol: "BTC-USD",
  side: "BUY",
  type: "LIMIT",
  timeInForce: "GTC",
  postOnly: true,
  quantity: D(qty),
  limitPrice: D(px),
  ...extra,
});

function run(events: (L1Quote | TradePrint)[], s: Strategy, opts: Partial<BacktestOptions> = {}) {
  const e = new BacktestEngine({ strategies: [s], instruments: INSTRUMENTS, ...opts });
  for (const ev of events) {
    if ((ev as TradePrint).kind === "trade") e.onTrade(ev as TradePrint);
    else e.onQuote(ev as L1Quote);
  }
  return { e, r: e.finish() };
}

// 3 lots ahead of our bid at 100, then sell trades of 2 and 2 at 100 (the book shows the first one), then
// a print of 1, then the ask drops through our price.
const TAPE = [
  q(0, "100", "3", "101"),
  sellPrint(1000, "100", "2"),
  q(2000, "100", "1", "101"),
  sellPrint(3000, "100", "2"),
  sellPrint(4000, "100", "1"),
  q(5000, "99", "4", "99.5"),
];

describe("fill models on a tape with a known queue", () => {
  const cases: [FillModelInput, string[]][] = [
    // Fills only when the ask crosses 100: all 2 at t=5000 (displayed 5).
    [{ kind: "quote-through" }, ["5000 fill 2@100 MAKER"]],
    // 3 ahead; 2 trade → 1 ahead; the book confirms 1; 2 trade → 1 past us fills 1; then 1 more fills the rest.
    [{ kind: "queue-risk-averse" }, ["3000 fill 1@100 MAKER", "4000 fill 1@100 MAKER"]],
    // The size decrease 3 → 1 is exactly the traded 2, so no cancel is inferred: same as risk-averse.
    [{ kind: "queue-probabilistic", function: "power", n: 2 }, ["3000 fill 1@100 MAKER", "4000 fill 1@100 MAKER"]],
    [{ kind: "queue-probabilistic", function: "log" }, ["3000 fill 1@100 MAKER", "4000 fill 1@100 MAKER"]],
  ];
  for (const [model, want] of cases) {
    it(`${model.kind}${"function" in model ? `/${model.function}` : ""} fills exactly ${want.join(", ")}`, () => {
      const { s, log } = oneShot(bid("2", "100"));
      const { r } = run(TAPE, s, { fillModel: model });
      expect(log).toEqual(want);
      expect(r.trades.map((t) => t.qty.toFixed())).toEqual(want.map((w) => w.split(" ")[2]!.split("@")[0]));
      expect(r.fillModel.kind).toBe(model.kind);
      expect(r.tradePrints).toBe(3);
    });
  }

  it("a trade print through our price fills us up to the print's size, whatever the queue", () => {
    const { s, log } = oneShot(bid("2", "100"));
    run([q(0, "100", "50", "101"), sellPrint(1000, "99.99", "1.5")], s);
    // Whole lots: 1.5 rounds down to 1.
    expect(log).toEqual(["1000 fill 1@100 MAKER"]);
  });

  it("the probabilistic model advances on a cancel that the risk-averse model attributes to behind us", () => {
    // 3 ahead, 2 join behind (5), 2 cancel (3), then a print of 3 at our price.
    const tape = [
      q(0, "100", "3", "101"),
      q(1000, "100", "5", "101"),
      q(2000, "100", "3", "101"),
      sellPrint(3000, "100", "3"),
    ];
    const ra = oneShot(bid("1", "100"));
    run(tape, ra.s, { fillModel: { kind: "queue-risk-averse" } });
    expect(ra.log).toEqual([]); // 3 ahead − 3 traded = 0: not past us yet
    const pr = oneShot(bid("1", "100"));
    run(tape, pr.s, { fillModel: { kind: "queue-probabilistic", function: "power", n: 2 } });
    expect(pr.log).toEqual(["3000 fill 1@100 MAKER"]);
  });

  it("the queue arithmetic equals hand computations of hftbacktest's formulas", () => {
    // front 3, back 2, a decrease of 2 with no trades: est = front − (1−p)·chg + min(back − p·chg, 0).
    const p2 = 4 / (4 + 9); // power n=2: back²/(back²+front²)
    const pos = { ahead: 3, traded: 0 };
    probabilisticQueue(queueProbability("power", 2)).depth(pos, 5, 3);
    expect(pos.ahead).toBeCloseTo(3 - (1 - p2) * 2, 12);
    const pl = Math.log(3) / (Math.log(3) + Math.log(4)); // log: ln(1+back)/(ln(1+back)+ln(1+front))
    const pos2 = { ahead: 3, traded: 0 };
    probabilisticQueue(queueProbability("log", 1)).depth(pos2, 5, 3);
    expect(pos2.ahead).toBeCloseTo(3 - (1 - pl) * 2, 12);
    expect(queueProbability("power2", 2)(3, 2)).toBeCloseTo(4 / 25, 12);
    expect(queueProbability("power3", 2)(3, 2)).toBeCloseTo(1 - 9 / 25, 12);
    expect(queueProbability("log2", 1)(3, 2)).toBeCloseTo(Math.log(3) / Math.log(6), 12);
    const ra = { ahead: 3, traded: 0 };
    riskAverseQueue.depth(ra, 5, 3);
    expect(ra.ahead).toBe(3);
    riskAverseQueue.depth(ra, 3, 1);
    expect(ra.ahead).toBe(1);
  });

  it("an order that improves the touch is first in the queue; a bad fill model config names the field", () => {
    const { s, log } = oneShot(bid("1", "100.5"));
    run([q(0, "100", "3", "101"), sellPrint(1000, "100.5", "1")], s);
    expect(log).toEqual(["1000 fill 1@100.5 MAKER"]);
    expect(
      () =>
        new BacktestEngine({
          strategies: [oneShot(bid("1", "1")).s],
          fillModel: { kind: "queue-probabilistic", function: "cubic" } as unknown as FillModelInput,
        }),
    ).toThrow(/fillModel\.function/);
  });
});

describe("latency", () => {
  // The ask at 100 is shown at t=0 and replaced at t=40; our IOC buy at 100 is sent at once.
  const tape = (replacedAt: number) => [
    q(0, "99", "5", "100"),
    q(replacedAt, "100.5", "5", "101"),
    q(1000, "100.5", "5", "101"),
  ];
  const ioc = bid("1", "100", { postOnly: false, timeInForce: "IOC" });

  it("with 50 ms of order latency a quote that disappears within 50 ms cannot be hit", () => {
    const { s, log } = oneShot(ioc);
    const { r } = run(tape(40), s, { latency: { order: 50 } });
    expect(r.trades).toHaveLength(0);
    expect(log).toEqual(["50 EXPIRED"]); // reached the venue at 50, after the offer was gone
    expect(r.latency).toMatchObject({ feed: 0, order: 50, ack: 0 });
  });

  it("without latency, or when the quote outlives the latency, it is hit", () => {
    const a = oneShot(ioc);
    expect(run(tape(40), a.s).r.trades).toHaveLength(1);
    const b = oneShot(ioc);
    const { r } = run(tape(60), b.s, { latency: { order: 50, ack: 5 } });
    expect(r.trades.map((t) => [t.ts, t.price.toFixed()])).toEqual([[50, "100"]]);
    expect(b.log).toEqual(["55 fill 1@100 TAKER"]); // the fill is known 5 ms after it happened
  });

  it("feed latency: the strategy sees a quote late and acts on what it saw", () => {
    const { s, seen, log } = oneShot(ioc);
    const { r } = run(tape(40), s, { latency: { feed: 30, order: 15 } });
    expect(seen).toEqual([30, 70]); // the quotes of t=0 and t=40; the one of t=1000 is shown after the end
    expect(r.trades).toHaveLength(0); // sent at 30, arrived at 45: the offer went at 40
    expect(log).toEqual(["45 EXPIRED"]);
  });

  it("an order joins the queue as it is when the order arrives, not when it was sent", () => {
    // Sent at t=0 behind 1 lot; by its arrival at t=50 the level shows 4, so 4 are ahead.
    const tape = [
      q(0, "100", "1", "101"),
      q(40, "100", "4", "101"),
      sellPrint(100, "100", "3"), // 4 − 3 = 1 still ahead: no fill (it would have filled 1 had it joined at t=0)
      sellPrint(200, "100", "2"), // 1 − 2 = −1: fills 1
      q(1000, "100", "1", "101"),
    ];
    const late = oneShot(bid("1", "100"));
    run(tape, late.s, { latency: { order: 50 } });
    expect(late.log).toEqual(["200 fill 1@100 MAKER"]);
    const now = oneShot(bid("1", "100"));
    run(tape, now.s);
    expect(now.log).toEqual(["100 fill 1@100 MAKER"]);
  });

  it("with ack latency the strategy's position changes when the fill is acknowledged", () => {
    const positions: string[] = [];
    let sent = false;
    const s: Strategy = {
      id: "s1",
      name: "pos-probe",
      onMarket: (_q, ctx) => {
        positions.push(`${ctx.now}:${ctx.position("BTC-USD").toFixed()}`);
        if (sent) return [];
        sent = true;
        return [{ ...bid("1", "100", { postOnly: false, timeInForce: "IOC" }), strategyId: "s1" }];
      },
      onFill: () => [],
      onTimer: () => [],
    };
    const { e } = run([q(0, "99", "5", "100"), q(10, "99", "5", "100"), q(30, "99", "5", "100")], s, {
      latency: { ack: 20 },
    });
    // Filled at t=0 at the venue (the portfolio has it), known to the strategy at t=20.
    expect(e.portfolio.position("s1", "BTC-USD")!.quantity.toFixed()).toBe("1");
    expect(positions).toEqual(["0:0", "10:0", "30:1"]);
  });

  it("a seeded distribution gives the same run twice and is recorded", () => {
    const lat = { order: { kind: "lognormal" as const, medianMs: 20, sigma: 0.5 }, seed: 7 };
    const one = run(tape(40), oneShot(ioc).s, { latency: lat }).r;
    const two = run(tape(40), oneShot(ioc).s, { latency: lat }).r;
    expect(one.trades).toEqual(two.trades);
    expect(one.latency.order).toEqual({ kind: "lognormal", medianMs: 20, sigma: 0.5 });
  });

  it("with latency an in-flight order is listed as open and a cancel shows pendingCancel until it lands", () => {
    const views: string[] = [];
    let n = 0;
    const s: Strategy = {
      id: "s1",
      name: "probe",
      onMarket: (_q, ctx) => {
        views.push(
          ctx
            .openOrders()
            .map((o) => `${o.limitPrice?.toFixed()}${o.pendingCancel ? "(pc)" : ""}`)
            .join(","),
        );
        n++;
        if (n === 1) return [{ ...bid("1", "99"), strategyId: "s1" }];
        if (n === 2) return [{ ...bid("1", "1"), strategyId: "s1", cancelOrderId: ctx.openOrders()[0]!.orderId }];
        return [];
      },
      onFill: () => [],
      onTimer: () => [],
    };
    const { e } = run(
      [q(0, "98", "5", "100"), q(10, "98", "5", "100"), q(20, "98", "5", "100"), q(200, "98", "5", "100")],
      s,
      {
        latency: { order: 50 },
      },
    );
    expect(views).toEqual(["", "99", "99(pc)", ""]);
    expect(e.book("venue-a", "BTC-USD")!.buys).toHaveLength(0);
  });
});
