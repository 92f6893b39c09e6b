// order-placement: SignalGenerated → settings (config client, cached) + positions → size (sizeOrder with the
// risk engine's headroom) → domain RiskEngine → risk monitor CheckOrder (unreachable → FAIL CLOSED for
// risk-increasing legs) → record the decision (conditional put) → pending orders with deterministic client
// order ids (conditional put) → place (risk-checked) → status → OrderPlaced / OrderRejected / OrderDenied,
// then leg risk as the domain decides (cancel resting siblings of a failed leg, hedge the filled difference).

import { Decimal, dec } from "../domain/decimal";
import { InvalidFieldError } from "../domain/errors";
import { clientOrderIdFor, createOrder, type Order } from "../domain/orders";
import type { OrderStatus } from "../domain/orders/orderStatus";
import type { Position } from "../domain/portfolio/position";
import { type RiskContext, RiskEngine } from "../domain/risk/RiskEngine";
import { sizeOrder } from "../domain/sizing";
import { type LegOutcome, resolveLegRisk } from "../domain/strategies/arbitrageLegs";
import type { L1Quote, OrderIntent } from "../domain/types";
import { OrderJournal, OrderNotPlacedError } from "../engine/OrderJournal";
import { buildBusEvent, causedBy } from "../events/build";
import type { ParsedEvent } from "../events/parse";
import type { EventMeta } from "../events/registry";
import { GrpcClientError, NotFoundError } from "../grpc/errors";
import { assertPublished, type BusEvent } from "../ports/EventBus";
import type { VenueOrder, VenueStatus } from "../ports/Exchange";
import type { SignalRecord } from "../ports/StateStore";
import type { EngineDependencies } from "./dependencies";
import type { EngineSettings } from "./settings";
import { setEngineTradingState } from "./tradingState";

type SignalData = ParsedEvent<"SignalGenerated">["detail"]["data"];

export interface PlannedLeg {
  clientOrderId: string;
  intent: OrderIntent;
}

export interface LegResult {
  clientOrderId: string;
  status: OrderStatus;
  /** This invocation sent it to the exchange (false: another delivery owns it, or it was already done). */
  placed: boolean;
  exchangeStatus?: VenueStatus;
  filled?: string;
  error?: string;
}

export interface PlacementOutcome {
  signalId: string;
  decision: "approved" | "denied";
  /** The decision was already recorded by an earlier delivery. */
  duplicate: boolean;
  rule?: string;
  reason?: string;
  legs: LegResult[];
  canceled: string[];
  hedge?: LegResult;
}

/** Gross notional Σ|qty| × mark (mark: the symbol's mid when known, else the entry price). */
function notional(positions: readonly Position[], marks: ReadonlyMap<string, number>): number {
  let n = 0;
  for (const p of positions)
    n += Math.abs(p.quantity.toNumber()) * (marks.get(p.symbol) ?? p.averageEntryPrice.toNumber());
  return n;
}

const mine = (all: readonly Position[], strategyId: string) => all.filter((p) => p.strategyId === strategyId);

/** Net PnL of positions: realized − fees + unrealized at the mark (mid when known; no unrealized otherwise). */
function strategyNetPnl(positions: readonly Position[], marks: ReadonlyMap<string, number>): number {
  // Exact decimals, so the breaker's recorded value is the ledger's number, not float noise.
  let pnl = new Decimal(0);
  for (const p of positions) {
    pnl = pnl.plus(p.realizedPnl).minus(p.fees);
    const mark = marks.get(p.symbol);
    if (mark !== undefined) pnl = pnl.plus(p.quantity.times(new Decimal(mark).minus(p.averageEntryPrice)));
  }
  return pnl.toNumber();
}

function midsFrom(data: SignalData): Map<string, number> {
  const sums = new Map<string, { s: number; n: number }>();
  for (const q of data.inputs.snapshots) {
    const m = (Number(q.bid) + Number(q.ask)) / 2;
    const e = sums.get(q.symbol) ?? { s: 0, n: 0 };
    sums.set(q.symbol, { s: e.s + m, n: e.n + 1 });
  }
  return new Map([...sums].map(([k, v]) => [k, v.s / v.n]));
}

function quotesFrom(data: SignalData): L1Quote[] {
  return data.inputs.snapshots.map((q) => ({
    ts: Date.parse(q.ts),
    venue: q.venue,
    symbol: q.symbol,
    bid: dec(q.bid),
    ask: dec(q.ask),
    bidSize: new Decimal(0),
    askSize: new Decimal(0),
  }));
}

interface Decision {
  approved: boolean;
  rule?: string;
  reason?: string;
  legs: PlannedLeg[];
  riskCheckIds: string[];
  details: Record<string, unknown>;
}

/** Size and risk-check every leg; the legs of one signal get one common quantity (the smallest allowed). */
async function decide(
  data: SignalData,
  deps: EngineDependencies,
  settings: EngineSettings,
  now: number,
): Promise<Decision> {
  // The engine-wide trading state (kill switch / breaker escalation) is persisted: a fresh engine per
  // invocation would otherwise always start ACTIVE and place risk-increasing orders while HALTED.
  const [persisted, all] = await Promise.all([deps.store.getTradingState(), deps.store.listPositions()]);
  const engine = new RiskEngine({ limits: settings.riskLimits as never, initialState: persisted?.state ?? "ACTIVE" });
  const ownState = persisted?.strategies[data.strategyId];
  if (ownState && ownState !== "ACTIVE") engine.setTradingState(ownState, persisted.reason, now, data.strategyId);
  const mids = midsFrom(data);
  // The per-strategy loss breaker (−$50k by default) from the stored positions: realized − fees + unrealized at the
  // snapshot mids. A trip is persisted, so it holds for every later signal until someone lifts it.
  const trip = engine.markStrategyPnl(data.strategyId, strategyNetPnl(mine(all, data.strategyId), mids), now);
  if (trip)
    await setEngineTradingState(deps.store, {
      state: trip.to,
      reason: trip.reason,
      at: now,
      strategyId: data.strategyId,
      source: trip.rule,
    });
  const state = engine.effectiveState(data.strategyId);
  const own = mine(all, data.strategyId);
  const net = (symbol: string, ps: readonly Position[]) =>
    ps.filter((p) => p.symbol === symbol).reduce((s, p) => s + p.quantity.toNumber(), 0);
  const deny = (rule: string, reason: string, legs: PlannedLeg[] = []): Decision => ({
    approved: false,
    rule,
    reason,
    legs,
    riskCheckIds: [],
    details: {},
  });

  // HALTED: only cancels, and a signal never is one. Denied before sizing so the record names the state.
  if (state === "HALTED")
    return deny(
      "trading-state",
      `trading is HALTED: only cancels are accepted (limit HALTED, value ${data.legs.length} new order leg(s); ` +
        `${trip ? `${trip.rule}: ${trip.reason}, limit ${trip.limit}, value ${trip.value}` : (persisted?.reason ?? "halted")})`,
    );

  // 1. Size: every constraint, the legs' common minimum, rounded to the lot.
  let qty: Decimal | undefined;
  let boundBy = "configured";
  for (const leg of data.legs) {
    const instrument = deps.instruments.instrument(leg.symbol);
    const mid = mids.get(leg.symbol) ?? 0;
    const price = leg.limitPrice ?? (mid > 0 ? String(mid) : undefined);
    if (price === undefined) return deny("mark-price", `no price for ${leg.symbol}: market leg without a snapshot`);
    const ctx: RiskContext = {
      mid,
      position: net(leg.symbol, all),
      strategyPosition: net(leg.symbol, own),
      strategyNotional: notional(own, mids),
      portfolioNotional: notional(all, mids),
      availableQuote: Number(settings.availableQuote),
      feeRate: deps.instruments.venue(leg.venue).takerFee.toNumber(),
    };
    const headroom = engine.headroom(
      { strategyId: data.strategyId, symbol: leg.symbol, side: leg.side },
      Number(price),
      ctx,
      now,
    );
    const sized = sizeOrder({ instrument, configuredQty: leg.quantity, price, headroom });
    if (qty === undefined || sized.quantity.lt(qty)) {
      qty = sized.quantity;
      boundBy = sized.boundBy;
    }
  }
  if (!qty?.gt(0))
    return deny(
      String(boundBy),
      boundBy === "trading-state"
        ? `trading is ${state}: only risk-reducing orders are accepted (limit ${state}, value sized to zero)`
        : `sized to zero: ${boundBy} leaves no room`,
    );

  const legs = planLegs(data, qty);

  // 2. Domain risk engine, legs in order against the position they would leave.
  const running = new Map<string, number>();
  const increases: boolean[] = [];
  for (const { intent } of legs) {
    const before = running.get(intent.symbol) ?? net(intent.symbol, own);
    const ctx: RiskContext = {
      mid: mids.get(intent.symbol) ?? 0,
      position: net(intent.symbol, all) + (before - net(intent.symbol, own)),
      strategyPosition: before,
      strategyNotional: notional(own, mids),
      portfolioNotional: notional(all, mids),
      availableQuote: Number(settings.availableQuote),
      feeRate: deps.instruments.venue(intent.venue).takerFee.toNumber(),
    };
    const d = engine.check(intent, ctx, now);
    if (!d.approved)
      return deny(d.denial.rule, `${d.denial.message} (limit ${d.denial.limit}, value ${d.denial.value})`, legs);
    const after = before + (intent.side === "BUY" ? 1 : -1) * intent.quantity.toNumber();
    increases.push(Math.abs(after) > Math.abs(before) + 1e-12);
    running.set(intent.symbol, after);
  }

  // 3. The risk monitor. Unreachable / circuit open → fail closed for risk-increasing legs.
  const riskCheckIds: string[] = [];
  for (const [i, { intent, clientOrderId }] of legs.entries()) {
    const r = await deps.riskMonitor.checkOrderFailClosed({
      strategyId: intent.strategyId,
      venue: intent.venue,
      symbol: intent.symbol,
      side: intent.side,
      quantity: intent.quantity,
      price: intent.limitPrice ?? new Decimal(mids.get(intent.symbol) ?? 0),
      clientOrderId,
    });
    if (r.approved) {
      riskCheckIds.push(r.checkId);
      continue;
    }
    if (r.failedClosed && !increases[i]) {
      riskCheckIds.push("");
      continue; // a reducing leg may proceed without the monitor
    }
    return deny(r.failedClosed ? "risk-monitor-unavailable" : "risk-monitor", r.reasons.join("; ") || "denied", legs);
  }
  return {
    approved: true,
    legs,
    riskCheckIds,
    // Risk check ids go to the exchange and the logs, not into the record: the record must be the same
    // whichever of two concurrent deliveries writes it.
    details: { quantity: qty.toFixed(), boundBy },
  };
}

const legsFromRecord = (rec: SignalRecord, data: SignalData): PlannedLeg[] => {
  const quantity = String((rec.details as { quantity?: string } | undefined)?.quantity ?? "");
  if (!quantity)
    throw new InvalidFieldError("signal.details.quantity", quantity, "approved signal without a sized quantity");
  return planLegs(data, dec(quantity));
};

/** One order per signal leg, all of the sized quantity, with the client order id derived from the signal. */
const planLegs = (data: SignalData, quantity: Decimal): PlannedLeg[] =>
  data.legs.map((leg, i) => ({
    clientOrderId: clientOrderIdFor(data.signalId, i),
    intent: {
      strategyId: data.strategyId,
      venue: leg.venue,
      symbol: leg.symbol,
      side: leg.side,
      type: leg.type,
      timeInForce: leg.timeInForce,
      postOnly: false,
      quantity,
      ...(leg.limitPrice !== undefined ? { limitPrice: dec(leg.limitPrice) } : {}),
      tag: `${data.kind}:${data.signalId}:${i}`,
    },
  }));

interface PlaceContext {
  deps: EngineDependencies;
  journal: OrderJournal;
  data: SignalData;
  meta: EventMeta;
  now: number;
  riskCheckIds: string[];
  events: BusEvent[];
}

function orderEventData(o: Order, exStatus: VenueStatus, legIndex: number, reason?: string) {
  return {
    orderId: o.orderId,
    clientOrderId: o.clientOrderId,
    ...(o.exchangeOrderId ? { exchangeOrderId: o.exchangeOrderId } : {}),
    strategyId: o.strategyId,
    ...(o.signalId ? { signalId: o.signalId } : {}),
    legIndex,
    venue: o.venue,
    symbol: o.symbol,
    side: o.side,
    type: o.type,
    timeInForce: o.timeInForce,
    quantity: o.quantity.toFixed(),
    ...(o.limitPrice ? { limitPrice: o.limitPrice.toFixed() } : {}),
    status: exStatus,
    ...(reason ? { reason } : {}),
  };
}

/**
 * Place one pending order. Whoever moves it pending-new → submitted (a version-checked write) sends it, so two
 * deliveries of one signal never both send; a leg left `submitted` by a crashed delivery is reconciled with
 * the exchange (GetOrder by client order id, then PlaceOrder, which the exchange deduplicates) on the retry.
 */
async function placeLeg(
  pc: PlaceContext,
  order: Order,
  version: number,
  legIndex: number,
): Promise<{ result: LegResult; outcome?: LegOutcome }> {
  const { deps, journal, now } = pc;
  const coid = order.clientOrderId;
  // `order` is the record at `version` (just created or read): no second read.
  const owner = order.status === "pending-new" && (await journal.claim(order, version, now));
  let ex: VenueOrder | undefined;
  if (!owner) {
    const cur = await deps.store.getOrder(coid);
    // Another delivery owns it and got an answer, or it already moved on: nothing to send.
    if (cur?.order.status !== "submitted" || cur.order.exchangeOrderId)
      return { result: { clientOrderId: coid, status: cur?.order.status ?? order.status, placed: false } };
    // Submitted but no answer recorded (owner in flight, or it crashed): ask the exchange before sending.
    try {
      ex = await deps.exchange.getOrder({ clientOrderId: coid });
    } catch (e) {
      if (!(e instanceof NotFoundError)) throw e;
    }
  }
  let error: string | undefined;
  if (!ex) {
    try {
      const res = await deps.exchange.placeOrder({
        clientOrderId: coid,
        venue: order.venue,
        symbol: order.symbol,
        side: order.side,
        type: order.type,
        quantity: order.quantity,
        ...(order.limitPrice ? { price: order.limitPrice } : {}),
        timeInForce: order.timeInForce,
        postOnly: order.postOnly,
        strategyId: order.strategyId,
        riskChecked: true,
        riskCheckId: pc.riskCheckIds[legIndex] ?? "",
      });
      ex = res.order;
    } catch (e) {
      // Business refusals are final; a peer failure is left for the retry (the order stays submitted).
      if (
        e instanceof OrderNotPlacedError ||
        (e instanceof GrpcClientError && !e.transient && e.kind !== "circuit-open")
      )
        error = e.message;
      else throw e;
    }
  }
  const exStatus: VenueStatus = ex ? ex.venueStatus : "REJECTED";
  const filled = ex?.filledQuantity ? dec(ex.filledQuantity) : new Decimal(0);
  let stored: Order | undefined;
  switch (exStatus) {
    case "NEW":
    case "PARTIALLY_FILLED":
      stored = await journal.moveOrder(coid, "accepted", now, { exchangeOrderId: ex!.orderId });
      break;
    case "FILLED":
      // Nothing to write: the fills (fill-handling) take it to filled. Writing here would race them.
      stored = (await deps.store.getOrder(coid))?.order;
      break;
    case "EXPIRED":
    case "CANCELED":
      // IOC remainder. Fills still in flight are booked as late fills on the terminal order.
      stored = await journal.moveOrder(coid, exStatus === "EXPIRED" ? "expired" : "canceled", now, {
        exchangeOrderId: ex!.orderId,
      });
      break;
    default:
      error ??= ex?.rejectReason || `exchange status ${exStatus}`;
      stored = await journal.moveOrder(coid, "rejected", now, {
        errorMessage: error,
        ...(ex?.orderId ? { exchangeOrderId: ex.orderId } : {}),
      });
  }
  const o = stored ?? order;
  const causal = { ...causedBy(pc.meta, now) };
  if (exStatus === "REJECTED" || error) {
    pc.events.push(
      buildBusEvent(
        "tse.engine",
        "OrderRejected",
        {
          ...orderEventData(o, "REJECTED", legIndex, error ?? "rejected"),
          status: "REJECTED",
          reason: error ?? "rejected",
        },
        { ...causal, eventId: `${coid}:rejected` },
      ),
    );
  } else {
    const st = exStatus as "NEW" | "PARTIALLY_FILLED" | "FILLED" | "EXPIRED" | "CANCELED";
    pc.events.push(
      buildBusEvent(
        "tse.engine",
        "OrderPlaced",
        {
          ...orderEventData({ ...o, exchangeOrderId: ex?.orderId ?? o.exchangeOrderId }, st, legIndex),
          status: st,
          filledQuantity: filled.toFixed(),
        },
        { ...causal, eventId: `${coid}:placed` },
      ),
    );
  }
  return {
    result: {
      clientOrderId: coid,
      status: o.status,
      placed: true,
      exchangeStatus: exStatus,
      filled: filled.toFixed(),
      ...(error ? { error } : {}),
    },
    outcome: {
      clientOrderId: coid,
      venue: order.venue,
      side: order.side,
      quantity: order.quantity,
      filled,
      open: exStatus === "NEW" || exStatus === "PARTIALLY_FILLED",
      failed: exStatus === "REJECTED" || error !== undefined,
    },
  };
}

export async function handleSignalGenerated(
  event: ParsedEvent<"SignalGenerated">,
  deps: EngineDependencies,
): Promise<PlacementOutcome> {
  const { data, meta } = event.detail;
  for (const [i, leg] of data.legs.entries()) {
    // Unknown symbol / venue are bad input: rejected before anything is written.
    try {
      deps.instruments.instrument(leg.symbol);
      deps.instruments.venue(leg.venue);
    } catch (e) {
      if (e instanceof InvalidFieldError) throw new InvalidFieldError(`data.legs.${i}.${e.field}`, e.value, e.reason);
      throw e;
    }
  }
  // State is written at event time, so a redelivery writes exactly what the first delivery wrote.
  const now = Date.parse(meta.occurredAt);
  const settings = await deps.settings.get();
  const events: BusEvent[] = [];
  let record = await deps.store.getSignal(data.signalId);
  const duplicate = record !== undefined;
  let riskCheckIds: string[] = [];
  let legs: PlannedLeg[];
  if (!record) {
    const expired = data.expiresAt !== undefined && deps.clock() > Date.parse(data.expiresAt);
    const d: Decision = expired
      ? {
          approved: false,
          rule: "signal-expired",
          reason: `signal expired at ${data.expiresAt}`,
          legs: [],
          riskCheckIds: [],
          details: {},
        }
      : await decide(data, deps, settings, now);
    const rec: SignalRecord = {
      signalId: data.signalId,
      strategyId: data.strategyId,
      status: d.approved ? "approved" : "denied",
      ts: now,
      ...(d.rule ? { rule: d.rule } : {}),
      ...(d.reason ? { reason: d.reason } : {}),
      ...(d.approved ? { clientOrderIds: d.legs.map((l) => l.clientOrderId) } : {}),
      details: { ...d.details, kind: data.kind },
    };
    const r = await deps.store.recordSignal(rec);
    record = r.recorded ? rec : r.existing;
    riskCheckIds = d.riskCheckIds;
  }
  if (record.status === "denied") {
    const first = data.legs[0]!;
    events.push(
      buildBusEvent(
        "tse.engine",
        "OrderDenied",
        {
          signalId: data.signalId,
          strategyId: data.strategyId,
          symbol: first.symbol,
          ...(data.legs.length === 1 ? { venue: first.venue, side: first.side } : {}),
          rule: record.rule ?? "denied",
          reason: record.reason ?? "denied",
        },
        { ...causedBy(meta, now), eventId: `${data.signalId}:denied` },
      ),
    );
    assertPublished(await deps.bus.publish(events));
    return {
      signalId: data.signalId,
      decision: "denied",
      duplicate,
      rule: record.rule,
      reason: record.reason,
      legs: [],
      canceled: [],
    };
  }
  legs = legsFromRecord(record, data);

  const journal = new OrderJournal(deps.exchange, { store: deps.store, clock: deps.clock });
  const pc: PlaceContext = { deps, journal, data, meta, now, riskCheckIds, events };
  const created = await Promise.all(
    legs.map(
      async (l) =>
        (await journal.record(createOrder(l.intent, { clientOrderId: l.clientOrderId, signalId: data.signalId }, now)))
          .order,
    ),
  );
  // Legs go out one after the other, in leg order: exchange ids and execution sequences are then the same on
  // every run, and the second leg is sent once the first one has its answer.
  const placed: Awaited<ReturnType<typeof placeLeg>>[] = [];
  for (const [i, v] of created.entries()) placed.push(await placeLeg(pc, v.order, v.version, i));
  const outcome: PlacementOutcome = {
    signalId: data.signalId,
    decision: "approved",
    duplicate,
    legs: placed.map((p) => p.result),
    canceled: [],
  };

  // Leg risk: only the delivery that saw every leg's exchange answer decides (a duplicate sees none).
  const outcomes = placed.map((p) => p.outcome).filter((o): o is LegOutcome => o !== undefined);
  const symbol = legs[0]!.intent.symbol;
  if (legs.length > 1 && outcomes.length === legs.length && legs.every((l) => l.intent.symbol === symbol)) {
    const lr = resolveLegRisk(
      data.strategyId,
      symbol,
      outcomes,
      quotesFrom(data),
      `${data.kind}:${data.signalId}:hedge`,
    );
    for (const coid of lr.cancel) {
      const res = await deps.exchange.cancelOrder({ clientOrderId: coid });
      if (res.canceled) await journal.moveOrder(coid, "canceled", now);
      outcome.canceled.push(coid);
    }
    if (lr.hedge) {
      const coid = clientOrderIdFor(data.signalId, legs.length);
      const v = (await journal.record(createOrder(lr.hedge, { clientOrderId: coid, signalId: data.signalId }, now)))
        .order;
      // A hedge only reduces risk: it needs no monitor approval (and must go out when the monitor is down).
      outcome.hedge = (await placeLeg({ ...pc, riskCheckIds: [] }, v.order, v.version, legs.length)).result;
    }
  }
  assertPublished(await deps.bus.publish(events));
  return outcome;
}
