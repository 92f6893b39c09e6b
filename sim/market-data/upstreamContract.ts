// The upstream contract (marketdata.MarketDataService, double prices, google.protobuf.Timestamp) served over the
// same live MarketSimulation as our QuoteService. Where upstream's behaviour is a fixed stub (GetPrice = 100.0),
// ours answers from the simulation; docs/simulators.md lists the differences.
import type { ServerWritableStream } from "@grpc/grpc-js";
import type { Timestamp } from "../../gen/proto/google/protobuf/timestamp";
import {
  type GetPriceRequest,
  type GetPriceResponse,
  type HealthCheckRequest,
  type HealthCheckResponse,
  HealthStatus,
  type MarketDataServiceServer,
  type PriceUpdate,
  type ScenarioRequest,
  type SimulationRequest,
  type SimulationResponse,
  type StreamPricesRequest,
  ScenarioType as UpstreamScenario,
} from "../../gen/proto/marketdata/marketdata";
import { ScenarioType } from "../../gen/proto/tse/marketdata/quotes";
import { invalidArgument } from "../common/grpcErrors";
import { streaming, unary } from "../common/handlers";
import { MarketSimulation, type MarketSimulationOptions, type SimSymbol } from "./MarketSimulation";
import { generateUpstreamSimulation } from "./upstreamSimulation";

export const UPSTREAM_SERVICE_NAME = "marketdata.MarketDataService";
/** Upstream's grpc.health key for this service. */
export const UPSTREAM_HEALTH_KEY = "market-data";

/** Upstream ScenarioType (RALLY = 0) → ours (0 = no scenario). */
export const UPSTREAM_TO_OUR_SCENARIO: Readonly<Record<number, ScenarioType>> = {
  [UpstreamScenario.RALLY]: ScenarioType.RALLY,
  [UpstreamScenario.CRASH]: ScenarioType.CRASH,
  [UpstreamScenario.DIVERGENCE]: ScenarioType.DIVERGENCE,
  [UpstreamScenario.MEAN_REVERTING]: ScenarioType.MEAN_REVERTING,
  [UpstreamScenario.VOLATILITY_SPIKE]: ScenarioType.VOLATILITY_SPIKE,
  [UpstreamScenario.CONSOLIDATION]: ScenarioType.CONSOLIDATION,
};

export function timestampFromMs(ms: number): Timestamp {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: Math.round((ms - seconds * 1000) * 1e6) };
}

export function msFromTimestamp(t: Timestamp): number {
  return t.seconds * 1000 + Math.floor(t.nanos / 1e6);
}

/** What the upstream handlers need from the simulator that hosts them. */
export interface UpstreamHost {
  simulation: MarketSimulation;
  /** Symbol specs and options for fresh (scenario / simulation) runs. */
  symbolSpecs: readonly SimSymbol[];
  simulationOptions: Pick<MarketSimulationOptions, "venues" | "model" | "seed">;
  /** Wall-clock ms between StreamScenario updates (each is one simulated second). Upstream: 1000. */
  scenarioPaceMs: number;
  serving(): boolean;
  activeStreams(): number;
  pump<Req, Res>(call: ServerWritableStream<Req, Res>, intervalMs: number, tick: () => boolean): void;
  serviceVersion: string;
}

function knownSymbol(host: UpstreamHost, field: string, symbol: string): void {
  if (!symbol) throw invalidArgument(field, symbol, "must not be empty");
  if (!host.simulation.hasSymbol(symbol)) throw invalidArgument(field, symbol, "unknown symbol");
}

function priceUpdate(
  sim: MarketSimulation,
  symbol: string,
  previous: number,
  source: string,
  nowMs: number,
): PriceUpdate {
  const s = sim.stats(symbol)!;
  const changeAmount = s.price - previous;
  return {
    symbol,
    price: s.price,
    volume: s.volume,
    timestamp: timestampFromMs(nowMs),
    source,
    changeInfo: {
      changeAmount,
      changePercentage: previous === 0 ? 0 : (changeAmount / previous) * 100,
      dailyHigh: s.high,
      dailyLow: s.low,
      dailyVolume: s.totalVolume,
    },
  };
}

export function upstreamMarketDataImpl(host: UpstreamHost): MarketDataServiceServer {
  const sim = host.simulation;
  return {
    getPrice: unary<GetPriceRequest, GetPriceResponse>((req) => {
      knownSymbol(host, "symbol", req.symbol);
      sim.advanceTo(Date.now());
      return {
        symbol: req.symbol,
        price: sim.stats(req.symbol)!.price,
        timestamp: timestampFromMs(Date.now()),
        source: "market-data-sim",
      };
    }),
    streamPrices: streaming<StreamPricesRequest, PriceUpdate>((call) => {
      const req = call.request;
      const symbols = req.symbols.length > 0 ? req.symbols : sim.symbols;
      for (const [i, s] of symbols.entries()) knownSymbol(host, `symbols[${i}]`, s);
      if (req.updateIntervalMs < 0 || req.updateIntervalMs > 3_600_000)
        throw invalidArgument("update_interval_ms", req.updateIntervalMs, "must be 0..3600000");
      // Upstream's floor: never faster than every 100 ms (0 = 100 ms).
      const interval = Math.max(100, req.updateIntervalMs);
      const last = new Map<string, number>(symbols.map((s) => [s, sim.stats(s)!.price]));
      host.pump(call, interval, () => {
        sim.advanceTo(Date.now());
        const now = Date.now();
        for (const s of symbols) {
          const u = priceUpdate(sim, s, last.get(s)!, "market-data-sim", now);
          last.set(s, u.price);
          call.write(u);
        }
        return true;
      });
    }),
    generateSimulation: unary<SimulationRequest, SimulationResponse>((req) => {
      knownSymbol(host, "symbol", req.symbol);
      const spec = host.symbolSpecs.find((s) => s.symbol === req.symbol)!;
      return generateUpstreamSimulation(
        req,
        { ...spec, startPrice: sim.stats(req.symbol)!.price },
        {
          ...host.simulationOptions,
          nowMs: Date.now(),
        },
      );
    }),
    streamScenario: streaming<ScenarioRequest, PriceUpdate>((call) => {
      const req = call.request;
      knownSymbol(host, "symbol", req.symbol);
      const scenario = UPSTREAM_TO_OUR_SCENARIO[req.scenarioType];
      if (scenario === undefined) throw invalidArgument("scenario_type", req.scenarioType, "unknown scenario");
      if (!(req.durationMinutes >= 1 && req.durationMinutes <= 1440))
        throw invalidArgument("duration_minutes", req.durationMinutes, "must be 1..1440");
      const intensity = req.parameters?.intensity || 1;
      if (!(intensity > 0 && intensity <= 10))
        throw invalidArgument("parameters.intensity", intensity, "must be > 0 and <= 10 (1 = as is)");
      const startMs = req.startTime ? msFromTimestamp(req.startTime) : Date.now();
      const base = sim.stats(req.symbol)!.price;
      const spec = host.symbolSpecs.find((s) => s.symbol === req.symbol)!;
      const run = new MarketSimulation({
        ...host.simulationOptions,
        symbols: [{ ...spec, startPrice: base }],
        scenario,
        intensity,
        startTimeMs: startMs,
      });
      // One update per simulated second for duration_minutes, as upstream; the first carries start_time.
      const total = req.durationMinutes * 60;
      let n = 0;
      host.pump(call, host.scenarioPaceMs, () => {
        if (n > 0) run.step(1_000);
        call.write(priceUpdate(run, req.symbol, base, "market-data-sim/scenario", startMs + n * 1_000));
        n++;
        return n < total;
      });
    }),
    healthCheck: unary<HealthCheckRequest, HealthCheckResponse>((req) => {
      const known = ["", UPSTREAM_HEALTH_KEY, UPSTREAM_SERVICE_NAME, "tse.marketdata.QuoteService"];
      const status = !known.includes(req.service)
        ? HealthStatus.SERVICE_UNKNOWN
        : host.serving()
          ? HealthStatus.SERVING
          : HealthStatus.NOT_SERVING;
      return {
        status,
        message:
          status === HealthStatus.SERVICE_UNKNOWN
            ? `unknown service ${JSON.stringify(req.service.slice(0, 64))}`
            : "market-data simulator",
        timestamp: timestampFromMs(Date.now()),
        details: {
          service_name: "market-data-sim",
          service_version: host.serviceVersion,
          active_streams: String(host.activeStreams()),
          symbols: sim.symbols.join(","),
          venues: sim.venues.join(","),
          services: `${UPSTREAM_SERVICE_NAME},tse.marketdata.QuoteService`,
        },
      };
    }),
  };
}
