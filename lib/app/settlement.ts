// settlement: FillBooked → one settlement instruction at the custodian whose idempotency key is the execution id
// (a redelivered fill never settles twice) on the venue's account, T+n from settings. Reconciliation (schedule or
// on demand): the custodian's balances against the engine's books (opening balances + every booked fill) per
// account and currency → ReconciliationCompleted with its breaks; a break beyond tolerance → RiskAlert (and,
// when configured, REDUCING).
import * as z from "zod";
import { Decimal, dec } from "../domain/decimal";
import type { InstrumentRegistry } from "../domain/instruments";
import { buildBusEvent } from "../events/build";
import { fromZodError } from "../events/errors";
import { type ParsedEvent, parseEventBridgeEvent } from "../events/parse";
import type { FillBooked } from "../events/registry";
import type { SettlementLegInput, SettlementView } from "../ports/Custodian";
import { assertPublished, type BusEvent } from "../ports/EventBus";
import type { FillRecord } from "../ports/StateStore";
import type { EngineDependencies } from "./dependencies";
import type { BaseDependencies } from "./wiring/base";

/** What settlement calls: the base wiring and the custodian. */
export type SettlementDependencies = BaseDependencies & Pick<EngineDependencies, "custodian">;

import type { EngineSettings } from "./settings";
import { setEngineTradingState } from "./tradingState";

export type SettlementInput =
  | { kind: "fill"; event: ParsedEvent<"FillBooked"> }
  | { kind: "reconcile"; trigger: "SCHEDULE" | "DIRECT"; graceMs?: number };

const DirectInvocation = z.object({
  action: z.literal("reconcile"),
  trigger: z.enum(["SCHEDULE", "DIRECT"]).default("DIRECT"),
  /** Override of settings.settlement.reconcileGraceMs (0: everything booked so far, e.g. at the end of a run). */
  graceMs: z.number().int().nonnegative().max(86_400_000).optional(),
});

/** An EventBridge FillBooked; EventBridge's "Scheduled Event" (reconcile); or `{ action: "reconcile", trigger?, graceMs? }`. */
export function parseSettlementInput(event: unknown): SettlementInput {
  if (event !== null && typeof event === "object" && "detail-type" in event) {
    if ((event as Record<string, unknown>)["detail-type"] === "Scheduled Event")
      return { kind: "reconcile", trigger: "SCHEDULE" };
    return { kind: "fill", event: parseEventBridgeEvent(event, "FillBooked") };
  }
  const r = DirectInvocation.safeParse(event);
  if (!r.success) throw fromZodError(r.error, event, "SettlementInvocation");
  return {
    kind: "reconcile",
    trigger: r.data.trigger,
    ...(r.data.graceMs !== undefined ? { graceMs: r.data.graceMs } : {}),
  };
}

type FillLike = Pick<FillBooked, "symbol" | "side" | "quantity" | "price" | "fee" | "feeAsset">;

/** What a fill moves on its venue's account, per currency: base ±qty, quote ∓qty×price, minus the fee. */
export function settlementLegs(fill: FillLike, instruments: InstrumentRegistry): SettlementLegInput[] {
  const i = instruments.instrument(fill.symbol);
  const sign = fill.side === "BUY" ? 1 : -1;
  const qty = dec(fill.quantity, "quantity");
  const byCurrency = new Map<string, Decimal>([
    [i.baseAsset, qty.times(sign)],
    [i.quoteAsset, qty.times(dec(fill.price, "price")).times(-sign)],
  ]);
  const fee = dec(fill.fee, "fee");
  byCurrency.set(fill.feeAsset, (byCurrency.get(fill.feeAsset) ?? new Decimal(0)).minus(fee));
  return [...byCurrency].filter(([, a]) => !a.isZero()).map(([currency, a]) => ({ currency, amount: a.toFixed() }));
}

export interface SettlementOutcome {
  executionId: string;
  settlementId: string;
  status: string;
  duplicate: boolean;
}

export async function handleFillBooked(
  event: ParsedEvent<"FillBooked">,
  deps: SettlementDependencies,
): Promise<SettlementOutcome> {
  const f = event.detail.data;
  const legs = settlementLegs(f, deps.instruments); // unknown symbol: bad input, nothing sent
  if (!deps.custodian) throw new Error("settlement: no custodian configured");
  const settings = await deps.settings.get();
  const r = await deps.custodian.instructSettlement({
    idempotencyKey: f.executionId,
    accountId: f.venue,
    legs,
    cycleDays: settings.settlement.cycleDays,
    tradeTimeMs: Date.parse(f.ts),
    externalId: f.clientOrderId,
  });
  return {
    executionId: f.executionId,
    settlementId: r.settlement.settlementId,
    status: r.settlement.status,
    duplicate: r.duplicate,
  };
}

export interface ReconciliationBreakView {
  accountId: string;
  currency: string;
  expected: string;
  actual: string;
  difference: string;
  beyondTolerance: boolean;
}

export interface ReconciliationOutcome {
  reconciliationId: string;
  trigger: "SCHEDULE" | "DIRECT";
  cutoffMs: number;
  fills: number;
  compared: number;
  breaks: ReconciliationBreakView[];
  alerts: number;
  reducing: boolean;
}

/** Every fill in the books (all strategies with a position), oldest first, up to `to` (inclusive). */
async function bookedFills(deps: SettlementDependencies, to: number): Promise<FillRecord[]> {
  const ids = [...new Set((await deps.store.listPositions()).map((p) => p.strategyId))];
  const lists = await Promise.all(ids.map((id) => deps.store.listFillsByStrategy(id, { to })));
  return lists.flat();
}

/** What a custodian settlement has moved or will move, per currency (failed/cancelled: nothing). */
function contribution(s: SettlementView): [string, Decimal][] {
  if (s.status === "FAILED" || s.status === "CANCELLED" || s.status === "UNKNOWN") return [];
  return s.legs.map((l) => [l.currency, dec(s.status === "COMPLETED" ? l.settledAmount || "0" : l.amount)]);
}

const key = (account: string, currency: string) => `${account}|${currency}`;

function tolerance(settings: EngineSettings, currency: string): Decimal {
  return dec(settings.settlement.toleranceByCurrency[currency] ?? settings.settlement.tolerance, "tolerance");
}

export async function reconcile(
  trigger: "SCHEDULE" | "DIRECT",
  deps: SettlementDependencies,
  graceMs?: number,
): Promise<ReconciliationOutcome> {
  if (!deps.custodian) throw new Error("reconciliation: no custodian configured");
  const settings = await deps.settings.get();
  const now = deps.clock();
  const cutoffMs = now - (graceMs ?? settings.settlement.reconcileGraceMs);
  // The engine's books: opening balances + every fill traded up to the cut-off.
  const expected = new Map<string, Decimal>();
  const add = (m: Map<string, Decimal>, k: string, a: Decimal) => m.set(k, (m.get(k) ?? new Decimal(0)).plus(a));
  for (const [account, byCurrency] of Object.entries(settings.settlement.openingBalances))
    for (const [currency, v] of Object.entries(byCurrency)) add(expected, key(account, currency), dec(v));
  const fills = await bookedFills(deps, cutoffMs);
  for (const f of fills)
    for (const l of settlementLegs(f, deps.instruments)) add(expected, key(f.venue, l.currency), dec(l.amount));
  const accounts = new Set([...expected.keys()].map((k) => k.split("|")[0]!));
  // The custodian's: total + pending, less what trades after the cut-off moved (they are not in the books yet).
  // Off the trading path: a slow custodian may take its time.
  const [balances, recent] = await Promise.all([
    deps.custodian.getBalances("", { deadlineMs: 5_000 }),
    deps.custodian.listSettlements({ tradeTimeAfterMs: cutoffMs }, { deadlineMs: 5_000 }),
  ]);
  const actual = new Map<string, Decimal>();
  for (const b of balances)
    if (accounts.has(b.accountId)) add(actual, key(b.accountId, b.currency), dec(b.total).plus(dec(b.pending || "0")));
  for (const s of recent)
    if (accounts.has(s.accountId))
      for (const [currency, a] of contribution(s)) add(actual, key(s.accountId, currency), a.neg());

  const breaks: ReconciliationBreakView[] = [];
  const keys = [...new Set([...expected.keys(), ...actual.keys()])].sort();
  for (const k of keys) {
    const e = expected.get(k) ?? new Decimal(0);
    const a = actual.get(k) ?? new Decimal(0);
    const diff = a.minus(e);
    if (diff.isZero()) continue;
    const [accountId, currency] = k.split("|") as [string, string];
    breaks.push({
      accountId,
      currency,
      expected: e.toFixed(),
      actual: a.toFixed(),
      difference: diff.toFixed(),
      beyondTolerance: diff.abs().gt(tolerance(settings, currency)),
    });
  }

  const reconciliationId = `rec-${new Date(now).toISOString().replace(/[:.]/g, "")}-${trigger.toLowerCase()}`;
  const events: BusEvent[] = [
    buildBusEvent(
      "tse.engine",
      "ReconciliationCompleted",
      {
        reconciliationId,
        trigger,
        cutoff: new Date(cutoffMs).toISOString(),
        tolerance: dec(settings.settlement.tolerance).toFixed(),
        compared: keys.length,
        fills: fills.length,
        breaks: breaks.slice(0, 256),
      },
      { now, eventId: reconciliationId },
    ),
  ];
  const beyond = breaks.filter((b) => b.beyondTolerance);
  for (const b of beyond.slice(0, 50)) {
    const tol = tolerance(settings, b.currency);
    events.push(
      buildBusEvent(
        "tse.engine",
        "RiskAlert",
        {
          alertId: `${reconciliationId}:${b.accountId}:${b.currency}`,
          rule: "reconciliation-break",
          severity: "HIGH",
          utilisation: tol.gt(0) ? dec(b.difference).abs().div(tol).toDecimalPlaces(6).toFixed() : "1",
          limit: tol.toFixed(),
          value: b.difference,
          message: `reconciliation break on account ${b.accountId} ${b.currency}: custodian ${b.actual}, engine ${b.expected}, difference ${b.difference} ${b.currency}`,
          venue: b.accountId,
          accountId: b.accountId,
          currency: b.currency,
        },
        { now, eventId: `${reconciliationId}:alert:${b.accountId}:${b.currency}` },
      ),
    );
  }
  let reducing = false;
  if (beyond.length > 0 && settings.settlement.reducingOnBreak) {
    const cur = await deps.store.getTradingState();
    if ((cur?.state ?? "ACTIVE") === "ACTIVE") {
      const b = beyond[0]!;
      await setEngineTradingState(deps.store, {
        state: "REDUCING",
        reason: `reconciliation break on ${b.accountId} ${b.currency}: difference ${b.difference}`,
        at: now,
        source: "reconciliation",
      });
      reducing = true;
    }
  }
  assertPublished(await deps.bus.publish(events));
  return {
    reconciliationId,
    trigger,
    cutoffMs,
    fills: fills.length,
    compared: keys.length,
    breaks,
    alerts: Math.min(beyond.length, 50),
    reducing,
  };
}
