// The quoter's strategy registry: spec validation (type, shard symbols and venues), run states, status views.
// Each registered strategy is a slot the engine's StrategyHost runs; the slot is also the strategy's context.
import { type Decimal, ZERO } from "../lib/domain/decimal";
import { InvalidFieldError } from "../lib/domain/errors";
import type { Portfolio } from "../lib/domain/portfolio/Portfolio";
import { createStrategy } from "../lib/domain/strategies/registry";
import type { OpenOrderView, Strategy, StrategyContext } from "../lib/domain/strategies/Strategy";
import type { Instrument, L1Quote, Venue } from "../lib/domain/types";
import type { TrackedOrder } from "../lib/engine/OrderTracker";
import type { StrategySlot } from "../lib/engine/StrategyHost";
import type { QuoterStrategySpec, StrategyRunState, StrategyStatusView } from "./types";

/** What a strategy's context reads from the quoter. */
export interface QuoterMarketView {
  readonly portfolio: Portfolio;
  readonly venueList: readonly Venue[];
  latestQuote(venue: string, symbol: string): L1Quote | undefined;
  allQuotes(): Iterable<L1Quote>;
  instrumentOf(symbol: string): Instrument | undefined;
  venueOf(id: string): Venue | undefined;
}

/** One registered strategy; `now` is set before every callback (no allocation per tick). */
export class QuoterSlot implements StrategySlot, StrategyContext {
  now = 0;
  readonly ctx = this;
  state: StrategyRunState = "STOPPED";
  message = "";
  startedAt = 0;
  updatedAt: number;
  readonly symbolSet: Set<string>;
  readonly venueSet: Set<string>;
  constructor(
    readonly id: string,
    readonly type: string,
    readonly strategy: Strategy,
    readonly symbolList: string[],
    readonly venueList: string[],
    readonly paramsJson: string,
    readonly open: TrackedOrder[],
    private readonly market: QuoterMarketView,
    now: number,
  ) {
    this.symbolSet = new Set(symbolList);
    this.venueSet = new Set(venueList);
    this.updatedAt = now;
  }
  position(symbol: string): Decimal {
    return this.market.portfolio.position(this.id, symbol)?.quantity ?? ZERO;
  }
  openOrders(): readonly OpenOrderView[] {
    return this.open;
  }
  quote(venue: string, symbol: string): L1Quote | undefined {
    return this.market.latestQuote(venue, symbol);
  }
  quotes(): Iterable<L1Quote> {
    return this.market.allQuotes();
  }
  instrument(symbol: string): Instrument | undefined {
    return this.market.instrumentOf(symbol);
  }
  venue(id: string): Venue | undefined {
    return this.market.venueOf(id);
  }
  venues(): readonly Venue[] {
    return this.market.venueList;
  }
}

export interface RegistryOptions {
  symbols: readonly string[];
  venues: readonly string[];
  allowChaosStrategies: boolean;
  /** Further registered strategy types (plug-ins); never unlocks chaos-*. */
  pluginStrategyTypes?: readonly string[];
  market: QuoterMarketView;
  now: () => number;
  /** The open-order list of a strategy (kept by the order tracker). */
  openOf: (strategyId: string) => TrackedOrder[];
}

export class StrategyRegistry {
  private readonly slots = new Map<string, QuoterSlot>();
  /** The RUNNING slots (rebuilt on every state change, read on every tick). */
  running: QuoterSlot[] = [];

  constructor(private readonly opts: RegistryOptions) {}

  get(id: string): QuoterSlot | undefined {
    return this.slots.get(id);
  }
  ids(): IterableIterator<string> {
    return this.slots.keys();
  }
  get size(): number {
    return this.slots.size;
  }

  /** Validates and registers a strategy (RUNNING when `run`). A stopped one may be registered again. */
  add(spec: QuoterStrategySpec, run: boolean): QuoterSlot {
    const o = this.opts;
    if (!spec.id || !/^[A-Za-z0-9_.:-]{1,64}$/.test(spec.id))
      throw new InvalidFieldError("strategy_id", spec.id, "must be 1-64 of letters, digits, _ . : -");
    const existing = this.slots.get(spec.id);
    if (existing && existing.state !== "STOPPED" && existing.state !== "ERROR")
      throw new InvalidFieldError("strategy_id", spec.id, `already ${existing.state}`);
    const type = spec.type.replaceAll("_", "-");
    // Chaos strategies (risk-layer tests) only when the embedding opted in (the local session does; prod never).
    const chaosOk = o.allowChaosStrategies && type.startsWith("chaos-");
    const pluginOk = !type.startsWith("chaos-") && o.pluginStrategyTypes?.includes(type) === true;
    if (type !== "market-making" && type !== "avellaneda-stoikov" && !chaosOk && !pluginOk)
      throw new InvalidFieldError("strategy_type", spec.type, "the quoter runs market-making or avellaneda-stoikov");
    const symbols = spec.symbols && spec.symbols.length > 0 ? spec.symbols : [...o.symbols];
    const venues = spec.venues && spec.venues.length > 0 ? spec.venues : [...o.venues];
    symbols.forEach((s, i) => {
      if (!o.symbols.includes(s)) throw new InvalidFieldError(`symbols[${i}]`, s, "not in this quoter's shard");
    });
    venues.forEach((v, i) => {
      if (!o.venues.includes(v)) throw new InvalidFieldError(`venues[${i}]`, v, "not subscribed by this quoter");
    });
    const strategy = createStrategy(type, spec.id, { ...(spec.params ?? {}), symbols, venues });
    const now = o.now();
    const slot = new QuoterSlot(
      spec.id,
      type,
      strategy,
      symbols,
      venues,
      JSON.stringify(spec.params ?? {}),
      o.openOf(spec.id),
      o.market,
      now,
    );
    this.slots.set(spec.id, slot);
    if (run) {
      slot.startedAt = now;
      this.setState(slot, "RUNNING", "started");
    }
    return slot;
  }

  /** A slot for a strategy with positions here but no registration (force-closing what an earlier run left). */
  detached(strategyId: string): QuoterSlot {
    const idle: Strategy = {
      id: strategyId,
      name: "detached",
      onMarket: () => [],
      onFill: () => [],
      onTimer: () => [],
    };
    const o = this.opts;
    return new QuoterSlot(strategyId, "detached", idle, [], [], "{}", o.openOf(strategyId), o.market, o.now());
  }

  setState(slot: QuoterSlot, state: StrategyRunState, message: string): void {
    slot.state = state;
    slot.message = message;
    slot.updatedAt = this.opts.now();
    this.running = [...this.slots.values()].filter((r) => r.state === "RUNNING");
  }

  status(id: string, unrealized: (id: string) => string): StrategyStatusView | undefined {
    const rt = this.slots.get(id);
    if (!rt) return undefined;
    return {
      id: rt.id,
      type: rt.type,
      state: rt.state,
      symbols: rt.symbolList,
      venues: rt.venueList,
      message: rt.message,
      startedAt: rt.startedAt,
      updatedAt: rt.updatedAt,
      openOrders: rt.open.length,
      realizedPnl: this.opts.market.portfolio.realizedPnl(id).toFixed(),
      unrealizedPnl: unrealized(id),
      paramsJson: rt.paramsJson,
    };
  }
}
