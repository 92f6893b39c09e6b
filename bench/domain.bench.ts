// Domain hot paths: RiskEngine checks (numeric fast path and Decimal intent API) and
// Portfolio.applyFill, each against a baseline loop that only reads the same inputs.
import { dec } from "../lib/domain/decimal";
import { Portfolio, type PositionFill } from "../lib/domain/portfolio";
import { type RiskContext, RiskEngine, type RiskOrder } from "../lib/domain/risk";
import type { OrderIntent } from "../lib/domain/types";

const RUNS = 5;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};
function perSecond(n: number, fn: () => number): { rate: number; sink: number } {
  const t = performance.now();
  const sink = fn();
  return { rate: n / ((performance.now() - t) / 1000), sink };
}

export async function run(progress: (m: string) => void): Promise<Record<string, number>> {
  const N = 1_000_000;
  // Inputs: alternating sides/prices near mid, 8 strategies, 60 ms apart each so the rate limit never binds.
  const orders: RiskOrder[] = [];
  const intents: OrderIntent[] = [];
  for (let i = 0; i < 1024; i++) {
    const side = i % 2 === 0 ? "BUY" : "SELL";
    const px = 50_000 + ((i % 17) - 8) * 5;
    orders.push({
      strategyId: `s${i % 8}`,
      symbol: "BTC-USD",
      side,
      type: "LIMIT",
      quantity: 0.01 + (i % 5) * 0.01,
      limitPrice: px,
    });
    intents.push({
      strategyId: `s${i % 8}`,
      venue: "venue-a",
      symbol: "BTC-USD",
      side,
      type: "LIMIT",
      timeInForce: "GTC",
      postOnly: true,
      quantity: dec(0.01 + (i % 5) * 0.01),
      limitPrice: dec(px),
    });
  }
  const ctx: RiskContext = {
    mid: 50_000,
    position: 0.5,
    strategyNotional: 100_000,
    portfolioNotional: 400_000,
    availableQuote: 1e7,
  };
  const base: number[] = [];
  const fast: number[] = [];
  const viaIntent: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    base.push(
      perSecond(N, () => {
        let s = 0;
        for (let i = 0; i < N; i++) {
          const o = orders[i & 1023]!;
          s += o.quantity + (o.limitPrice ?? 0) + i * 8;
        }
        return s;
      }).rate,
    );
    const e = new RiskEngine();
    const f = perSecond(N, () => {
      let ok = 0;
      for (let i = 0; i < N; i++) if (e.checkOrder(orders[i & 1023]!, ctx, i * 8).approved) ok++;
      return ok;
    });
    if (f.sink !== N) throw new Error(`benchmark inputs were denied (${N - f.sink}); fix the setup`);
    fast.push(f.rate);
    const e2 = new RiskEngine();
    const M = N / 5;
    viaIntent.push(
      perSecond(M, () => {
        let ok = 0;
        for (let i = 0; i < M; i++) if (e2.check(intents[i & 1023]!, ctx, i * 8).approved) ok++;
        return ok;
      }).rate,
    );
    progress(`risk run ${r + 1}/${RUNS}: fast ${Math.round(fast[r]!)}/s`);
  }

  // Portfolio.applyFill (exact decimals): random walk, 2 strategies.
  const F = 100_000;
  const fills: PositionFill[] = [];
  let px = 5_000_000;
  for (let i = 0; i < 4096; i++) {
    px += ((i * 7919) % 21) - 10;
    fills.push({
      strategyId: i % 3 === 0 ? "s2" : "s1",
      symbol: "BTC-USD",
      venue: "venue-a",
      side: (i * 31) % 7 < 3 ? "BUY" : "SELL",
      quantity: dec(1 + ((i * 13) % 300)).div(10_000),
      price: dec(px).div(100),
      fee: dec((i * 17) % 100).div(10_000),
      ts: i,
    });
  }
  const fillBase: number[] = [];
  const fillRate: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    fillBase.push(
      perSecond(F, () => {
        let s = 0;
        for (let i = 0; i < F; i++) s += fills[i & 4095]!.ts;
        return s;
      }).rate,
    );
    const p = new Portfolio({ initialCash: { USD: "10000000" } });
    fillRate.push(
      perSecond(F, () => {
        for (let i = 0; i < F; i++) p.applyFill(fills[i & 4095]!);
        return 0;
      }).rate,
    );
    progress(`portfolio run ${r + 1}/${RUNS}: ${Math.round(fillRate[r]!)} fills/s`);
  }
  return {
    "domain.risk_check_numeric_per_s": Math.round(median(fast)),
    "domain.risk_check_intent_per_s": Math.round(median(viaIntent)),
    "domain.risk_check_baseline_loop_per_s": Math.round(median(base)),
    "domain.portfolio_apply_fill_per_s": Math.round(median(fillRate)),
    "domain.portfolio_baseline_loop_per_s": Math.round(median(fillBase)),
  };
}
