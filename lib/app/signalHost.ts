// The signal function as a strategy host: its strategies run in lib/engine's StrategyHost like the quoter's and
// the backtester's, and the router, instead of placing orders, keeps each approved intent as a leg of the signal
// the function publishes. No risk engine here: order-placement checks every leg against the persisted risk state.
import { type Decimal, ZERO } from "../domain/decimal";
import type { InstrumentRegistry } from "../domain/instruments";
import type { StrategyContext } from "../domain/strategies/Strategy";
import type { L1Quote, OrderIntent } from "../domain/types";
import { type IntentRouter, type Refusal, StrategyHost, type StrategySlot } from "../engine/StrategyHost";

/** Intents a SignalGenerated leg can carry: a venue in the strategy's scope and a priced limit or a market order. */
export class SignalRouter implements IntentRouter<StrategySlot> {
  /** Approved intents, in the order the strategy emitted them. */
  readonly legs: OrderIntent[] = [];
  /** Refused intents and why. */
  readonly refusals: { intent: OrderIntent; refusal: Refusal }[] = [];
  constructor(private readonly venues: readonly string[]) {}

  cancel(): void {
    // A signal strategy rests nothing, so it has nothing to cancel; a cancel intent is dropped.
  }

  precheck(_slot: StrategySlot, it: OrderIntent): Refusal | undefined {
    if (!this.venues.includes(it.venue))
      return { kind: "REJECTED", rule: "signal-scope", reason: `venue ${it.venue} is not in the signal's scope` };
    if (it.type === "LIMIT" && it.limitPrice === undefined)
      return { kind: "REJECTED", rule: "signal-leg", reason: "a LIMIT leg needs a limit price" };
    return undefined;
  }

  place(_slot: StrategySlot, it: OrderIntent): void {
    this.legs.push(it);
  }

  refused(_slot: StrategySlot, intent: OrderIntent, _now: number, refusal: Refusal): void {
    this.refusals.push({ intent, refusal });
  }

  /** The legs of this signal (tagged `arb:<signalId>:...`), or the first refusal when any leg was refused. */
  legsOf(signalId: string): { legs: OrderIntent[] } | { refused: Refusal } {
    const prefix = `arb:${signalId}:`;
    const mine = (it: OrderIntent) => it.tag?.startsWith(prefix) === true;
    const r = this.refusals.find((x) => mine(x.intent));
    return r ? { refused: r.refusal } : { legs: this.legs.filter(mine) };
  }
}

/** What a signal strategy sees: the fresh snapshots of this invocation, no positions and no open orders. */
function signalContext(
  now: number,
  quotes: readonly L1Quote[],
  instruments: InstrumentRegistry,
): StrategyContext & { now: number } {
  return {
    now,
    position: (): Decimal => ZERO,
    openOrders: () => [],
    quote: (venue, symbol) => quotes.find((q) => q.venue === venue && q.symbol === symbol),
    quotes: () => quotes,
    instrument: (symbol) => instruments.findInstrument(symbol),
    venue: (id) => instruments.findVenue(id),
    venues: () => instruments.listVenues(),
  };
}

/** Runs one snapshot through a signal strategy on the host; the router holds the approved legs. */
export function hostSignal(
  strategy: StrategySlot["strategy"],
  quote: L1Quote,
  fresh: readonly L1Quote[],
  instruments: InstrumentRegistry,
  router: SignalRouter,
): StrategyHost<StrategySlot> {
  const host = new StrategyHost<StrategySlot>({ router });
  const slot: StrategySlot = { id: strategy.id, strategy, ctx: signalContext(quote.ts, fresh, instruments) };
  // No risk engine reads the mid here; it is the snapshot's, for the router's checks.
  host.onMarket(slot, quote, quote.ts, (quote.bid.toNumber() + quote.ask.toNumber()) / 2);
  return host;
}
