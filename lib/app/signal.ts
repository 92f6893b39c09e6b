// signal: MarketSnapshot (or a MarketSnapshotBatch) → keep the latest snapshot per venue+symbol (newer wins) → run
// the configured signal strategies (cross-venue arbitrage) on the strategy host over the fresh snapshots of the
// symbol → the approved legs become SignalGenerated with a deterministic id. State writes use event time, so a
// redelivery makes the same writes and the same signal.
import { Decimal, dec } from "../domain/decimal";
import { ArbitrageSignalStrategy, type SequencedQuote } from "../domain/strategies/arbitrageLegs";
import type { L1Quote } from "../domain/types";
import { buildBusEvent, causedBy } from "../events/build";
import type { ParsedEvent } from "../events/parse";
import type { EventMeta, MarketSnapshot } from "../events/registry";
import { assertPublished } from "../ports/EventBus";
import type { EngineSettings } from "./settings";
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
  /** Snapshots in the triggering batch (MarketSnapshotBatch only). */
  snapshots?: number;
}

const iso = (ms: number) => new Date(ms).toISOString();

const quoteOf = (d: MarketSnapshot): L1Quote => ({
  ts: Date.parse(d.ts),
  venue: d.venue,
  symbol: d.symbol,
  bid: dec(d.bid, "bid"),
  ask: dec(d.ask, "ask"),
  bidSize: dec(d.bidSize, "bidSize"),
  askSize: dec(d.askSize, "askSize"),
});

/**
 * MarketSnapshotBatch → the same evaluation per symbol, every venue taken from the batch itself (the bridge puts the
 * latest of every book in each batch), so no read. Freshness is judged at the symbol's newest snapshot in the batch.
 * The snapshots are stored (conditional puts, newer wins) only on a checkpoint batch: nothing on this path reads them
 * back, only reporting's marks do. A redelivered batch decides the same (deterministic signal ids, cooldown claims).
 */
export async function handleMarketSnapshotBatch(
  event: ParsedEvent<"MarketSnapshotBatch">,
  deps: BaseDependencies,
): Promise<SignalOutcome> {
  const { data, meta } = event.detail;
  // Bad input anywhere in the batch is refused before any write.
  const lots = new Map<string, Decimal>();
  for (const s of data.snapshots) {
    lots.set(s.symbol, deps.instruments.instrument(s.symbol).lotSize);
    deps.instruments.venue(s.venue);
  }
  const settings = await deps.settings.get();
  const quotes = data.snapshots.map((d) => ({ quote: quoteOf(d), sequence: d.sequence }));
  const stored = data.checkpoint
    ? (await Promise.all(quotes.map((q) => deps.store.putSnapshot(q.quote, q.sequence)))).some((r) => r.stored)
    : false;
  const base = { stored, duplicate: false, snapshots: quotes.length };
  if (!settings.signalStrategies.includes("arbitrage")) return { ...base, signalIds: [], skipped: "no strategy" };
  const arb = settings.arbitrage;
  const symbols = arb.symbols.filter((sym) => lots.has(sym));
  const results = await Promise.all(
    symbols.map((symbol) => {
      const group = quotes.filter((q) => q.quote.symbol === symbol && arb.venues.includes(q.quote.venue));
      const newest = Math.max(...group.map((q) => q.quote.ts));
      const fresh = group
        .filter((q) => newest - q.quote.ts <= settings.snapshotMaxAgeMs)
        .sort((a, b) => (a.quote.venue < b.quote.venue ? -1 : a.quote.venue > b.quote.venue ? 1 : 0));
      const trigger = group.find((q) => q.quote.ts === newest)!.quote;
      return evaluateArbitrage(symbol, fresh, trigger, settings, deps, meta);
    }),
  );
  const signalIds = results.flatMap((r) => r.signalIds);
  const skipped = results.flatMap((r, i) => (r.skipped ? [`${symbols[i]}: ${r.skipped}`] : []));
  return {
    ...base,
    signalIds,
    ...(signalIds.length === 0 ? { skipped: skipped.join("; ") || "not in the arbitrage scope" } : {}),
  };
}

export async function handleMarketSnapshot(
  event: ParsedEvent<"MarketSnapshot">,
  deps: BaseDependencies,
): Promise<SignalOutcome> {
  const { data, meta } = event.detail;
  // Input the schema cannot know about: unknown symbol / venue are bad input, rejected before any write.
  deps.instruments.instrument(data.symbol);
  deps.instruments.venue(data.venue);
  const settings = await deps.settings.get();
  const quote = quoteOf(data);
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
  const fresh: SequencedQuote[] = [own, ...otherViews]
    .filter((v) => !v.stale)
    .sort((a, b) => (a.quote.venue < b.quote.venue ? -1 : a.quote.venue > b.quote.venue ? 1 : 0))
    .map((v) => ({ quote: v.quote, sequence: v.sequence ?? 0 }));
  const out = await evaluateArbitrage(data.symbol, fresh, quote, settings, deps, meta);
  return { stored, duplicate, ...out };
}

/**
 * Arbitrage over the fresh quotes of one symbol (sorted by venue), hosted on the StrategyHost: the cooldown claim in
 * the window of the triggering snapshot's time, then SignalGenerated.
 */
async function evaluateArbitrage(
  symbol: string,
  fresh: SequencedQuote[],
  trigger: L1Quote,
  settings: EngineSettings,
  deps: BaseDependencies,
  meta: EventMeta,
): Promise<{ signalIds: string[]; skipped?: string }> {
  const arb = settings.arbitrage;
  if (fresh.length < 2) return { signalIds: [], skipped: "fewer than two fresh venues" };
  const sequences = new Map(fresh.map((v) => [v.quote, v.sequence ?? 0]));
  const strategy = new ArbitrageSignalStrategy(
    settings.strategyId,
    { minSpreadBps: arb.minSpreadBps, maxQuantity: new Decimal(arb.maxQuantity) },
    (q) => sequences.get(q) ?? 0,
  );
  const router = new SignalRouter(arb.venues);
  hostSignal(
    strategy,
    trigger,
    fresh.map((v) => v.quote),
    deps.instruments,
    router,
  );
  const opp = strategy.signals[strategy.signals.length - 1];
  if (!opp) return { signalIds: [], skipped: "spread below threshold" };
  const signalId = opp.signalId;
  const routed = router.legsOf(signalId);
  if ("refused" in routed) return { signalIds: [], skipped: `leg refused: ${routed.refused.reason}` };
  const legs = routed.legs;

  if (arb.cooldownMs > 0) {
    // One signal per symbol per cooldown window of snapshot time; the claim stores the signal id, so the same
    // signal re-evaluated (redelivery) still passes and a different one in the window does not.
    const bucket = Math.floor(trigger.ts / arb.cooldownMs);
    const claim = await deps.store.claimIdempotencyKey(
      `arb-cooldown#${settings.strategyId}#${symbol}#${bucket}`,
      { signalId },
      Math.max(60, Math.ceil((arb.cooldownMs * 2) / 1000)),
      bucket * arb.cooldownMs,
    );
    if (!claim.claimed && (claim.existing.result as { signalId?: string } | null)?.signalId !== signalId)
      return { signalIds: [], skipped: "cooldown" };
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
  return { signalIds: [signalId] };
}
