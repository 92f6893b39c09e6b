// Seeded multi-venue price process, usable in-process (quoter bench, local session, exchange liquidity)
// and served over gRPC by MarketDataSimulator. Same seed + same steps => same prices.
//
// Per symbol a "fair" log-price follows GBM or an Ornstein-Uhlenbeck (mean-reverting) process; each
// venue quotes around fair with its own small mean-reverting basis, plus a scenario-driven divergence.
// Parameters are per simulated second and deliberately time-compressed so scenarios show within seconds.
import Decimal from "decimal.js";
import { type L1Quote, type PriceTick, ScenarioType } from "../../gen/proto/tse/marketdata/quotes";
import { SeededRandom } from "../common/rng";

export type PriceModel = "gbm" | "mean-reverting";

export interface SimSymbol {
  symbol: string;
  startPrice: number;
  tickSize: string;
  lotSize: string;
  /** Typical top-of-book size in base units. */
  baseSize: number;
}

export interface SimVenueQuoting {
  id: string;
  /** Full quoted spread in bps of fair. */
  spreadBps: number;
}

export interface MarketSimulationOptions {
  seed?: number;
  symbols?: readonly SimSymbol[];
  venues?: readonly SimVenueQuoting[];
  scenario?: ScenarioType;
  /** Path model outside the scenarios that impose their own (MEAN_REVERTING, CONSOLIDATION). */
  model?: PriceModel;
  /** Simulated epoch ms of the start. */
  startTimeMs?: number;
  source?: string;
  /** Scales the scenario's drift, extra volatility and divergence (upstream's ScenarioParameters.intensity). Default 1. */
  intensity?: number;
}

export interface ScenarioParams {
  /** Drift of log price, bps per second. */
  driftBps: number;
  /** Volatility of log price, bps per sqrt(second). */
  volBps: number;
  /** Mean-reversion speed toward the anchor, per second (0 = GBM). */
  reversion: number;
  spreadMultiplier: number;
  /** Amplitude of the cross-venue basis oscillation, bps (each venue phase-shifted). */
  divergenceBps: number;
  divergencePeriodSec: number;
}

const BASE: ScenarioParams = {
  driftBps: 0,
  volBps: 8,
  reversion: 0,
  spreadMultiplier: 1,
  divergenceBps: 0,
  divergencePeriodSec: 4,
};

export const SCENARIO_PARAMS: Readonly<Record<number, ScenarioParams>> = {
  [ScenarioType.SCENARIO_UNSPECIFIED]: BASE,
  [ScenarioType.RALLY]: { ...BASE, driftBps: 30, volBps: 10 },
  [ScenarioType.CRASH]: { ...BASE, driftBps: -60, volBps: 20, spreadMultiplier: 2 },
  // Venues oscillate in opposite phase: the gap peaks at 2×40 = 80 bps, above 10 bps edge + 2×5 bps fees most of the time.
  [ScenarioType.DIVERGENCE]: { ...BASE, divergenceBps: 40 },
  [ScenarioType.MEAN_REVERTING]: { ...BASE, volBps: 15, reversion: 1 },
  [ScenarioType.VOLATILITY_SPIKE]: { ...BASE, volBps: 60, spreadMultiplier: 3 },
  [ScenarioType.CONSOLIDATION]: { ...BASE, volBps: 2, reversion: 2, spreadMultiplier: 0.8 },
};

export const DEFAULT_SIM_SYMBOLS: readonly SimSymbol[] = [
  { symbol: "BTC-USD", startPrice: 65000, tickSize: "0.01", lotSize: "0.0001", baseSize: 0.5 },
  { symbol: "ETH-USD", startPrice: 3200, tickSize: "0.01", lotSize: "0.001", baseSize: 5 },
];

export const DEFAULT_SIM_QUOTING_VENUES: readonly SimVenueQuoting[] = [
  { id: "venue-a", spreadBps: 2 },
  { id: "venue-b", spreadBps: 3 },
];

export const SCENARIO_NAMES: readonly string[] = [
  "RALLY",
  "CRASH",
  "DIVERGENCE",
  "MEAN_REVERTING",
  "VOLATILITY_SPIKE",
  "CONSOLIDATION",
];

/** Parse a scenario name (case-insensitive, "-" or "_"); "" / "NORMAL" = SCENARIO_UNSPECIFIED. */
export function parseScenario(name: string): ScenarioType {
  const n = name.trim().toUpperCase().replace(/-/g, "_");
  if (n === "" || n === "NORMAL" || n === "NONE") return ScenarioType.SCENARIO_UNSPECIFIED;
  const v = (ScenarioType as unknown as Record<string, number>)[n];
  if (v === undefined || v < 0) {
    throw new Error(`invalid scenario=${JSON.stringify(name)}: expected one of ${SCENARIO_NAMES.join(", ")}`);
  }
  return v;
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

interface SymbolState {
  spec: SymbolParamsResolved;
  rng: SeededRandom;
  logPrice: number;
  anchor: number;
  lastPrice: Decimal;
  volume: number;
  /** Session high/low/volume of the composite price since the simulation started. */
  high: number;
  low: number;
  totalVolume: number;
  venues: VenueState[];
}

interface SymbolParamsResolved extends SimSymbol {
  tick: Decimal;
  lot: Decimal;
}

interface VenueState {
  venue: SimVenueQuoting;
  rng: SeededRandom;
  basis: number;
  phase: number;
  quote: L1Quote;
}

export class MarketSimulation {
  readonly seed: number;
  private current: ScenarioType;
  private params: ScenarioParams;
  private readonly model: PriceModel;
  private readonly intensity: number;
  private readonly states: SymbolState[] = [];
  private readonly listeners = new Set<(quotes: L1Quote[]) => void>();
  private readonly source: string;
  private elapsedMs = 0;
  private clockMs: number;
  private steps = 0;

  constructor(opts: MarketSimulationOptions = {}) {
    this.seed = opts.seed ?? 1;
    this.model = opts.model ?? "gbm";
    this.intensity = opts.intensity ?? 1;
    if (!(this.intensity > 0)) throw new Error(`invalid intensity=${opts.intensity}: must be > 0`);
    this.current = opts.scenario ?? ScenarioType.SCENARIO_UNSPECIFIED;
    this.params = this.paramsFor(this.current);
    this.clockMs = opts.startTimeMs ?? 0;
    this.source = opts.source ?? "market-data-sim";
    const venues = opts.venues ?? DEFAULT_SIM_QUOTING_VENUES;
    for (const s of opts.symbols ?? DEFAULT_SIM_SYMBOLS) {
      if (!(s.startPrice > 0)) throw new Error(`invalid startPrice=${s.startPrice} for ${s.symbol}: must be > 0`);
      const spec = { ...s, tick: new Decimal(s.tickSize), lot: new Decimal(s.lotSize) };
      const rng = new SeededRandom((this.seed ^ hash(s.symbol)) >>> 0);
      const logPrice = Math.log(s.startPrice);
      const state: SymbolState = {
        spec,
        rng,
        logPrice,
        anchor: logPrice,
        lastPrice: new Decimal(s.startPrice).toNearest(spec.tick),
        volume: 0,
        high: s.startPrice,
        low: s.startPrice,
        totalVolume: 0,
        venues: [],
      };
      venues.forEach((venue, i) => {
        const vs: VenueState = {
          venue,
          rng: new SeededRandom((this.seed ^ hash(`${s.symbol}@${venue.id}`)) >>> 0),
          basis: 0,
          phase: (2 * Math.PI * i) / Math.max(2, venues.length),
          quote: {
            venue: venue.id,
            symbol: s.symbol,
            bid: "",
            ask: "",
            bidSize: "",
            askSize: "",
            sequence: 0,
            timestamp: this.clockMs,
            lastPrice: "",
          },
        };
        state.venues.push(vs);
      });
      this.states.push(state);
    }
    // Initial quotes (sequence 1) without moving the price.
    for (const st of this.states) for (const vs of st.venues) this.requote(st, vs, Math.exp(st.logPrice));
  }

  private paramsFor(s: ScenarioType): ScenarioParams {
    let p = SCENARIO_PARAMS[s] ?? BASE;
    if (s === ScenarioType.SCENARIO_UNSPECIFIED && this.model === "mean-reverting") p = { ...p, reversion: 0.5 };
    const k = this.intensity;
    if (k === 1) return p;
    return {
      ...p,
      driftBps: p.driftBps * k,
      volBps: BASE.volBps + (p.volBps - BASE.volBps) * k,
      divergenceBps: p.divergenceBps * k,
    };
  }

  get scenario(): ScenarioType {
    return this.current;
  }

  get symbols(): string[] {
    return this.states.map((s) => s.spec.symbol);
  }

  get venues(): string[] {
    return this.states[0]?.venues.map((v) => v.venue.id) ?? [];
  }

  get nowMs(): number {
    return this.clockMs;
  }

  get stepCount(): number {
    return this.steps;
  }

  /** Switch scenario; mean reversion anchors at the current price. */
  setScenario(s: ScenarioType): void {
    this.current = s;
    this.params = this.paramsFor(s);
    for (const st of this.states) st.anchor = st.logPrice;
  }

  onQuotes(listener: (quotes: L1Quote[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Advance simulated time to nowMs (one step of the elapsed length); no-op if not later. */
  advanceTo(nowMs: number): L1Quote[] | undefined {
    if (nowMs <= this.clockMs) return undefined;
    return this.step(nowMs - this.clockMs);
  }

  /** Advance by dtMs of simulated time; every venue+symbol gets a new quote (sequence + 1). */
  step(dtMs: number): L1Quote[] {
    if (!(dtMs > 0)) throw new Error(`invalid dtMs=${dtMs}: must be > 0`);
    const dt = dtMs / 1000;
    this.elapsedMs += dtMs;
    this.clockMs += dtMs;
    this.steps++;
    const p = this.params;
    const sigma = p.volBps * 1e-4;
    const out: L1Quote[] = [];
    for (const st of this.states) {
      const z = st.rng.normal();
      const drift = p.driftBps * 1e-4 - (p.reversion === 0 ? (sigma * sigma) / 2 : 0);
      const pull = p.reversion > 0 ? -p.reversion * (st.logPrice - st.anchor) : 0;
      st.logPrice += (drift + pull) * dt + sigma * Math.sqrt(dt) * z;
      const fair = Math.exp(st.logPrice);
      st.lastPrice = new Decimal(fair.toPrecision(15)).toNearest(st.spec.tick);
      st.volume = Math.abs(z) * st.spec.baseSize * Math.min(1, dt * 10);
      st.totalVolume += st.volume;
      if (fair > st.high) st.high = fair;
      if (fair < st.low) st.low = fair;
      for (const vs of st.venues) {
        // Small idiosyncratic basis: OU with 1/s reversion, 2 bps/sqrt(s).
        vs.basis += -1 * vs.basis * dt + 2e-4 * Math.sqrt(dt) * vs.rng.normal();
        out.push(this.requote(st, vs, fair));
      }
    }
    for (const l of this.listeners) l(out);
    return out;
  }

  private requote(st: SymbolState, vs: VenueState, fair: number): L1Quote {
    const p = this.params;
    const divergence =
      p.divergenceBps * 1e-4 * Math.sin((2 * Math.PI * this.elapsedMs) / (p.divergencePeriodSec * 1000) + vs.phase);
    const mid = fair * (1 + vs.basis + divergence);
    const half = (fair * vs.venue.spreadBps * 1e-4 * p.spreadMultiplier) / 2;
    const tick = st.spec.tick;
    let bid = new Decimal((mid - half).toPrecision(15)).toNearest(tick, Decimal.ROUND_DOWN);
    let ask = new Decimal((mid + half).toPrecision(15)).toNearest(tick, Decimal.ROUND_UP);
    if (ask.lte(bid)) ask = bid.plus(tick);
    if (bid.lte(0)) bid = tick;
    const size = () =>
      Decimal.max(
        st.spec.lot,
        new Decimal((st.spec.baseSize * (0.5 + vs.rng.next())).toPrecision(12)).toNearest(
          st.spec.lot,
          Decimal.ROUND_DOWN,
        ),
      );
    vs.quote = {
      venue: vs.venue.id,
      symbol: st.spec.symbol,
      bid: bid.toFixed(),
      ask: ask.toFixed(),
      bidSize: size().toFixed(),
      askSize: size().toFixed(),
      sequence: vs.quote.sequence + 1,
      timestamp: this.clockMs,
      lastPrice: bid.plus(ask).div(2).toNearest(tick).toFixed(),
    };
    return vs.quote;
  }

  private state(symbol: string): SymbolState | undefined {
    return this.states.find((s) => s.spec.symbol === symbol);
  }

  /** Composite price as a number, with the session high/low and total volume (upstream's PriceChangeInfo). */
  stats(symbol: string): { price: number; volume: number; high: number; low: number; totalVolume: number } | undefined {
    const st = this.state(symbol);
    if (!st) return undefined;
    return {
      price: st.lastPrice.toNumber(),
      volume: st.volume,
      high: st.high,
      low: st.low,
      totalVolume: st.totalVolume,
    };
  }

  hasSymbol(symbol: string): boolean {
    return this.state(symbol) !== undefined;
  }

  hasVenue(venue: string): boolean {
    return this.venues.includes(venue);
  }

  quote(venue: string, symbol: string): L1Quote | undefined {
    const q = this.state(symbol)?.venues.find((v) => v.venue.id === venue)?.quote;
    return q ? { ...q } : undefined;
  }

  quotes(symbols?: readonly string[], venues?: readonly string[]): L1Quote[] {
    const out: L1Quote[] = [];
    for (const st of this.states) {
      if (symbols && symbols.length > 0 && !symbols.includes(st.spec.symbol)) continue;
      for (const vs of st.venues) {
        if (venues && venues.length > 0 && !venues.includes(vs.venue.id)) continue;
        out.push({ ...vs.quote });
      }
    }
    return out;
  }

  /** Composite (fair) price update for a symbol; with a venue, that venue's mid plus its L1. */
  priceUpdate(symbol: string, venue = "", previous?: string): PriceTick | undefined {
    const st = this.state(symbol);
    if (!st) return undefined;
    const vs = venue ? st.venues.find((v) => v.venue.id === venue) : undefined;
    if (venue && !vs) return undefined;
    const price = vs ? vs.quote.lastPrice : st.lastPrice.toFixed();
    const prev = new Decimal(previous ?? price);
    const change = new Decimal(price).minus(prev);
    return {
      symbol,
      price,
      volume: new Decimal(st.volume.toPrecision(12)).toNearest(st.spec.lot).toFixed(),
      timestamp: this.clockMs,
      source: vs ? vs.venue.id : this.source,
      changeInfo: {
        previousPrice: prev.toFixed(),
        change: change.toFixed(),
        changePercent: prev.isZero() ? "0" : change.div(prev).mul(100).toDecimalPlaces(6).toFixed(),
      },
      venue: vs ? vs.venue.id : "",
      bid: vs ? vs.quote.bid : "",
      ask: vs ? vs.quote.ask : "",
      bidSize: vs ? vs.quote.bidSize : "",
      askSize: vs ? vs.quote.askSize : "",
      sequence: vs ? vs.quote.sequence : this.steps,
      scenario: this.current,
    };
  }
}
