// signal: MarketSnapshot → keep the latest snapshot per venue+symbol (newer wins) → run the configured
// signal strategies (cross-venue arbitrage) on the strategy host over the fresh snapshots of the symbol → the
// approved legs become SignalGenerated with a deterministic id. State writes use event time, so a redelivery makes the same writes and the same signal.
import { Decimal, dec } from "../domain/decimal";
import { ArbitrageSignalStrategy, type SequencedQuote } from "../domain/strategies/arbitrageLegs";
import type { L1Quote } from "../domain/types";
import { buildBusEvent, causedBy } from "../events/build";
import type { ParsedEvent } from "../events/parse";
import { assertPublished } from "../ports/EventBus";
import { hostSignal, SignalRouter } from "./signalHost";
import type { BaseDependencies } from "./wiring/base";

export interface SignalOutcome {
  /** The snapshot was newer than the stored one (or an exact redelivery of it). */
  stored: boolean;
  duplicate: boolean;
  /** Signal ids published by this invocation. */
  signalIds: string[];
  /** Why no signal, when none. */
  skipped?: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

export async function handleMarketSnapshot(
  event: ParsedEvent<"MarketSnapshot">,
  deps: BaseDependencies,
): Promise<SignalOutcome> {
  const { data, meta } = event.detail;
  // Input the schema cannot know about: unknown symbol / venue are bad input, rejected before any write.
  deps.instruments.instrument(data.symbol);
  deps.instruments.venue(data.venue);
  const settings = await deps.settings.get();
  const quote: L1Quote = {
    ts: Date.parse(data.ts),
    venue: data.venue,
    symbol: data.symbol,
    bid: dec(data.bid, "bid"),
    ask: dec(data.ask, "ask"),
    bidSize: dec(data.bidSize, "bidSize"),
    askSize: dec(data.askSize, "askSize"),
  };
  const arb = settings.arbitrage;
  const inScope =
    settings.signalStrategies.includes("arbitrage") &&
    arb.symbols.includes(data.symbol) &&
    arb.venues.includes(data.venue);
  // Freshness is judged at the triggering snapshot's time: replays decide exactly as the first delivery did.
  const freshness = { now: quote.ts, maxAgeMs: settings.snapshotMaxAgeMs };
  // The other venues' snapshots by key (strongly consistent: one written a moment ago is seen), beside our write.
  const others = arb.venues.filter((v) => v !== data.venue);
  const [{ stored }, otherViews] = await Promise.all([
    deps.store.putSnapshot(quote, data.sequence),
    inScope ? deps.store.getSnapshots(others, data.symbol, freshness) : Promise.resolve([]),
  ]);
  let duplicate = false;
  if (!stored) {
    // Older than what we hold: ignore. The same sequence again is a redelivery: evaluate again (a retry after a
    // failed publish must still publish; the signal id is deterministic, so downstream deduplicates).
    const cur = await deps.store.getSnapshot(data.venue, data.symbol, {
      now: quote.ts,
      maxAgeMs: settings.snapshotMaxAgeMs,
    });
    if (cur?.sequence !== data.sequence) return { stored, duplicate, signalIds: [], skipped: "older snapshot" };
    duplicate = true;
  }
  if (!settings.signalStrategies.includes("arbitrage"))
    return { stored, duplicate, signalIds: [], skipped: "no strategy" };
  if (!arb.symbols.includes(data.symbol) || !arb.venues.includes(data.venue))
    return { stored, duplicate, signalIds: [], skipped: "not in the arbitrage scope" };

  // Ours is the snapshot just written (or, on a redelivery, the stored one of the same sequence).
  const own = { quote, sequence: data.sequence, ageMs: 0, stale: false };
  const freshViews = [own, ...otherViews]
    .filter((v) => !v.stale)
    .sort((a, b) => (a.quote.venue < b.quote.venue ? -1 : a.quote.venue > b.quote.venue ? 1 : 0));
  if (freshViews.length < 2) return { stored, duplicate, signalIds: [], skipped: "fewer than two fresh venues" };
  const sequences = new Map(freshViews.map((v) => [v.quote, v.sequence ?? 0]));
  const strategy = new ArbitrageSignalStrategy(
    settings.strategyId,
    { minSpreadBps: arb.minSpreadBps, maxQuantity: new Decimal(arb.maxQuantity) },
    (q) => sequences.get(q) ?? 0,
  );
  const router = new SignalRouter(arb.venues);
  hostSignal(
    strategy,
    quote,
    freshViews.map((v) => v.quote),
    deps.instruments,
    router,
  );
  const opp = strategy.signals[strategy.signals.length - 1];
  if (!opp) return { stored, duplicate, signalIds: [], skipped: "spread below threshold" };
  const signalId = opp.signalId;
  const routed = router.legsOf(signalId);
  if ("refused" in routed)
    return { stored, duplicate, signalIds: [], skipped: `leg refused: ${routed.refused.reason}` };
  const legs = routed.legs;

  if (arb.cooldownMs > 0) {
    // One signal per symbol per cooldown window of snapshot time; the claim stores the signal id, so the same
    // signal re-evaluated (redelivery) still passes and a different one in the window does not.
    const bucket = Math.floor(quote.ts / arb.cooldownMs);
    const claim = await deps.store.claimIdempotencyKey(
      `arb-cooldown#${settings.strategyId}#${data.symbol}#${bucket}`,
      { signalId },
      Math.max(60, Math.ceil((arb.cooldownMs * 2) / 1000)),
      bucket * arb.cooldownMs,
    );
    if (!claim.claimed && (claim.existing.result as { signalId?: string } | null)?.signalId !== signalId)
      return { stored, duplicate, signalIds: [], skipped: "cooldown" };
  }

  const s = opp.signal;
  const snap = (q: SequencedQuote) => ({
    venue: q.quote.venue,
    symbol: q.quote.symbol,
    bid: q.quote.bid.toFixed(),
    ask: q.quote.ask.toFixed(),
    sequence: q.sequence,
    ts: iso(q.quote.ts),
  });
  const signalTs = Math.max(opp.buy.quote.ts, opp.sell.quote.ts);
  const ev = buildBusEvent(
    "tse.engine",
    "SignalGenerated",
    {
      signalId,
      strategyId: settings.strategyId,
      kind: "arbitrage",
      legs: legs.map((l) => ({
        venue: l.venue,
        symbol: l.symbol,
        side: l.side,
        quantity: l.quantity.toFixed(),
        ...(l.limitPrice !== undefined ? { limitPrice: l.limitPrice.toFixed() } : {}),
        type: l.type,
        timeInForce: l.timeInForce,
      })),
      reason: `buy ${s.symbol} on ${s.buyVenue} at ${s.buyPrice.toFixed()}, sell on ${s.sellVenue} at ${s.sellPrice.toFixed()}: net ${s.netSpreadBps.toFixed(2)} bps > ${arb.minSpreadBps} bps after taker fees`,
      inputs: {
        snapshots: [snap(opp.buy), snap(opp.sell)],
        figures: {
          grossSpreadBps: new Decimal(s.grossSpreadBps).toDecimalPlaces(4).toFixed(),
          netSpreadBps: new Decimal(s.netSpreadBps).toDecimalPlaces(4).toFixed(),
          thresholdBps: new Decimal(arb.minSpreadBps).toFixed(),
        },
      },
      expiresAt: iso(signalTs + arb.signalTtlMs),
    },
    // Deterministic event id and time: a re-published signal is the same event.
    { ...causedBy(meta, signalTs), eventId: signalId },
  );
  assertPublished(await deps.bus.publish([ev]));
  return { stored, duplicate, signalIds: [signalId] };
}
