// gRPC market-data simulator over a live MarketSimulation: upstream's marketdata.MarketDataService (double
// prices; see upstreamContract.ts) and our tse.marketdata.QuoteService (venue L1, exact decimals, sequences).
import type { ServerWritableStream } from "@grpc/grpc-js";
import { MarketDataServiceService } from "../../gen/proto/marketdata/marketdata";
import {
  type L1Quote,
  type PathRequest,
  type PathResponse,
  type PriceTick,
  type PriceTickRequest,
  type QuoteRequest,
  type QuoteServiceServer,
  QuoteServiceService,
  ScenarioType,
  type SetScenarioRequest,
  type SetScenarioResponse,
  type StreamPathRequest,
  type StreamPriceTicksRequest,
  type StreamQuotesRequest,
} from "../../gen/proto/tse/marketdata/quotes";
import { invalidArgument, notFound } from "../common/grpcErrors";
import { StreamRegistry, streaming, unary } from "../common/handlers";
import { type ServiceEntry, SimServer, type SimServerOptions } from "../common/SimServer";
import type { WireLatencyRecorder } from "../common/WireLatencyRecorder";
import {
  DEFAULT_SIM_SYMBOLS,
  MarketSimulation,
  type MarketSimulationOptions,
  SCENARIO_PARAMS,
  type SimSymbol,
} from "./MarketSimulation";
import { UPSTREAM_HEALTH_KEY, UPSTREAM_SERVICE_NAME, upstreamMarketDataImpl } from "./upstreamContract";

export { UPSTREAM_HEALTH_KEY, UPSTREAM_SERVICE_NAME as MARKET_DATA_SERVICE_NAME } from "./upstreamContract";
export const QUOTE_SERVICE_NAME = "tse.marketdata.QuoteService";
export const DEFAULT_MARKET_DATA_PORT = 50055;

export interface MarketDataSimulatorOptions extends SimServerOptions, MarketSimulationOptions {
  /** How often the live process advances on its own, ms (streams also advance it). Default 100. */
  tickMs?: number;
  /** Share an existing simulation (e.g. with an in-process exchange simulator). */
  simulation?: MarketSimulation;
  /** Notes when each venue tick is first written to a stream (shared with an in-process ExchangeSimulator). */
  wire?: WireLatencyRecorder;
  /** Wall-clock ms between upstream StreamScenario updates (each one simulated second). Default 1000, as upstream. */
  scenarioPaceMs?: number;
}

const MAX_STEPS = 100_000;

export class MarketDataSimulator extends SimServer {
  readonly simulation: MarketSimulation;
  private readonly opts: MarketDataSimulatorOptions;
  private readonly streams = new StreamRegistry();
  private ticker: NodeJS.Timeout | undefined;
  private scenarioTimer: NodeJS.Timeout | undefined;

  constructor(opts: MarketDataSimulatorOptions = {}) {
    super("market-data-sim", opts);
    this.opts = opts;
    this.simulation = opts.simulation ?? new MarketSimulation({ ...opts, startTimeMs: Date.now() });
  }

  protected override onStart(): void {
    const tick = this.opts.tickMs ?? 100;
    this.ticker = setInterval(() => this.simulation.advanceTo(Date.now()), tick);
  }

  protected override onStop(): void {
    if (this.ticker) clearInterval(this.ticker);
    if (this.scenarioTimer) clearTimeout(this.scenarioTimer);
    this.streams.endAll();
  }

  private checkSymbols(symbols: readonly string[]): void {
    symbols.forEach((s, i) => {
      if (!this.simulation.hasSymbol(s)) throw invalidArgument(`symbols[${i}]`, s, "unknown symbol");
    });
  }

  private checkVenues(venues: readonly string[]): void {
    venues.forEach((v, i) => {
      if (!this.simulation.hasVenue(v)) throw invalidArgument(`venues[${i}]`, v, "unknown venue");
    });
  }

  private checkScenario(s: ScenarioType): void {
    if (SCENARIO_PARAMS[s] === undefined) throw invalidArgument("scenario", s, "unknown scenario");
  }

  private interval(ms: number, field = "update_interval_ms"): number {
    if (ms === 0) return 100;
    if (ms < 1 || ms > 3_600_000) throw invalidArgument(field, ms, "must be between 1 and 3600000");
    return ms;
  }

  /** Write at a fixed interval until the client goes away or the server stops. */
  private pump<Req, Res>(call: ServerWritableStream<Req, Res>, intervalMs: number, tick: () => boolean): void {
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    this.streams.add(call, () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    });
    let next = Date.now();
    const run = () => {
      if (stopped) return;
      let more = true;
      try {
        more = tick();
      } catch (err) {
        this.log.error("stream tick failed", { error: String(err) });
        more = false;
      }
      if (!more) {
        stopped = true;
        call.end();
        return;
      }
      // Fixed-rate schedule; respect backpressure by not piling up when the client is slow.
      next += intervalMs;
      const wait = Math.max(0, next - Date.now());
      if (wait === 0) next = Date.now();
      timer = setTimeout(run, wait);
    };
    run();
  }

  protected services(): ServiceEntry[] {
    const sim = this.simulation;
    const upstream = upstreamMarketDataImpl({
      simulation: sim,
      symbolSpecs: this.opts.symbols ?? DEFAULT_SIM_SYMBOLS,
      simulationOptions: { venues: this.opts.venues, model: this.opts.model, seed: this.opts.seed ?? 1 },
      scenarioPaceMs: this.opts.scenarioPaceMs ?? 1_000,
      serving: () => this.server !== undefined,
      activeStreams: () => this.streams.size,
      pump: (call, intervalMs, tick) => this.pump(call, intervalMs, tick),
      serviceVersion: "1",
    });
    return [
      {
        name: UPSTREAM_SERVICE_NAME,
        healthAliases: [UPSTREAM_HEALTH_KEY],
        definition: MarketDataServiceService,
        impl: upstream,
      },
      {
        name: QUOTE_SERVICE_NAME,
        definition: QuoteServiceService,
        impl: {
          getPriceTick: unary<PriceTickRequest, PriceTick>((req) => {
            if (!req.symbol) throw invalidArgument("symbol", req.symbol, "must not be empty");
            if (!sim.hasSymbol(req.symbol)) throw invalidArgument("symbol", req.symbol, "unknown symbol");
            if (req.venue && !sim.hasVenue(req.venue)) throw invalidArgument("venue", req.venue, "unknown venue");
            sim.advanceTo(Date.now());
            return sim.priceUpdate(req.symbol, req.venue)!;
          }),
          getQuote: unary<QuoteRequest, L1Quote>((req) => {
            if (!sim.hasSymbol(req.symbol)) throw invalidArgument("symbol", req.symbol, "unknown symbol");
            if (!sim.hasVenue(req.venue)) throw invalidArgument("venue", req.venue, "unknown venue");
            sim.advanceTo(Date.now());
            const q = sim.quote(req.venue, req.symbol);
            if (!q) throw notFound("quote", `${req.venue}/${req.symbol}`);
            return q;
          }),
          streamPriceTicks: streaming<StreamPriceTicksRequest, PriceTick>((call) => {
            const req = call.request;
            const symbols = req.symbols.length > 0 ? req.symbols : sim.symbols;
            this.checkSymbols(symbols);
            this.checkVenues(req.venues);
            const interval = this.interval(req.updateIntervalMs);
            const last = new Map<string, string>();
            this.pump(call, interval, () => {
              sim.advanceTo(Date.now());
              const targets = req.venues.length > 0 ? req.venues : [""];
              for (const s of symbols) {
                for (const v of targets) {
                  const key = `${v}|${s}`;
                  const u = sim.priceUpdate(s, v, last.get(key));
                  if (!u) continue;
                  last.set(key, u.price);
                  call.write(u);
                  if (u.venue) this.opts.wire?.tickWritten(u.venue, u.symbol, u.sequence);
                }
              }
              return true;
            });
          }),
          streamQuotes: streaming<StreamQuotesRequest, L1Quote>((call) => {
            const req = call.request;
            this.checkSymbols(req.symbols);
            this.checkVenues(req.venues);
            const interval = this.interval(req.updateIntervalMs);
            const sent = new Map<string, number>();
            this.pump(call, interval, () => {
              sim.advanceTo(Date.now());
              for (const q of sim.quotes(req.symbols, req.venues)) {
                const key = `${q.venue}|${q.symbol}`;
                // Only new quotes: the per-venue sequence strictly increases on the stream.
                if ((sent.get(key) ?? 0) >= q.sequence) continue;
                sent.set(key, q.sequence);
                call.write(q);
                this.opts.wire?.tickWritten(q.venue, q.symbol, q.sequence);
              }
              return true;
            });
          }),
          generatePath: unary<PathRequest, PathResponse>((req) => {
            const { simulation, steps, stepMs } = this.scenarioSimulation(req.symbol ? [req.symbol] : [], req);
            const ticks: PriceTick[] = [];
            const prev = new Map<string, string>();
            const venues = req.venues.length > 0 ? req.venues : [""];
            for (let i = 0; i < steps; i++) {
              simulation.step(stepMs);
              for (const s of simulation.symbols) {
                for (const v of venues) {
                  const u = simulation.priceUpdate(s, v, prev.get(`${v}|${s}`))!;
                  prev.set(`${v}|${s}`, u.price);
                  ticks.push(u);
                }
              }
            }
            return { ticks, seed: simulation.seed, scenario: simulation.scenario };
          }),
          streamPath: streaming<StreamPathRequest, PriceTick>((call) => {
            const req = call.request;
            const interval = this.interval(req.updateIntervalMs);
            const { simulation } = this.scenarioSimulation(req.symbols, {
              ...req,
              stepMs: interval,
              startPrice: "",
              steps: req.steps === 0 ? 1 : req.steps,
              startTimestamp: Date.now(),
            });
            const venues = req.venues.length > 0 ? req.venues : [""];
            const prev = new Map<string, string>();
            let n = 0;
            this.pump(call, interval, () => {
              if (req.steps > 0 && n >= req.steps) return false;
              simulation.step(interval);
              n++;
              for (const s of simulation.symbols) {
                for (const v of venues) {
                  const u = simulation.priceUpdate(s, v, prev.get(`${v}|${s}`))!;
                  prev.set(`${v}|${s}`, u.price);
                  call.write(u);
                }
              }
              return req.steps === 0 || n < req.steps;
            });
          }),
          setScenario: unary<SetScenarioRequest, SetScenarioResponse>((req) => {
            this.checkScenario(req.scenario);
            const previous = sim.scenario;
            sim.advanceTo(Date.now());
            sim.setScenario(req.scenario);
            if (this.scenarioTimer) clearTimeout(this.scenarioTimer);
            if (req.durationMs > 0) {
              this.scenarioTimer = setTimeout(() => sim.setScenario(previous), req.durationMs);
            }
            this.log.info("scenario set", { scenario: ScenarioType[req.scenario], durationMs: req.durationMs });
            return { previous, current: req.scenario };
          }),
        } satisfies QuoteServiceServer,
      },
    ];
  }

  /** A fresh, seeded simulation for GenerateSimulation/StreamScenario (independent of the live one). */
  private scenarioSimulation(
    symbols: readonly string[],
    req: {
      scenario: ScenarioType;
      seed: number;
      steps: number;
      stepMs: number;
      startPrice: string;
      venues: string[];
      startTimestamp: number;
    },
  ) {
    this.checkScenario(req.scenario);
    this.checkSymbols(symbols);
    this.checkVenues(req.venues);
    if (req.steps < 1 || req.steps > MAX_STEPS) throw invalidArgument("steps", req.steps, `must be 1..${MAX_STEPS}`);
    const stepMs = this.interval(req.stepMs, "step_ms");
    const base = this.opts.symbols ?? DEFAULT_SIM_SYMBOLS;
    let specs: SimSymbol[] = base.filter((s) => symbols.length === 0 || symbols.includes(s.symbol));
    if (req.startPrice) {
      const p = Number(req.startPrice);
      if (!Number.isFinite(p) || p <= 0)
        throw invalidArgument("start_price", req.startPrice, "must be a positive number");
      specs = specs.map((s) => ({ ...s, startPrice: p }));
    }
    const simulation = new MarketSimulation({
      seed: req.seed === 0 ? (this.opts.seed ?? 1) : req.seed,
      scenario: req.scenario,
      model: this.opts.model,
      symbols: specs,
      venues: this.opts.venues,
      startTimeMs: req.startTimestamp,
    });
    return { simulation, steps: req.steps, stepMs };
  }
}
