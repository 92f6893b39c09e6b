// order-placement: SignalGenerated → the signal's decision and the shared risk state (one BatchGet) ∥ positions
// → the domain RiskEngine restored from that state (equity marks and breakers, size with its headroom, the rule
// table per leg) → risk monitor CheckOrder per leg in parallel (unreachable → FAIL CLOSED for risk-increasing
// legs) → ONE transaction: the decision + pending orders (deterministic client order ids) + the new risk state,
// conditioned on the version read (a conflict decides again) → place (risk-checked) → OrderPlaced /
// OrderRejected / OrderDenied, then leg risk as the domain decides (cancel resting siblings, hedge the difference).
// One file: the handler's single sequence above, read top to bottom, with the helpers only it uses.

import { ExponentialBackoff, handleType, retry } from "cockatiel";
import { Decimal, dec } from "../domain/decimal";
import { InvalidFieldError } from "../domain/errors";
import { clientOrderIdFor, createOrder, type Order } from "../domain/orders";
import type { OrderStatus } from "../domain/orders/orderStatus";
import type { Position } from "../domain/portfolio/position";
import { riskContextFromPortfolio } from "../domain/risk/context";
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
import type { RiskStateInput, RiskStateRecord, SignalRecord, VersionedOrder } from "../ports/StateStore";
import { buyingPowerContext } from "./buyingPower";
import type { EngineDependencies } from "./dependencies";
import { portfolioFromPositions, riskEngineFrom, riskStateInput } from "./riskState";
import type { EngineSettings } from "./settings";

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
  /** The risk state to write with the decision (undefined: leave it, e.g. an expired signal). */
  risk?: RiskStateInput;
}

/** What a decision reads: the risk state (with the signal, one BatchGet) and every position (one Query). */
interface PlacementView {
  signal?: SignalRecord;
  risk?: RiskStateRecord;
  positions: Position[];
}

const readView = async (deps: EngineDependencies, signalId: string): Promise<PlacementView> => {
  const [sr, positions] = await Promise.all([deps.store.getSignalAndRiskState(signalId), deps.store.listPositions()]);
  return { ...sr, positions };
};

type MonitorAnswer = Awaited<ReturnType<EngineDependencies["riskMonitor"]["checkOrderFailClosed"]>>;

/** Why a signal sized to zero: the binding constraint, in the words of its cause (an unread balance fails closed). */
function sizedToZeroReason(boundBy: string, state: string, balanceUnavailable: string | undefined): string {
  if (boundBy === "trading-state")
    return `trading is ${state}: only risk-reducing orders are accepted (limit ${state}, value sized to zero)`;
  if (boundBy === "balance" && balanceUnavailable !== undefined) {
    const why = `limit known balance, value unavailable: ${balanceUnavailable}`;
    return `custodian balance unavailable: fail closed, only risk-reducing orders (${why})`.slice(0, 512);
  }
  return `sized to zero: ${boundBy} leaves no room`;
}

/**
 * Size and risk-check every leg against the shared risk state; the legs of one signal get one common quantity
 * (the smallest allowed). The engine is the quoter's rule table, restored from the stored risk state; what it
 * learns here (equity marks, breaker trips, the rate window) is returned for the placement's transaction.
 */
async function decide(
  data: SignalData,
  deps: EngineDependencies,
  settings: EngineSettings,
  now: number,
  view: PlacementView,
  monitorAnswers: Map<string, Promise<MonitorAnswer>>,
): Promise<Decision> {
  const { engine, changes } = riskEngineFrom(view.risk, settings.riskLimits);
  const mids = midsFrom(data);
  const book = portfolioFromPositions(view.positions, mids, deps.instruments.listInstruments());
  // Equity marks feed the portfolio breakers (−10 % from session start, −5 % within 10 minutes), the day's
  // loss and the drawdown; the strategy's net PnL its loss breaker. Trips are written with the decision.
  engine.markEquity(Number(settings.reporting.startingEquity) + book.netPnl().toNumber(), now);
  engine.markStrategyPnl(data.strategyId, book.netPnl(data.strategyId).toNumber(), now);
  const risk = () => riskStateInput(engine, now, view.risk, changes, [data.strategyId]);
  const state = engine.effectiveState(data.strategyId);
  const deny = (rule: string, reason: string, legs: PlannedLeg[] = []): Decision => ({
    approved: false,
    rule,
    reason,
    legs,
    riskCheckIds: [],
    details: {},
    risk: risk(),
  });
  const trip = changes.at(-1);

  // HALTED: only cancels, and a signal never is one. Denied before sizing so the record names the state.
  if (state === "HALTED")
    return deny(
      "trading-state",
      `trading is HALTED: only cancels are accepted (limit HALTED, value ${data.legs.length} new order leg(s); ` +
        `${trip ? `${trip.rule}: ${trip.reason}, limit ${trip.limit}, value ${trip.value}` : (view.risk?.reason ?? "halted")})`,
    );

  const ctxFor = async (intent: { strategyId: string; symbol: string; venue: string }, strategyPosition?: number) => {
    const c = riskContextFromPortfolio(book, intent.strategyId, intent.symbol, {
      mid: mids.get(intent.symbol) ?? 0,
      feeRate: deps.instruments.venue(intent.venue).takerFee.toNumber(),
    });
    // Buying power: the custodian's available balance (cached, fail-closed), or what the settings grant (the
    // stored positions carry no cash).
    Object.assign(
      c,
      await buyingPowerContext(
        deps.buyingPower,
        settings,
        intent.venue,
        deps.instruments.instrument(intent.symbol).quoteAsset,
      ),
    );
    delete c.availableBase;
    if (strategyPosition !== undefined) {
      c.position += strategyPosition - (c.strategyPosition ?? 0);
      c.strategyPosition = strategyPosition;
    }
    return c;
  };

  // 1. Size: every constraint, the legs' common minimum, rounded to the lot.
  let qty: Decimal | undefined;
  let boundBy = "configured";
  let balanceUnavailable: string | undefined; // of the leg that set the size
  for (const leg of data.legs) {
    const instrument = deps.instruments.instrument(leg.symbol);
    const mid = mids.get(leg.symbol) ?? 0;
    const price = leg.limitPrice ?? (mid > 0 ? String(mid) : undefined);
    if (price === undefined) return deny("mark-price", `no price for ${leg.symbol}: market leg without a snapshot`);
    const ctx = await ctxFor({ strategyId: data.strategyId, symbol: leg.symbol, venue: leg.venue });
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
      balanceUnavailable = ctx.balanceUnavailable;
    }
  }
  if (!qty?.gt(0)) return deny(String(boundBy), sizedToZeroReason(boundBy, state, balanceUnavailable));

  const legs = planLegs(data, qty);

  // 2. Domain risk engine, legs in order against the position they would leave. Approved legs count towards the
  //    order rate whatever happens after (as in the quoter).
  const running = new Map<string, number>();
  const increases: boolean[] = [];
  for (const { intent } of legs) {
    const before = running.get(intent.symbol) ?? book.positionNumber(data.strategyId, intent.symbol);
    const d = engine.check(intent, await ctxFor(intent, before), now);
    if (!d.approved)
      return deny(d.denial.rule, `${d.denial.message} (limit ${d.denial.limit}, value ${d.denial.value})`, legs);
    const after = before + (intent.side === "BUY" ? 1 : -1) * intent.quantity.toNumber();
    increases.push(Math.abs(after) > Math.abs(before) + 1e-12);
    running.set(intent.symbol, after);
  }

  // 3. The risk monitor, every leg at once. Unreachable / circuit open → fail closed for risk-increasing legs.
  //    Answers are kept per leg and quantity, so a decision taken again after a risk-state conflict asks no twice.
  const answers = await Promise.all(
    legs.map(({ intent, clientOrderId }) => {
      const key = `${clientOrderId}|${intent.quantity.toFixed()}`;
      let a = monitorAnswers.get(key);
      if (!a) {
        a = deps.riskMonitor.checkOrderFailClosed({
          strategyId: intent.strategyId,
          venue: intent.venue,
          symbol: intent.symbol,
          side: intent.side,
          quantity: intent.quantity,
          price: intent.limitPrice ?? new Decimal(mids.get(intent.symbol) ?? 0),
          clientOrderId,
        });
        monitorAnswers.set(key, a);
      }
      return a;
    }),
  );
  const riskCheckIds: string[] = [];
  for (const [i, r] of answers.entries()) {
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
    risk: risk(),
  };
}

/** The risk state moved between this invocation's read and its transaction. */
class RiskStateConflict extends Error {
  override name = "RiskStateConflict";
}
// Concurrent placements serialize on the risk state's version: each loser reads again and decides again.
const conflictRetry = retry(handleType(RiskStateConflict), {
  maxAttempts: 40,
  backoff: new ExponentialBackoff({ initialDelay: 5, maxDelay: 100 }),
});

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

interface SentLeg {
  ex?: VenueOrder;
  error?: string;
  /** Not sent by this delivery: another one owns it or it already moved on. */
  skipped?: LegResult;
}

/**
 * Send one order. The delivery whose transaction created it (as `submitted`) owns sending it; a pending-new
 * order (a hedge) is claimed first by a version-checked write, so two deliveries never both own one. A leg left
 * `submitted` with no exchange answer (an owner in flight, or crashed) is reconciled with the exchange: GetOrder
 * by client order id, then PlaceOrder, which the exchange deduplicates by that id.
 */
async function sendLeg(pc: PlaceContext, order: Order, version: number, legIndex: number, owned: boolean) {
  const { deps, journal, now } = pc;
  const coid = order.clientOrderId;
  const owner = order.status === "pending-new" ? await journal.claim(order, version, now) : owned;
  const sent: SentLeg = {};
  if (!owner) {
    const cur = order.status === "submitted" && !order.exchangeOrderId ? { order } : await deps.store.getOrder(coid);
    if (cur?.order.status !== "submitted" || cur.order.exchangeOrderId)
      return { skipped: { clientOrderId: coid, status: cur?.order.status ?? order.status, placed: false } };
    try {
      sent.ex = await deps.exchange.getOrder({ clientOrderId: coid });
    } catch (e) {
      if (!(e instanceof NotFoundError)) throw e;
    }
  }
  if (sent.ex) return sent;
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
    sent.ex = res.order;
  } catch (e) {
    // Business refusals are final. Anything else (down, deadline, INTERNAL, UNKNOWN) may have been applied: left
    // for the retry, which asks the exchange by client order id first (the order stays submitted).
    if (
      e instanceof OrderNotPlacedError ||
      (e instanceof GrpcClientError &&
        (e.kind === "rejected" || e.kind === "invalid-argument" || e.kind === "not-found"))
    )
      sent.error = e.message;
    else throw e;
  }
  return sent;
}

/**
 * Record what the exchange answered: one versioned status write from the local copy (a re-read only on a
 * conflict), the exchange id stored for every leg. A FILLED leg moves to `accepted` with its id: if a fill got
 * there first, the version check fails and the re-read sees the fill's status, which is kept.
 */
async function recordLeg(pc: PlaceContext, order: Order, sent: SentLeg): Promise<Order | undefined> {
  if (sent.skipped) return undefined;
  const { journal, now } = pc;
  const { ex, error } = sent;
  const coid = order.clientOrderId;
  const exStatus: VenueStatus = ex ? ex.venueStatus : "REJECTED";
  switch (exStatus) {
    case "NEW":
    case "PARTIALLY_FILLED":
    case "FILLED":
      return journal.moveOrder(coid, "accepted", now, { exchangeOrderId: ex!.orderId });
    case "EXPIRED":
    case "CANCELED":
      // IOC remainder. Fills still in flight are booked as late fills on the terminal order.
      return journal.moveOrder(coid, exStatus === "EXPIRED" ? "expired" : "canceled", now, {
        exchangeOrderId: ex!.orderId,
      });
    default:
      return journal.moveOrder(coid, "rejected", now, {
        errorMessage: error ?? (ex?.rejectReason || `exchange status ${exStatus}`),
        ...(ex?.orderId ? { exchangeOrderId: ex.orderId } : {}),
      });
  }
}

/** The leg's event (in leg order) and its result. */
function legResult(
  pc: PlaceContext,
  order: Order,
  sent: SentLeg,
  stored: Order | undefined,
  legIndex: number,
): { result: LegResult; outcome?: LegOutcome } {
  if (sent.skipped) return { result: sent.skipped };
  const { ex } = sent;
  const coid = order.clientOrderId;
  const exStatus: VenueStatus = ex ? ex.venueStatus : "REJECTED";
  const answered =
    exStatus === "NEW" ||
    exStatus === "PARTIALLY_FILLED" ||
    exStatus === "FILLED" ||
    exStatus === "EXPIRED" ||
    exStatus === "CANCELED";
  const error = sent.error ?? (answered ? undefined : ex?.rejectReason || `exchange status ${exStatus}`);
  const filled = ex?.filledQuantity ? dec(ex.filledQuantity) : new Decimal(0);
  const o = stored ?? order;
  const causal = { ...causedBy(pc.meta, pc.now) };
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

/**
 * Place the legs: sent one after the other, in leg order (exchange ids and execution sequences are then the same
 * on every run, and a leg is sent once the one before has its answer); their status writes then go in parallel.
 */
async function placeLegs(pc: PlaceContext, orders: VersionedOrder[], owned: boolean, firstIndex = 0) {
  const sent: SentLeg[] = [];
  for (const [i, v] of orders.entries()) sent.push(await sendLeg(pc, v.order, v.version, firstIndex + i, owned));
  const stored = await Promise.all(orders.map((v, i) => recordLeg(pc, v.order, sent[i]!)));
  return orders.map((v, i) => legResult(pc, v.order, sent[i]!, stored[i], firstIndex + i));
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
  let view = await readView(deps, data.signalId);
  let record = view.signal;
  const duplicate = record !== undefined;
  let riskCheckIds: string[] = [];
  let legs: PlannedLeg[];
  /** Orders this delivery created with its decision (one transaction); a duplicate reads them instead. */
  let committed: VersionedOrder[] | undefined;
  if (!record) {
    const expired = data.expiresAt !== undefined && deps.clock() > Date.parse(data.expiresAt);
    const monitorAnswers = new Map<string, Promise<MonitorAnswer>>();
    const toRecord = (d: Decision): SignalRecord => ({
      signalId: data.signalId,
      strategyId: data.strategyId,
      status: d.approved ? "approved" : "denied",
      ts: now,
      ...(d.rule ? { rule: d.rule } : {}),
      ...(d.reason ? { reason: d.reason } : {}),
      ...(d.approved ? { clientOrderIds: d.legs.map((l) => l.clientOrderId) } : {}),
      details: { ...d.details, kind: data.kind },
    });
    if (expired) {
      const rec = toRecord({
        approved: false,
        rule: "signal-expired",
        reason: `signal expired at ${data.expiresAt}`,
        legs: [],
        riskCheckIds: [],
        details: {},
      });
      const r = await deps.store.recordSignal(rec);
      record = r.recorded ? rec : r.existing;
    } else {
      // Decide against the risk state read, and commit the decision, its orders and the new risk state in one
      // transaction conditioned on that state's version: the order-rate admission is atomic across invocations.
      record = await conflictRetry.execute(async ({ attempt }) => {
        if (attempt > 0) view = await readView(deps, data.signalId);
        if (view.signal) return view.signal;
        const d = await decide(data, deps, settings, now, view, monitorAnswers);
        const rec = toRecord(d);
        // Created directly as submitted: the transaction that records the signal makes this delivery the owner.
        const orders: Order[] = d.approved
          ? d.legs.map((l) => ({
              ...createOrder(l.intent, { clientOrderId: l.clientOrderId, signalId: data.signalId }, now),
              status: "submitted" as const,
            }))
          : [];
        const r = await deps.store.commitPlacement({
          signal: rec,
          orders,
          risk: d.risk!,
          expectedRiskVersion: view.risk?.version ?? 0,
        });
        if (r.committed) {
          committed = r.orders;
          riskCheckIds = d.riskCheckIds;
          return rec;
        }
        if (r.reason === "signal-exists") return r.existing;
        throw new RiskStateConflict(`risk state moved past version ${view.risk?.version ?? 0}`);
      });
    }
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
  const created =
    committed?.map((v) => journal.remember(v)) ??
    (await Promise.all(
      legs.map(
        async (l) =>
          (
            await journal.record(
              createOrder(l.intent, { clientOrderId: l.clientOrderId, signalId: data.signalId }, now),
            )
          ).order,
      ),
    ));
  const placed = await placeLegs(pc, created, committed !== undefined);
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
      outcome.hedge = (await placeLegs({ ...pc, riskCheckIds: [] }, [v], false, legs.length))[0]!.result;
    }
  }
  assertPublished(await deps.bus.publish(events));
  return outcome;
}
