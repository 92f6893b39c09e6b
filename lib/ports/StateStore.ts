// The state port: everything the engine keeps between events. Split into repositories by what they hold;
// `StateStore` is all of them together. Implementations: DynamoDbStateStore (single table) and
// InMemoryStateStore (embedded runs); both pass test/contract/stateStore.contract.ts.
// Domain types in, domain types out: the adapters turn decimals into exact strings for storage.
import type { DecimalLike } from "../domain/decimal";
import type { Order } from "../domain/orders";
import type { OrderStatus } from "../domain/orders/orderStatus";
import type { Position } from "../domain/portfolio/position";
import type { RiskMemorySnapshot } from "../domain/risk/riskMemory";
import type { L1Quote, Side, TradingState } from "../domain/types";

// ---------- orders ----------

/** An order as stored, with its optimistic-locking version (1 after creation, +1 per write). */
export interface VersionedOrder {
  order: Order;
  version: number;
}

export type CreateOrderResult = { created: true; order: VersionedOrder } | { created: false; existing: VersionedOrder };

/** Fields `updateOrderStatus` may change; the status move is checked by the domain state machine. */
export interface OrderStatusPatch {
  status: OrderStatus;
  /** Epoch ms of the change (the caller's clock; the store has none). */
  at: number;
  exchangeOrderId?: string;
  errorMessage?: string;
}

export interface OrderRepository {
  /** Conditional on the client order id not existing: a duplicate signal never makes a second order. */
  createPendingOrder(order: Order): Promise<CreateOrderResult>;
  /**
   * Move the order to `patch.status` if it is still at `expectedVersion`.
   * Throws OrderNotFoundError, VersionConflictError (someone wrote first) or the domain's IllegalTransitionError.
   * `current`: the order as the caller holds it at `expectedVersion`; saves the store's read (one request fewer).
   * A stale one cannot overwrite: the write stays conditional on the version (VersionConflictError).
   */
  updateOrderStatus(
    clientOrderId: string,
    expectedVersion: number,
    patch: OrderStatusPatch,
    current?: Order,
  ): Promise<VersionedOrder>;
  getOrder(clientOrderId: string): Promise<VersionedOrder | undefined>;
  /** Oldest first; optionally only one status. */
  listOrdersByStrategy(strategyId: string, options?: { status?: OrderStatus }): Promise<VersionedOrder[]>;
  /** Orders that may still trade (pending-new … pending-cancel), oldest first; optionally one strategy. */
  listOpenOrders(options?: { strategyId?: string }): Promise<VersionedOrder[]>;
}

// ---------- fills ----------

/** One execution as the exchange reported it. */
export interface FillInput {
  /** Unique per venue: the fill record's key, so a repeated execution is a no-op. */
  executionId: string;
  clientOrderId: string;
  /** When known, the order, position and fill are read in ONE request (otherwise two). Must match the order. */
  strategyId?: string;
  exchangeOrderId?: string;
  venue: string;
  symbol: string;
  side: Side;
  quantity: DecimalLike;
  price: DecimalLike;
  /** Negative = rebate. */
  fee: DecimalLike;
  feeAsset: string;
  liquidity?: "MAKER" | "TAKER";
  sequence?: number;
  /** Epoch ms when the execution happened. */
  ts: number;
}

/** The stored fill (decimal strings), with the realized PnL it booked. */
export interface FillRecord {
  executionId: string;
  clientOrderId: string;
  orderId: string;
  strategyId: string;
  exchangeOrderId?: string;
  venue: string;
  symbol: string;
  side: Side;
  quantity: string;
  price: string;
  fee: string;
  feeAsset: string;
  liquidity?: "MAKER" | "TAKER";
  sequence?: number;
  ts: number;
  /** Realized PnL this fill booked on the position, gross of fees; null for an opening fill (isClosingFill). */
  realizedPnl: string | null;
}

export type ApplyFillResult =
  | {
      applied: true;
      duplicate: false;
      fill: FillRecord;
      order: VersionedOrder;
      position: Position;
      previousPosition: Position | undefined;
      /** Write attempts used (1 = no version conflict). */
      attempts: number;
      /** The risk state written in the same transaction (ApplyFillOptions.riskState). */
      risk?: RiskStateRecord;
    }
  | { applied: false; duplicate: true; fill: FillRecord | undefined };

export interface ApplyFillOptions {
  /**
   * Update the risk state in the fill's own transaction (read in the same BatchGet, written with a version check),
   * so a fill is booked into it exactly once. Return undefined to leave it alone.
   */
  riskState?: (current: RiskStateRecord | undefined, fill: FillRecord) => RiskStateInput | undefined;
}

export interface FillLedger {
  /**
   * Apply an execution atomically: fill record (must not exist) + order update (version check) +
   * position update (version check, or must not exist) in one transaction. New values come from the domain.
   * Duplicate execution → `{applied:false, duplicate:true}`, nothing written. Version conflicts are retried
   * with jittered backoff; when attempts run out → FillConflictError. Unknown order → UnknownOrderError.
   */
  applyFill(fill: FillInput, options?: ApplyFillOptions): Promise<ApplyFillResult>;
  getFill(executionId: string): Promise<FillRecord | undefined>;
  /** Oldest first. */
  listFillsByOrder(clientOrderId: string): Promise<FillRecord[]>;
  /** Oldest first; optional inclusive epoch-ms window. The reporting ledger. */
  listFillsByStrategy(strategyId: string, window?: { from?: number; to?: number }): Promise<FillRecord[]>;
}

// ---------- positions ----------

export interface PositionRepository {
  /** `version` is inside the domain Position. */
  getPosition(strategyId: string, symbol: string): Promise<Position | undefined>;
  /** Every position (reconciliation, reporting), ordered by strategy then symbol. */
  listPositions(options?: { strategyId?: string }): Promise<Position[]>;
}

// ---------- market snapshots ----------

export interface StoredSnapshot {
  quote: L1Quote;
  sequence?: number;
}

export interface SnapshotView extends StoredSnapshot {
  /** now − quote.ts in ms. */
  ageMs: number;
  stale: boolean;
}

export interface SnapshotRepository {
  /** Newer wins: a snapshot older than (or as old as) the stored one is ignored → `{stored:false}`. */
  putSnapshot(quote: L1Quote, sequence?: number): Promise<{ stored: boolean }>;
  /** Latest snapshot of venue+symbol with its age at `now`; stale when older than `maxAgeMs`. */
  getSnapshot(
    venue: string,
    symbol: string,
    freshness: { now: number; maxAgeMs: number },
  ): Promise<SnapshotView | undefined>;
  /**
   * The latest snapshots of these venues for a symbol, by key, strongly consistent (one request): a snapshot
   * written a moment earlier is always seen. Venues with none are left out; in the order of `venues`.
   */
  getSnapshots(
    venues: readonly string[],
    symbol: string,
    freshness: { now: number; maxAgeMs: number },
  ): Promise<SnapshotView[]>;
  /** Latest snapshot of every venue for a symbol (stale ones included, flagged), ordered by venue. */
  listSnapshots(symbol: string, freshness: { now: number; maxAgeMs: number }): Promise<SnapshotView[]>;
}

// ---------- signals ----------

export type SignalStatus = "approved" | "denied";

export interface SignalRecord {
  signalId: string;
  strategyId: string;
  status: SignalStatus;
  /** Why it was denied (risk rule, limit, value) — or a note for approvals. */
  reason?: string;
  /** Which rule denied it, e.g. "max-position", "risk-monitor-unavailable". */
  rule?: string;
  /** Epoch ms of the decision. */
  ts: number;
  /** Client order ids the signal produced. */
  clientOrderIds?: string[];
  /** Free-form audit details (JSON-serialisable; decimals as strings). */
  details?: Record<string, unknown>;
}

export interface SignalRepository {
  /** First decision wins: a repeated signal returns the recorded one. */
  recordSignal(signal: SignalRecord): Promise<{ recorded: true } | { recorded: false; existing: SignalRecord }>;
  getSignal(signalId: string): Promise<SignalRecord | undefined>;
  /** Oldest first. */
  listSignalsByStrategy(strategyId: string): Promise<SignalRecord[]>;
}

// ---------- reports and equity curve ----------

export interface ReportRecord {
  reportId: string;
  strategyId: string;
  /** Epoch ms the report describes up to. */
  asOf: number;
  /** Metrics (JSON-serialisable; money as decimal strings, ratios as numbers or null). */
  metrics: Record<string, unknown>;
  trigger?: "SCHEDULE" | "POSITION_CHANGED" | "DIRECT";
  periodStart?: number;
  /** Position version per symbol the report was computed from (what a later PositionChanged is compared with). */
  positionVersions?: Record<string, number>;
  /** The fills counted so far, as running sums: the next report reads only the fills booked since. */
  ledger?: ReportLedger;
}

export interface ReportLedger {
  count: number;
  /** Decimal strings. */
  turnover: string;
  closing: number;
  wins: number;
  grossProfit: string;
  grossLoss: string;
  /** The newest fill time counted, and the execution ids counted at exactly that time. */
  throughTs: number;
  throughIds: string[];
}

export interface EquityPointRecord {
  strategyId: string;
  ts: number;
  /** Decimal string. */
  equity: string;
  realizedPnl?: string;
  unrealizedPnl?: string;
  fees?: string;
}

export interface ReportRepository {
  /** Same strategy + asOf overwrites (a recomputed report replaces the old one). */
  saveReport(report: ReportRecord): Promise<void>;
  getLatestReport(strategyId: string): Promise<ReportRecord | undefined>;
  /** Newest first. */
  listReports(strategyId: string, options?: { limit?: number }): Promise<ReportRecord[]>;
  /** Same strategy + ts overwrites. */
  appendEquityPoints(points: readonly EquityPointRecord[]): Promise<void>;
  /** Oldest first; optional inclusive epoch-ms window. */
  listEquityPoints(strategyId: string, window?: { from?: number; to?: number }): Promise<EquityPointRecord[]>;
}

// ---------- idempotency ----------

export interface IdempotencyRecord {
  key: string;
  /** JSON-serialisable result of the first execution. */
  result: unknown;
  /** Epoch SECONDS after which the record is void (DynamoDB TTL deletes it eventually). */
  expiresAt: number;
}

export interface IdempotencyRepository {
  /**
   * Claim `key` for `ttlSeconds`. First caller (or the first after expiry) gets `{claimed:true}`;
   * later callers get the stored record. `now` is epoch ms.
   */
  claimIdempotencyKey(
    key: string,
    result: unknown,
    ttlSeconds: number,
    now: number,
  ): Promise<{ claimed: true } | { claimed: false; existing: IdempotencyRecord }>;
  getIdempotencyRecord(key: string, now: number): Promise<IdempotencyRecord | undefined>;
}

// ---------- engine trading state (kill switch) ----------

/**
 * The engine-wide trading state, persisted so every process honours it: the serverless order-placement builds a
 * fresh domain RiskEngine per invocation, so a HALTED/REDUCING set by the kill switch (or a breaker escalation)
 * must come from here. One item (`RISKSTATE`/`RISKSTATE`), optimistic-locked by `version`.
 */
export interface TradingStateRecord {
  /** Portfolio-wide state: ACTIVE, REDUCING (only risk-reducing orders) or HALTED (only cancels). */
  state: TradingState;
  /** Strategies with their own non-ACTIVE state (the stricter of this and `state` applies). */
  strategies: Record<string, TradingState>;
  /** Why (kept for the audit trail and the denial message). */
  reason: string;
  /** Epoch ms of the change (the caller's clock). */
  at: number;
  /** Who set it, e.g. "kill-switch", "breaker:rapid-loss". */
  source?: string;
  /** 1 after the first write, +1 per write. */
  version: number;
}

export interface TradingStateRepository {
  /** The persisted trading state; undefined = never set (treat as ACTIVE). Strongly consistent read. */
  getTradingState(): Promise<TradingStateRecord | undefined>;
  /**
   * Replace the trading state if it is still at `expectedVersion` (0 = nothing stored yet); returns the stored
   * record (version + 1). VersionConflictError when someone wrote first: re-read and decide again.
   */
  putTradingState(next: Omit<TradingStateRecord, "version">, expectedVersion: number): Promise<TradingStateRecord>;
}

// ---------- risk state: the trading state plus the risk engine's memory (one item) ----------

/**
 * The one risk state every path shares: the trading state (a superset of TradingStateRecord, same item, same
 * version) plus the risk engine's memory. Items written by trading-state-only writers have no `engine`.
 */
export interface RiskStateRecord extends TradingStateRecord {
  engine?: RiskMemorySnapshot;
}
export type RiskStateInput = Omit<RiskStateRecord, "version">;

export type PlacementCommitResult =
  | { committed: true; risk: RiskStateRecord; orders: VersionedOrder[] }
  /** Another delivery recorded this signal first: nothing was written. */
  | { committed: false; reason: "signal-exists"; existing: SignalRecord }
  /** The risk state moved since it was read: nothing was written; read again and decide again. */
  | { committed: false; reason: "risk-conflict"; actualVersion: number | undefined };

export interface RiskStateRepository {
  /** Strongly consistent read; undefined = never written. */
  getRiskState(): Promise<RiskStateRecord | undefined>;
  /** Replace it if still at `expectedVersion` (0 = nothing stored); VersionConflictError otherwise. */
  putRiskState(next: RiskStateInput, expectedVersion: number): Promise<RiskStateRecord>;
  /** The signal's recorded decision and the risk state in ONE read (BatchGetItem). */
  getSignalAndRiskState(signalId: string): Promise<{ signal?: SignalRecord; risk?: RiskStateRecord }>;
  /**
   * Record a placement decision in ONE transaction: the signal (must not exist), its orders as given (must not
   * exist) and the risk state (version check; 0 = must not exist). All or nothing.
   */
  commitPlacement(placement: {
    signal: SignalRecord;
    orders: readonly Order[];
    risk: RiskStateInput;
    expectedRiskVersion: number;
  }): Promise<PlacementCommitResult>;
}

export interface StateStore
  extends OrderRepository,
    TradingStateRepository,
    RiskStateRepository,
    FillLedger,
    PositionRepository,
    SnapshotRepository,
    SignalRepository,
    ReportRepository,
    IdempotencyRepository {}

// ---------- errors ----------

export class StateStoreError extends Error {
  override name = "StateStoreError";
}

export class OrderNotFoundError extends StateStoreError {
  override name = "OrderNotFoundError";
  constructor(readonly clientOrderId: string) {
    super(`order clientOrderId=${JSON.stringify(clientOrderId)} not found`);
  }
}

/** A fill names an order the store does not know; nothing was written. */
export class UnknownOrderError extends StateStoreError {
  override name = "UnknownOrderError";
  constructor(
    readonly clientOrderId: string,
    readonly executionId: string,
  ) {
    super(
      `fill executionId=${JSON.stringify(executionId)} names unknown clientOrderId=${JSON.stringify(clientOrderId)}`,
    );
  }
}

export class VersionConflictError extends StateStoreError {
  override name = "VersionConflictError";
  constructor(
    readonly entity: string,
    readonly expectedVersion: number,
    readonly actualVersion: number | undefined,
  ) {
    super(`version conflict on ${entity}: expected version=${expectedVersion}, found ${actualVersion ?? "none"}`);
  }
}

/** A fill kept losing optimistic-locking races; nothing was written. Safe to redeliver. */
export class FillConflictError extends StateStoreError {
  override name = "FillConflictError";
  constructor(
    readonly executionId: string,
    readonly attempts: number,
  ) {
    super(`fill executionId=${JSON.stringify(executionId)} still conflicting after ${attempts} attempts`);
  }
}
