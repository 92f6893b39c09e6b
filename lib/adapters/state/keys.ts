// Key layout of the single table. Every key says what it holds. See docs/state.md for the access patterns.
import { InvalidFieldError } from "../../domain/errors";
import type { ItemKey } from "./itemBackend";

// Control characters would make keys unreadable in logs and consoles; ids never need them.
const hasControl = (v: string): boolean => {
  for (let i = 0; i < v.length; i++) if (v.charCodeAt(i) < 0x20 || v.charCodeAt(i) === 0x7f) return true;
  return false;
};

/** Epoch ms → sortable ISO-8601 UTC (lexicographic order = time order). */
export function isoKey(field: string, ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0 || ms > 253402300799999)
    throw new InvalidFieldError(field, ms, "must be an integer epoch-ms timestamp");
  return new Date(ms).toISOString();
}

/** An id used inside a composite key: non-empty, no '#' (our separator), no control characters. */
export function keyPart(field: string, value: unknown): string {
  if (typeof value !== "string" || value.length === 0 || value.length > 256 || value.includes("#") || hasControl(value))
    throw new InvalidFieldError(field, value, "must be a non-empty id without '#' or control characters (max 256)");
  return value;
}

/** A whole-tail id (client order id, execution id, signal id): may contain '#', nothing follows it. */
export function tailId(field: string, value: unknown): string {
  if (typeof value !== "string" || value.length === 0 || value.length > 512 || hasControl(value))
    throw new InvalidFieldError(field, value, "must be a non-empty id without control characters (max 512)");
  return value;
}

export const keys = {
  order: (clientOrderId: string): ItemKey => ({ pk: `ORDER#${tailId("clientOrderId", clientOrderId)}`, sk: "ORDER" }),
  fill: (executionId: string): ItemKey => ({ pk: `FILL#${tailId("executionId", executionId)}`, sk: "FILL" }),
  position: (strategyId: string, symbol: string): ItemKey => ({
    pk: `POS#${keyPart("strategyId", strategyId)}#${keyPart("symbol", symbol)}`,
    sk: "POS",
  }),
  snapshot: (venue: string, symbol: string): ItemKey => ({
    pk: `SNAP#${keyPart("venue", venue)}#${keyPart("symbol", symbol)}`,
    sk: "SNAP",
  }),
  signal: (signalId: string): ItemKey => ({ pk: `SIGNAL#${tailId("signalId", signalId)}`, sk: "SIGNAL" }),
  report: (strategyId: string, asOf: number): ItemKey => ({
    pk: `REPORT#${keyPart("strategyId", strategyId)}`,
    sk: isoKey("asOf", asOf),
  }),
  reportPartition: (strategyId: string): string => `REPORT#${keyPart("strategyId", strategyId)}`,
  equity: (strategyId: string, ts: number): ItemKey => ({
    pk: `EQUITY#${keyPart("strategyId", strategyId)}`,
    sk: isoKey("ts", ts),
  }),
  equityPartition: (strategyId: string): string => `EQUITY#${keyPart("strategyId", strategyId)}`,
  /** The engine-wide trading state (kill switch): one item. */
  tradingState: (): ItemKey => ({ pk: "RISKSTATE", sk: "RISKSTATE" }),
  idempotency: (key: string): ItemKey => ({ pk: `IDEMPOTENCY#${tailId("idempotencyKey", key)}`, sk: "IDEMPOTENCY" }),
} as const;

/** GSI partition values (gsi1 / gsi2). */
export const indexKeys = {
  /** gsi1: orders of a strategy; sk `<status>#<createdAt ISO>#<clientOrderId>`. */
  ordersByStrategy: (strategyId: string): string => `ORDERS#STRATEGY#${keyPart("strategyId", strategyId)}`,
  /** gsi2 (sparse: only non-terminal orders carry it); sk `<strategyId>#<createdAt ISO>#<clientOrderId>`. */
  openOrders: "OPEN_ORDERS",
  /** gsi1: fills of an order; sk `<ts ISO>#<executionId>`. */
  fillsByOrder: (clientOrderId: string): string => `FILLS#ORDER#${tailId("clientOrderId", clientOrderId)}`,
  /** gsi2: fills of a strategy (the reporting ledger); sk `<ts ISO>#<executionId>`. */
  fillsByStrategy: (strategyId: string): string => `FILLS#STRATEGY#${keyPart("strategyId", strategyId)}`,
  /** gsi1: every position; sk `<strategyId>#<symbol>`. */
  positions: "POSITIONS",
  /** gsi1: latest snapshot per venue of a symbol; sk `<venue>`. */
  snapshotsBySymbol: (symbol: string): string => `SNAPS#${keyPart("symbol", symbol)}`,
  /** gsi1: signals of a strategy; sk `<ts ISO>#<signalId>`. */
  signalsByStrategy: (strategyId: string): string => `SIGNALS#STRATEGY#${keyPart("strategyId", strategyId)}`,
} as const;
