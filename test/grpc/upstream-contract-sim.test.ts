// Our market-data simulator as seen by a client of upstream's contract: requests built and responses read with
// upstream's field table (test/fixtures/upstream/layout.ts), not our generated code. Every response decodes with
// no unknown field, prices are non-zero doubles, and StreamScenario honours duration_minutes.
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MarketDataSimulator } from "../../sim/market-data/MarketDataSimulator";
import { UPSTREAM_ENUMS } from "../fixtures/upstream/layout";
import { LayoutClient } from "../support/layoutClient";
import { decodeByLayout } from "../support/protoLayout";

const MD = "/marketdata.MarketDataService";
type Ts = { seconds: number; nanos?: number };
type Update = {
  symbol: string;
  price: number;
  volume: number;
  timestamp: Ts;
  source: string;
  change_info: Record<string, number>;
};

describe("our market-data simulator, in upstream's wire layout", () => {
  let sim: MarketDataSimulator;
  let up: LayoutClient;

  beforeAll(async () => {
    // One StreamScenario update per 5 ms of wall time (upstream: per second) keeps a 1-minute scenario short.
    sim = new MarketDataSimulator({ quiet: true, seed: 3, scenarioPaceMs: 5, shutdownTimeoutMs: 300 });
    up = new LayoutClient(`127.0.0.1:${await sim.start(0)}`);
  });
  afterAll(async () => {
    up.close();
    await sim.stop();
  });

  it("GetPrice: flat response, the simulation's price as a double, a Timestamp", async () => {
    const r = (await up.unary(`${MD}/GetPrice`, { symbol: "BTC-USD" })) as {
      symbol: string;
      price: number;
      timestamp: Ts;
    };
    expect(r.symbol).toBe("BTC-USD");
    expect(r.price).toBeGreaterThan(30_000); // BTC-USD starts at 65000 in our simulation
    expect(Math.abs(r.timestamp.seconds * 1000 - Date.now())).toBeLessThan(5_000);
  });

  it("StreamPrices: doubles, volumes, Timestamps and PriceChangeInfo; never faster than 100 ms", async () => {
    const t0 = Date.now();
    const ups = (await up.stream(
      `${MD}/StreamPrices`,
      { symbols: ["BTC-USD", "ETH-USD"], update_interval_ms: 10 },
      6,
    )) as Update[];
    expect(Date.now() - t0).toBeGreaterThanOrEqual(200); // 3 ticks at the 100 ms floor
    expect(new Set(ups.map((u) => u.symbol))).toEqual(new Set(["BTC-USD", "ETH-USD"]));
    for (const u of ups) {
      expect(u.price).toBeGreaterThan(1_000);
      expect(u.timestamp.seconds).toBeGreaterThan(1_700_000_000);
      expect(u.change_info.daily_high).toBeGreaterThanOrEqual(u.change_info.daily_low!);
    }
  });

  it("StreamScenario(CRASH, duration_minutes=1): 60 updates, one per simulated second from start_time, falling", async () => {
    const start = { seconds: 1_767_225_600 };
    const ups = (await up.stream(
      `${MD}/StreamScenario`,
      {
        symbol: "ETH-USD",
        scenario_type: UPSTREAM_ENUMS.ScenarioType!.CRASH!,
        parameters: { intensity: 1.5 },
        start_time: start,
        duration_minutes: 1,
      },
      1_000,
    )) as Update[];
    expect(ups).toHaveLength(60);
    expect(ups.map((u) => u.timestamp.seconds)).toEqual(ups.map((_, i) => start.seconds + i));
    expect(ups.every((u) => u.price > 0)).toBe(true);
    expect(ups.at(-1)!.price).toBeLessThan(ups[0]!.price);
  });

  it("StreamScenario with no scenario_type is RALLY (upstream's 0)", async () => {
    const ups = (await up.stream(`${MD}/StreamScenario`, { symbol: "BTC-USD", duration_minutes: 1 }, 60)) as Update[];
    expect(ups).toHaveLength(60);
    expect(ups.at(-1)!.price).toBeGreaterThan(ups[0]!.price);
  });

  it.each(Object.entries(UPSTREAM_ENUMS.SimulationType!))(
    "GenerateSimulation(%s): PricePoints and measured metrics",
    async (_name, t) => {
      const start = 1_767_225_600;
      const r = (await up.unary(`${MD}/GenerateSimulation`, {
        symbol: "BTC-USD",
        start_time: { seconds: start },
        end_time: { seconds: start + 48 * 3600 },
        simulation_type: t,
        parameters: { volatility_factor: 1, data_points: 48 },
      })) as {
        symbol: string;
        historical_data: { timestamp: Ts; close: number; high: number; low: number }[];
        simulated_data: { close: number }[];
        similarity_metrics: Record<string, number>;
        simulation_id: string;
      };
      expect(r.historical_data).toHaveLength(48);
      expect(r.simulated_data).toHaveLength(48);
      expect(r.historical_data[0]!.timestamp.seconds).toBe(start);
      expect(r.historical_data.every((p) => p.high >= p.low && p.close > 0)).toBe(true);
      expect(r.simulated_data.every((p) => p.close > 0)).toBe(true);
      const m = r.similarity_metrics;
      expect(m.volatility_similarity).toBeGreaterThan(0);
      expect(m.volatility_similarity).toBeLessThanOrEqual(1);
      expect(m.confidence_score).toBeGreaterThan(0);
      expect(r.simulation_id).not.toBe("");
    },
  );

  it("HealthCheck: SERVING (enum 1), a Timestamp and the details map with our symbols and venues", async () => {
    const r = (await up.unary(`${MD}/HealthCheck`, { service: "market-data" })) as {
      status: number;
      details: Record<string, string>;
      timestamp: Ts;
    };
    expect(r.status).toBe(UPSTREAM_ENUMS.HealthStatus!.SERVING);
    expect(r.details.symbols).toBe("BTC-USD,ETH-USD");
    expect(r.details.venues).toBe("venue-a,venue-b");
    expect(r.details.active_streams).toMatch(/^\d+$/);
    const unknown = (await up.unary(`${MD}/HealthCheck`, { service: "nope" })) as { status: number };
    expect(unknown.status).toBe(UPSTREAM_ENUMS.HealthStatus!.SERVICE_UNKNOWN);
  });

  it("grpc.health.v1 serves upstream's 'market-data' key and both full service names", async () => {
    const check = (service: string) =>
      new Promise<number>((resolve, reject) => {
        const body = Buffer.concat([Buffer.from([0x0a, service.length]), Buffer.from(service)]);
        up.client.makeUnaryRequest(
          "/grpc.health.v1.Health/Check",
          (b: Buffer) => b,
          (b: Buffer) => b,
          body,
          {},
          (e, res) =>
            e ? reject(e) : resolve(decodeByLayout({ R: { 1: { name: "s", kind: "enum" } } }, "R", res!).s as number),
        );
      });
    for (const s of ["", "market-data", "marketdata.MarketDataService", "tse.marketdata.QuoteService"])
      expect(await check(s), s).toBe(1);
  });

  it("bad input: INVALID_ARGUMENT naming the field and the value", async () => {
    const err = await up
      .unary(`${MD}/GetPrice`, { symbol: "DOGE-USD" })
      .catch((e: { code: number; details: string }) => e);
    expect(err).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect((err as { details: string }).details).toContain('symbol="DOGE-USD"');
    const bad = await up
      .stream(`${MD}/StreamScenario`, { symbol: "BTC-USD", duration_minutes: 0 }, 1)
      .catch((e: { code: number; details: string }) => e);
    expect(bad).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect((bad as { details: string }).details).toContain("duration_minutes=0");
  });
});
