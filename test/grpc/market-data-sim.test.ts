// Market-data simulator, our tse.marketdata.QuoteService: determinism per seed, scenarios, divergence, L1
// sequences, fast streams, bad input. The upstream contract on the same server: upstream-contract-sim.test.ts.
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type L1Quote, type PriceTick, QuoteServiceClient, ScenarioType } from "../../gen/proto/tse/marketdata/quotes";
import { MarketDataSimulator } from "../../sim/market-data/MarketDataSimulator";
import { MarketSimulation, parseScenario } from "../../sim/market-data/MarketSimulation";
import { connect, rejectsWith, rpc, take } from "./rpc";

const gen = (scenario: ScenarioType, seed: number, steps = 200, venues: string[] = []) => ({
  symbol: "BTC-USD",
  scenario,
  seed,
  steps,
  stepMs: 100,
  startPrice: "",
  venues,
  startTimestamp: 0,
});

describe("market simulation (in-process)", () => {
  it("is reproducible per seed and differs across seeds", () => {
    const run = (seed: number) => {
      const s = new MarketSimulation({ seed });
      const out: string[] = [];
      for (let i = 0; i < 100; i++) for (const q of s.step(50)) out.push(`${q.venue}${q.symbol}${q.bid}/${q.ask}`);
      return out;
    };
    expect(run(42)).toEqual(run(42));
    expect(run(42)).not.toEqual(run(43));
  });

  it("supports GBM and mean-reverting paths", () => {
    const spread = (model: "gbm" | "mean-reverting") => {
      const s = new MarketSimulation({
        seed: 5,
        model,
        symbols: [{ symbol: "BTC-USD", startPrice: 100, tickSize: "0.0001", lotSize: "0.001", baseSize: 1 }],
      });
      let maxDev = 0;
      for (let i = 0; i < 5_000; i++) {
        s.step(1000);
        maxDev = Math.max(maxDev, Math.abs(Number(s.priceUpdate("BTC-USD")!.price) - 100));
      }
      return maxDev;
    };
    // Over 5000 simulated seconds GBM wanders much further than the OU process pinned to its anchor.
    expect(spread("gbm")).toBeGreaterThan(spread("mean-reverting") * 2);
  });

  it("parses scenario names", () => {
    expect(parseScenario("volatility-spike")).toBe(ScenarioType.VOLATILITY_SPIKE);
    expect(parseScenario("")).toBe(ScenarioType.SCENARIO_UNSPECIFIED);
    expect(() => parseScenario("moon")).toThrow(/invalid scenario="moon"/);
  });
});

describe("market-data simulator over gRPC", () => {
  let sim: MarketDataSimulator;
  let raw: InstanceType<typeof QuoteServiceClient>;
  let md: ReturnType<typeof rpc<InstanceType<typeof QuoteServiceClient>>>;

  beforeAll(async () => {
    sim = new MarketDataSimulator({ quiet: true, seed: 9, shutdownTimeoutMs: 500 });
    raw = connect(QuoteServiceClient, `127.0.0.1:${await sim.start(0)}`);
    md = rpc(raw);
  });
  afterAll(async () => {
    raw.close();
    await sim.stop();
  });

  it("GeneratePath is deterministic per seed", async () => {
    const a = await md.generatePath(gen(ScenarioType.SCENARIO_UNSPECIFIED, 123));
    const b = await md.generatePath(gen(ScenarioType.SCENARIO_UNSPECIFIED, 123));
    const c = await md.generatePath(gen(ScenarioType.SCENARIO_UNSPECIFIED, 124));
    expect(a.ticks).toHaveLength(200);
    expect(a.ticks.map((u) => u.price)).toEqual(b.ticks.map((u) => u.price));
    expect(a.ticks.map((u) => u.price)).not.toEqual(c.ticks.map((u) => u.price));
    expect(a.ticks[1]!.changeInfo!.previousPrice).toBe(a.ticks[0]!.price);
  });

  const last = (u: PriceTick[]) => Number(u[u.length - 1]!.price);
  const first = (u: PriceTick[]) => Number(u[0]!.price);
  const vol = (u: PriceTick[]) => {
    const r = u.slice(1).map((x, i) => Math.log(Number(x.price) / Number(u[i]!.price)));
    const m = r.reduce((s, x) => s + x, 0) / r.length;
    return Math.sqrt(r.reduce((s, x) => s + (x - m) ** 2, 0) / r.length);
  };

  it("RALLY rises, CRASH falls, VOLATILITY_SPIKE is wilder than CONSOLIDATION, MEAN_REVERTING stays near its start", async () => {
    for (const seed of [1, 2, 3]) {
      const rally = (await md.generatePath(gen(ScenarioType.RALLY, seed, 300))).ticks;
      const crash = (await md.generatePath(gen(ScenarioType.CRASH, seed, 300))).ticks;
      expect(last(rally)).toBeGreaterThan(first(rally) * 1.03);
      expect(last(crash)).toBeLessThan(first(crash) * 0.95);
      const spike = (await md.generatePath(gen(ScenarioType.VOLATILITY_SPIKE, seed, 300))).ticks;
      const calm = (await md.generatePath(gen(ScenarioType.CONSOLIDATION, seed, 300))).ticks;
      expect(vol(spike)).toBeGreaterThan(vol(calm) * 10);
      const mr = (await md.generatePath(gen(ScenarioType.MEAN_REVERTING, seed, 3000))).ticks;
      expect(Math.abs(last(mr) / 65000 - 1)).toBeLessThan(0.01);
    }
  });

  it("DIVERGENCE regularly opens a cross-venue gap above 10 bps edge + 2×5 bps taker fees", async () => {
    const { ticks: updates } = await md.generatePath(gen(ScenarioType.DIVERGENCE, 77, 400, ["venue-a", "venue-b"]));
    let arb = 0;
    let steps = 0;
    for (let i = 0; i < updates.length; i += 2) {
      const a = updates[i]!;
      const b = updates[i + 1]!;
      expect([a.venue, b.venue]).toEqual(["venue-a", "venue-b"]);
      steps++;
      // Buy at one venue's ask, sell at the other's bid.
      const edge = Math.max(
        (Number(b.bid) - Number(a.ask)) / Number(a.ask),
        (Number(a.bid) - Number(b.ask)) / Number(b.ask),
      );
      if (edge > 0.002) arb++;
    }
    expect(arb / steps).toBeGreaterThan(0.4);
    const normal = await md.generatePath(gen(ScenarioType.SCENARIO_UNSPECIFIED, 77, 400, ["venue-a", "venue-b"]));
    let normalArb = 0;
    for (let i = 0; i < normal.ticks.length; i += 2) {
      const a = normal.ticks[i]!;
      const b = normal.ticks[i + 1]!;
      if (
        (Number(b.bid) - Number(a.ask)) / Number(a.ask) > 0.002 ||
        (Number(a.bid) - Number(b.ask)) / Number(b.ask) > 0.002
      )
        normalArb++;
    }
    expect(normalArb).toBe(0);
  });

  it("GetPriceTick and GetQuote return L1 per venue for BTC-USD and ETH-USD", async () => {
    const h = { symbols: sim.simulation.symbols, venues: sim.simulation.venues };
    expect(h.symbols).toEqual(["BTC-USD", "ETH-USD"]);
    expect(h.venues).toEqual(["venue-a", "venue-b"]);
    for (const symbol of h.symbols) {
      for (const venue of h.venues) {
        const q = await md.getQuote({ symbol, venue });
        expect(Number(q.ask)).toBeGreaterThan(Number(q.bid));
        expect(Number(q.bidSize)).toBeGreaterThan(0);
        expect(q.sequence).toBeGreaterThan(0);
      }
      const p = await md.getPriceTick({ symbol, venue: "" });
      expect(p.source).toBe("market-data-sim");
      expect(Number(p.price)).toBeGreaterThan(0);
    }
  });

  it("streams L1 at 1 ms with strictly increasing per-venue sequences", async () => {
    const t0 = Date.now();
    const quotes = await take<L1Quote>(
      raw.streamQuotes({ symbols: ["BTC-USD"], venues: ["venue-a", "venue-b"], updateIntervalMs: 1 }),
      200,
      5_000,
    );
    const elapsed = Date.now() - t0;
    for (const venue of ["venue-a", "venue-b"]) {
      const seqs = quotes.filter((q) => q.venue === venue).map((q) => q.sequence);
      for (let i = 1; i < seqs.length; i++) expect(seqs[i]!).toBeGreaterThan(seqs[i - 1]!);
    }
    // 100 ticks per venue at 1 ms: far faster than the default 100 ms.
    expect(elapsed).toBeLessThan(2_000);
  });

  it("StreamPriceTicks sends the requested symbols at the requested interval", async () => {
    const updates = await take<PriceTick>(
      raw.streamPriceTicks({ symbols: ["ETH-USD", "BTC-USD"], updateIntervalMs: 5, venues: [] }),
      20,
      5_000,
    );
    expect(new Set(updates.map((u) => u.symbol))).toEqual(new Set(["ETH-USD", "BTC-USD"]));
    expect(updates.every((u) => u.changeInfo !== undefined && u.timestamp > 0)).toBe(true);
  });

  it("StreamPath is seeded: two streams with the same seed carry the same prices", async () => {
    const req = {
      symbols: ["BTC-USD"],
      scenario: ScenarioType.CRASH,
      seed: 5,
      updateIntervalMs: 1,
      steps: 30,
      venues: [],
    };
    const a = await take<PriceTick>(raw.streamPath(req), 30);
    const b = await take<PriceTick>(raw.streamPath(req), 30);
    expect(a.map((u) => u.price)).toEqual(b.map((u) => u.price));
    expect(a.every((u) => u.scenario === ScenarioType.CRASH)).toBe(true);
    const ended = await take<PriceTick>(raw.streamPath({ ...req, steps: 3 }), 10);
    expect(ended).toHaveLength(3);
  });

  it("SetScenario switches the live process", async () => {
    const r = await md.setScenario({ scenario: ScenarioType.VOLATILITY_SPIKE, durationMs: 0 });
    expect(r.current).toBe(ScenarioType.VOLATILITY_SPIKE);
    expect(sim.simulation.scenario).toBe(ScenarioType.VOLATILITY_SPIKE);
    await md.setScenario({ scenario: ScenarioType.SCENARIO_UNSPECIFIED, durationMs: 0 });
  });

  it("bad input → INVALID_ARGUMENT naming field and value", async () => {
    expect(
      (await rejectsWith(md.getPriceTick({ symbol: "DOGE-USD", venue: "" }), status.INVALID_ARGUMENT)).details,
    ).toContain('symbol="DOGE-USD"');
    expect((await rejectsWith(md.getPriceTick({ symbol: "", venue: "" }), status.INVALID_ARGUMENT)).details).toContain(
      'symbol=""',
    );
    expect(
      (await rejectsWith(md.getQuote({ symbol: "BTC-USD", venue: "nowhere" }), status.INVALID_ARGUMENT)).details,
    ).toContain('venue="nowhere"');
    expect(
      (await rejectsWith(md.generatePath({ ...gen(ScenarioType.RALLY, 1), steps: 0 }), status.INVALID_ARGUMENT))
        .details,
    ).toContain("steps=0");
    expect(
      (
        await rejectsWith(
          md.generatePath({ ...gen(ScenarioType.RALLY, 1), startPrice: "NaN" }),
          status.INVALID_ARGUMENT,
        )
      ).details,
    ).toContain('start_price="NaN"');
    expect(
      (await rejectsWith(md.setScenario({ scenario: 99 as ScenarioType, durationMs: 0 }), status.INVALID_ARGUMENT))
        .details,
    ).toContain("scenario=99");
    const stream = raw.streamQuotes({ symbols: ["NOPE"], venues: [], updateIntervalMs: 1 });
    const err = await new Promise<{ code: number; details: string }>((resolve) => stream.on("error", resolve));
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.details).toContain('symbols[0]="NOPE"');
  });
});
