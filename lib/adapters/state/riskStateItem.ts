// The risk state item (RISKSTATE: trading state + the risk engine's memory), its validation, and the placement
// transaction that writes it together with a signal decision and its orders. Used by ItemStateStore.
import { InvalidFieldError } from "../../domain/errors";
import type { Order } from "../../domain/orders";
import type {
  PlacementCommitResult,
  RiskStateInput,
  RiskStateRecord,
  SignalRecord,
  TradingStateRecord,
} from "../../ports/StateStore";
import { orderToItem, signalFromItem, signalToItem } from "./codec";
import { type ConditionalPut, type Item, type ItemBackend, TransactionCancelledError } from "./itemBackend";
import { isoKey, keyPart, keys } from "./keys";

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const TRADING_STATES = new Set(["ACTIVE", "REDUCING", "HALTED"]);
function tradingStateValue(field: string, v: unknown): void {
  if (typeof v !== "string" || !TRADING_STATES.has(v))
    throw new InvalidFieldError(field, v, "must be ACTIVE, REDUCING or HALTED");
}

export function validateSignal(signal: SignalRecord): void {
  keyPart("signal.strategyId", signal.strategyId);
  if (signal.status !== "approved" && signal.status !== "denied")
    throw new InvalidFieldError("signal.status", signal.status, "must be approved or denied");
}

/** Validate and normalise a risk state for writing at `expectedVersion` (the record carries version + 1). */
export function riskStateRecord(next: RiskStateInput, expectedVersion: number): RiskStateRecord {
  if (!Number.isInteger(expectedVersion) || expectedVersion < 0)
    throw new InvalidFieldError("expectedVersion", expectedVersion, "must be an integer >= 0");
  tradingStateValue("state", next.state);
  for (const [id, st] of Object.entries(next.strategies ?? {})) {
    keyPart("strategies", id);
    tradingStateValue(`strategies.${id}`, st);
  }
  if (typeof next.reason !== "string") throw new InvalidFieldError("reason", next.reason, "must be a string");
  isoKey("at", next.at);
  if (next.engine !== undefined && (typeof next.engine !== "object" || next.engine?.v !== 1))
    throw new InvalidFieldError("engine.v", (next.engine as { v?: unknown } | null)?.v, "must be 1");
  // ACTIVE strategies carry no entry: the record then compares equal however it was reached.
  const strategies = Object.fromEntries(
    Object.entries(next.strategies ?? {})
      .filter(([, st]) => st !== "ACTIVE")
      .sort(([a], [b]) => cmp(a, b)),
  );
  return {
    state: next.state,
    strategies,
    reason: next.reason,
    at: next.at,
    ...(next.source !== undefined ? { source: next.source } : {}),
    ...(next.engine !== undefined ? { engine: next.engine } : {}),
    version: expectedVersion + 1,
  };
}

export function riskStateWrite(record: RiskStateRecord, expectedVersion: number): ConditionalPut {
  return {
    item: { ...keys.tradingState(), entity: "RISKSTATE", ...record },
    condition: expectedVersion === 0 ? { kind: "notExists" } : { kind: "versionIs", version: expectedVersion },
  };
}

export function riskStateFromItem(item: Item): RiskStateRecord {
  const engine = item.engine as RiskStateRecord["engine"] | undefined;
  return { ...tradingStateFromItem(item), ...(engine ? { engine } : {}) };
}

export function tradingStateFromItem(item: Item): TradingStateRecord {
  return {
    state: item.state as TradingStateRecord["state"],
    strategies: (item.strategies ?? {}) as TradingStateRecord["strategies"],
    reason: String(item.reason ?? ""),
    at: Number(item.at),
    ...(item.source !== undefined ? { source: String(item.source) } : {}),
    version: Number(item.version),
  };
}

/** One transaction: signal (must not exist) + orders (must not exist) + risk state (version check). */
export async function commitPlacement(
  backend: ItemBackend,
  p: {
    signal: SignalRecord;
    orders: readonly Order[];
    risk: RiskStateInput;
    expectedRiskVersion: number;
  },
): Promise<PlacementCommitResult> {
  validateSignal(p.signal);
  for (const o of p.orders) {
    keyPart("order.strategyId", o.strategyId);
    keyPart("order.symbol", o.symbol);
    keyPart("order.venue", o.venue);
  }
  const risk = riskStateRecord(p.risk, p.expectedRiskVersion);
  const writes: ConditionalPut[] = [
    { item: signalToItem(p.signal), condition: { kind: "notExists" } },
    ...p.orders.map((o) => ({ item: orderToItem(o, 1), condition: { kind: "notExists" as const } })),
    riskStateWrite(risk, p.expectedRiskVersion),
  ];
  try {
    await backend.transactWrite(writes);
  } catch (err) {
    if (!(err instanceof TransactionCancelledError)) throw err;
    const [sig] = err.reasons;
    if (sig?.code === "ConditionalCheckFailed") {
      const existing = sig.existing ?? (await backend.get(keys.signal(p.signal.signalId)));
      if (existing) return { committed: false, reason: "signal-exists", existing: signalFromItem(existing) };
    }
    const orderFailed = err.reasons.slice(1, -1).findIndex((r) => r.code === "ConditionalCheckFailed");
    // Orders are only ever created together with their signal, so one without it is corrupt state.
    if (orderFailed >= 0)
      throw new Error(
        `order ${p.orders[orderFailed]?.clientOrderId} exists without signal ${p.signal.signalId}: ${err.message}`,
      );
    const last = err.reasons.at(-1);
    const actual = last?.existing ? Number(last.existing.version) : undefined;
    return { committed: false, reason: "risk-conflict", actualVersion: actual };
  }
  return { committed: true, risk, orders: p.orders.map((order) => ({ order, version: 1 })) };
}
