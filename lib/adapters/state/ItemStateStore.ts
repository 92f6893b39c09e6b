// The state store, written once against the ItemBackend interface. DynamoDbStateStore and
// InMemoryStateStore only choose the backend, so both have exactly the same semantics and items.
// One file: one class implementing the StateStore port, one method per port operation over the same item layout.
import { ExponentialBackoff, handleType, retry } from "cockatiel";
import { dec, ZERO } from "../../domain/decimal";
import { InvalidFieldError } from "../../domain/errors";
import { applyFill as applyFillToOrder, type Order, transition } from "../../domain/orders";
import { applyFillToPosition, closingRealizedPnl, type Position } from "../../domain/portfolio/position";
import type { L1Quote } from "../../domain/types";
import {
  type ApplyFillOptions,
  type ApplyFillResult,
  type CreateOrderResult,
  type EquityPointRecord,
  FillConflictError,
  type FillInput,
  type FillRecord,
  type IdempotencyRecord,
  OrderNotFoundError,
  type OrderStatusPatch,
  type PlacementCommitResult,
  type ReportRecord,
  type RiskStateInput,
  type RiskStateRecord,
  type SignalRecord,
  type SnapshotView,
  type StateStore,
  type TradingStateRecord,
  UnknownOrderError,
  VersionConflictError,
  type VersionedOrder,
} from "../../ports/StateStore";
import { GSI1, GSI2 } from "../aws/tableDefinition";
import {
  equityFromItem,
  equityToItem,
  fillFromItem,
  fillToItem,
  orderFromItem,
  orderToItem,
  positionFromItem,
  positionToItem,
  reportFromItem,
  reportToItem,
  signalFromItem,
  signalToItem,
  snapshotFromItem,
  snapshotToItem,
} from "./codec";
import {
  type ConditionalPut,
  ConditionFailedError,
  type Item,
  type ItemBackend,
  TransactionCancelledError,
} from "./itemBackend";
import { indexKeys, isoKey, keyPart, keys, tailId } from "./keys";
import {
  commitPlacement,
  riskStateFromItem,
  riskStateRecord,
  riskStateWrite,
  tradingStateFromItem,
  validateSignal,
} from "./riskStateItem";

export interface FillRetryOptions {
  /** Total write attempts per fill, first included. Default 30 (16 concurrent writers on one position need ~16). */
  maxAttempts?: number;
  /** First backoff delay in ms (decorrelated jitter grows from here). Default 5. */
  initialDelayMs?: number;
  /** Cap on one backoff delay in ms. Default 200. */
  maxDelayMs?: number;
}

export interface ItemStateStoreOptions {
  fillRetry?: FillRetryOptions;
  /** Quote asset of a symbol, for booking fees into the position. Default: the part after the last '-' or '/'. */
  quoteAssetOf?: (symbol: string) => string;
}

/** Internal: a fill lost an optimistic-locking race; retried by the policy. */
class FillRaceError extends Error {
  override name = "FillRaceError";
}

const defaultQuoteAsset = (symbol: string): string => symbol.split(/[-/]/).at(-1) ?? symbol;

export class ItemStateStore implements StateStore {
  private readonly fillPolicy;
  private readonly maxAttempts: number;
  private readonly quoteAssetOf: (symbol: string) => string;

  constructor(
    readonly backend: ItemBackend,
    options: ItemStateStoreOptions = {},
  ) {
    const r = options.fillRetry ?? {};
    this.maxAttempts = r.maxAttempts ?? 30;
    if (!Number.isInteger(this.maxAttempts) || this.maxAttempts < 1)
      throw new InvalidFieldError("fillRetry.maxAttempts", this.maxAttempts, "must be an integer >= 1");
    this.fillPolicy = retry(handleType(FillRaceError), {
      // cockatiel counts retries, not attempts
      maxAttempts: this.maxAttempts - 1,
      backoff: new ExponentialBackoff({ initialDelay: r.initialDelayMs ?? 5, maxDelay: r.maxDelayMs ?? 200 }),
    });
    this.quoteAssetOf = options.quoteAssetOf ?? defaultQuoteAsset;
  }

  // ---------------- orders ----------------

  async createPendingOrder(order: Order): Promise<CreateOrderResult> {
    keyPart("order.strategyId", order.strategyId);
    keyPart("order.symbol", order.symbol);
    keyPart("order.venue", order.venue);
    const stored: VersionedOrder = { order, version: 1 };
    try {
      await this.backend.put({ item: orderToItem(order, 1), condition: { kind: "notExists" } });
      return { created: true, order: stored };
    } catch (err) {
      if (err instanceof ConditionFailedError) {
        const existing = err.existing ?? (await this.backend.get(keys.order(order.clientOrderId)));
        if (!existing) throw err;
        return { created: false, existing: orderFromItem(existing) };
      }
      throw err;
    }
  }

  async updateOrderStatus(
    clientOrderId: string,
    expectedVersion: number,
    patch: OrderStatusPatch,
    known?: Order,
  ): Promise<VersionedOrder> {
    let current: VersionedOrder;
    if (known && known.clientOrderId === clientOrderId) {
      // The caller's copy at expectedVersion: no read. The versioned put below refuses it if it is stale.
      current = { order: known, version: expectedVersion };
    } else {
      const item = await this.backend.get(keys.order(clientOrderId));
      if (!item) throw new OrderNotFoundError(clientOrderId);
      current = orderFromItem(item);
      if (current.version !== expectedVersion)
        throw new VersionConflictError(`order ${clientOrderId}`, expectedVersion, current.version);
    }
    const details: { exchangeOrderId?: string; errorMessage?: string } = {};
    if (patch.exchangeOrderId !== undefined) details.exchangeOrderId = patch.exchangeOrderId;
    if (patch.errorMessage !== undefined) details.errorMessage = patch.errorMessage;
    // The domain state machine decides; an illegal move throws before anything is written.
    const next = transition(current.order, patch.status, patch.at, details);
    const version = expectedVersion + 1;
    try {
      await this.backend.put({
        item: orderToItem(next, version),
        condition: { kind: "versionIs", version: expectedVersion },
      });
    } catch (err) {
      if (err instanceof ConditionFailedError) {
        const actual = typeof err.existing?.version === "number" ? err.existing.version : undefined;
        throw new VersionConflictError(`order ${clientOrderId}`, expectedVersion, actual);
      }
      throw err;
    }
    return { order: next, version };
  }

  async getOrder(clientOrderId: string): Promise<VersionedOrder | undefined> {
    const item = await this.backend.get(keys.order(clientOrderId));
    return item ? orderFromItem(item) : undefined;
  }

  async listOrdersByStrategy(
    strategyId: string,
    options: { status?: Order["status"] } = {},
  ): Promise<VersionedOrder[]> {
    const items = await this.backend.query({
      index: GSI1,
      partitionValue: indexKeys.ordersByStrategy(strategyId),
      ...(options.status ? { sortBeginsWith: `${options.status}#` } : {}),
    });
    const orders = items.map(orderFromItem);
    // gsi1sk starts with the status; callers want creation order.
    return orders.sort(
      (a, b) => a.order.createdAt - b.order.createdAt || cmp(a.order.clientOrderId, b.order.clientOrderId),
    );
  }

  async listOpenOrders(options: { strategyId?: string } = {}): Promise<VersionedOrder[]> {
    const items = await this.backend.query({
      index: GSI2,
      partitionValue: indexKeys.openOrders,
      ...(options.strategyId ? { sortBeginsWith: `${keyPart("strategyId", options.strategyId)}#` } : {}),
    });
    return items
      .map(orderFromItem)
      .sort((a, b) => a.order.createdAt - b.order.createdAt || cmp(a.order.clientOrderId, b.order.clientOrderId));
  }

  // ---------------- fills ----------------

  async applyFill(fill: FillInput, options: ApplyFillOptions = {}): Promise<ApplyFillResult> {
    validateFill(fill);
    try {
      return await this.fillPolicy.execute(({ attempt }) => this.tryApplyFill(fill, attempt + 1, options));
    } catch (err) {
      if (err instanceof FillRaceError) throw new FillConflictError(fill.executionId, this.maxAttempts);
      throw err;
    }
  }

  /** One read (fill + order + position together when the strategy is known) and one transaction. */
  private async tryApplyFill(fill: FillInput, attempt: number, options: ApplyFillOptions): Promise<ApplyFillResult> {
    const fillKey = keys.fill(fill.executionId);
    const orderKey = keys.order(fill.clientOrderId);
    // The risk state rides in the same read (and the same transaction) when the caller updates it.
    const readKeys = [fillKey, orderKey, keys.tradingState()];
    if (fill.strategyId !== undefined) readKeys.push(keys.position(fill.strategyId, fill.symbol));
    if (!options.riskState) readKeys.splice(2, 1);
    const read = await this.backend.getMany(readKeys);
    const [fillItem, orderItem] = read;
    const riskItem = options.riskState ? read[2] : undefined;
    const knownPosItem = read[options.riskState ? 3 : 2];
    if (fillItem) return { applied: false, duplicate: true, fill: fillFromItem(fillItem) };
    if (!orderItem) throw new UnknownOrderError(fill.clientOrderId, fill.executionId);
    const current = orderFromItem(orderItem);
    const order = current.order;
    if (fill.strategyId !== undefined && fill.strategyId !== order.strategyId)
      throw new InvalidFieldError(
        "fill.strategyId",
        fill.strategyId,
        `order ${order.clientOrderId} belongs to ${order.strategyId}`,
      );
    if (fill.symbol !== order.symbol)
      throw new InvalidFieldError("fill.symbol", fill.symbol, `order ${order.clientOrderId} is for ${order.symbol}`);
    if (fill.side !== order.side)
      throw new InvalidFieldError("fill.side", fill.side, `order ${order.clientOrderId} is a ${order.side}`);
    const posItem =
      fill.strategyId !== undefined
        ? knownPosItem
        : await this.backend.get(keys.position(order.strategyId, order.symbol));
    const previous: Position | undefined = posItem ? positionFromItem(posItem) : undefined;

    const fee = dec(fill.fee, "fill.fee");
    const quoteFee = fill.feeAsset === this.quoteAssetOf(fill.symbol) ? fee : ZERO;
    const update = applyFillToPosition(
      previous,
      {
        strategyId: order.strategyId,
        symbol: order.symbol,
        venue: fill.venue,
        side: fill.side,
        quantity: fill.quantity,
        price: fill.price,
        fee,
        feeCurrency: fill.feeAsset,
        ts: fill.ts,
        fillId: fill.executionId,
        orderId: order.orderId,
      },
      quoteFee,
    );
    // An execution proves the exchange holds the order, even if our "submitted" write has not landed yet.
    const now = Math.max(order.updatedAt, fill.ts);
    let base = order;
    if (base.status === "pending-new")
      base = transition(base, "submitted", now, fill.exchangeOrderId ? { exchangeOrderId: fill.exchangeOrderId } : {});
    if (base.exchangeOrderId === undefined && fill.exchangeOrderId !== undefined)
      base = { ...base, exchangeOrderId: fill.exchangeOrderId };
    const nextOrder = applyFillToOrder(
      base,
      { quantity: fill.quantity, price: fill.price, fee, realizedPnl: update.realizedPnlDelta },
      now,
    );
    const record: FillRecord = {
      executionId: fill.executionId,
      clientOrderId: order.clientOrderId,
      orderId: order.orderId,
      strategyId: order.strategyId,
      ...(fill.exchangeOrderId !== undefined ? { exchangeOrderId: fill.exchangeOrderId } : {}),
      venue: fill.venue,
      symbol: fill.symbol,
      side: fill.side,
      quantity: dec(fill.quantity, "fill.quantity").toFixed(),
      price: dec(fill.price, "fill.price").toFixed(),
      fee: fee.toFixed(),
      feeAsset: fill.feeAsset,
      ...(fill.liquidity !== undefined ? { liquidity: fill.liquidity } : {}),
      ...(fill.sequence !== undefined ? { sequence: fill.sequence } : {}),
      ts: fill.ts,
      realizedPnl: closingRealizedPnl(update),
    };
    const nextVersion = current.version + 1;
    const writes: ConditionalPut[] = [
      { item: fillToItem(record), condition: { kind: "notExists" } },
      { item: orderToItem(nextOrder, nextVersion), condition: { kind: "versionIs", version: current.version } },
      {
        item: positionToItem(update.position),
        condition: previous ? { kind: "versionIs", version: previous.version } : { kind: "notExists" },
      },
    ];
    let risk: RiskStateRecord | undefined;
    if (options.riskState) {
      const cur = riskItem ? riskStateFromItem(riskItem) : undefined;
      const next = options.riskState(cur, record);
      if (next) {
        risk = riskStateRecord(next, cur?.version ?? 0);
        writes.push(riskStateWrite(risk, cur?.version ?? 0));
      }
    }
    try {
      await this.backend.transactWrite(writes);
    } catch (err) {
      if (err instanceof TransactionCancelledError) {
        const fillReason = err.reasons[0];
        if (fillReason?.code === "ConditionalCheckFailed") {
          // Another delivery of the same execution won the race: a no-op for us.
          return {
            applied: false,
            duplicate: true,
            fill: fillReason.existing ? fillFromItem(fillReason.existing) : await this.getFill(fill.executionId),
          };
        }
        throw new FillRaceError(`fill ${fill.executionId}: ${err.message}`);
      }
      throw err;
    }
    return {
      applied: true,
      duplicate: false,
      fill: record,
      order: { order: nextOrder, version: nextVersion },
      position: update.position,
      previousPosition: previous,
      attempts: attempt,
      ...(risk ? { risk } : {}),
    };
  }

  async getFill(executionId: string): Promise<FillRecord | undefined> {
    const item = await this.backend.get(keys.fill(executionId));
    return item ? fillFromItem(item) : undefined;
  }

  async listFillsByOrder(clientOrderId: string): Promise<FillRecord[]> {
    const items = await this.backend.query({ index: GSI1, partitionValue: indexKeys.fillsByOrder(clientOrderId) });
    return items.map(fillFromItem);
  }

  async listFillsByStrategy(strategyId: string, window: { from?: number; to?: number } = {}): Promise<FillRecord[]> {
    const items = await this.backend.query({
      index: GSI2,
      partitionValue: indexKeys.fillsByStrategy(strategyId),
      ...timeWindow(window),
    });
    return items.map(fillFromItem);
  }

  // ---------------- positions ----------------

  async getPosition(strategyId: string, symbol: string): Promise<Position | undefined> {
    const item = await this.backend.get(keys.position(strategyId, symbol));
    return item ? positionFromItem(item) : undefined;
  }

  async listPositions(options: { strategyId?: string } = {}): Promise<Position[]> {
    const items = await this.backend.query({
      index: GSI1,
      partitionValue: indexKeys.positions,
      ...(options.strategyId ? { sortBeginsWith: `${keyPart("strategyId", options.strategyId)}#` } : {}),
    });
    return items.map(positionFromItem);
  }

  // ---------------- snapshots ----------------

  async putSnapshot(quote: L1Quote, sequence?: number): Promise<{ stored: boolean }> {
    isoKey("quote.ts", quote.ts);
    if (dec(quote.bid, "quote.bid").gt(dec(quote.ask, "quote.ask")))
      throw new InvalidFieldError(
        "quote.ask",
        quote.ask.toFixed(),
        `must be >= bid ${quote.bid.toFixed()} (crossed book)`,
      );
    try {
      await this.backend.put({
        item: snapshotToItem(quote, sequence),
        condition: { kind: "notExistsOrOlder", attribute: "ts", value: quote.ts },
      });
      return { stored: true };
    } catch (err) {
      if (err instanceof ConditionFailedError) return { stored: false };
      throw err;
    }
  }

  async getSnapshot(
    venue: string,
    symbol: string,
    freshness: { now: number; maxAgeMs: number },
  ): Promise<SnapshotView | undefined> {
    const item = await this.backend.get(keys.snapshot(venue, symbol));
    return item ? view(snapshotFromItem(item), freshness) : undefined;
  }

  async getSnapshots(
    venues: readonly string[],
    symbol: string,
    freshness: { now: number; maxAgeMs: number },
  ): Promise<SnapshotView[]> {
    if (venues.length === 0) return [];
    const items = await this.backend.getMany(venues.map((v) => keys.snapshot(v, symbol)));
    return items.filter((i) => i !== undefined).map((i) => view(snapshotFromItem(i), freshness));
  }

  async listSnapshots(symbol: string, freshness: { now: number; maxAgeMs: number }): Promise<SnapshotView[]> {
    const items = await this.backend.query({ index: GSI1, partitionValue: indexKeys.snapshotsBySymbol(symbol) });
    return items.map((i) => view(snapshotFromItem(i), freshness));
  }

  // ---------------- signals ----------------

  async recordSignal(signal: SignalRecord): Promise<{ recorded: true } | { recorded: false; existing: SignalRecord }> {
    validateSignal(signal);
    try {
      await this.backend.put({ item: signalToItem(signal), condition: { kind: "notExists" } });
      return { recorded: true };
    } catch (err) {
      if (err instanceof ConditionFailedError) {
        const existing = err.existing ?? (await this.backend.get(keys.signal(signal.signalId)));
        if (!existing) throw err;
        return { recorded: false, existing: signalFromItem(existing) };
      }
      throw err;
    }
  }

  async getSignal(signalId: string): Promise<SignalRecord | undefined> {
    const item = await this.backend.get(keys.signal(signalId));
    return item ? signalFromItem(item) : undefined;
  }

  async listSignalsByStrategy(strategyId: string): Promise<SignalRecord[]> {
    const items = await this.backend.query({ index: GSI1, partitionValue: indexKeys.signalsByStrategy(strategyId) });
    return items.map(signalFromItem);
  }

  // ---------------- reports & equity ----------------

  async saveReport(report: ReportRecord): Promise<void> {
    tailId("report.reportId", report.reportId);
    await this.backend.put({ item: reportToItem(report) });
  }

  async getLatestReport(strategyId: string): Promise<ReportRecord | undefined> {
    const [latest] = await this.listReports(strategyId, { limit: 1 });
    return latest;
  }

  async listReports(strategyId: string, options: { limit?: number } = {}): Promise<ReportRecord[]> {
    const items = await this.backend.query({
      partitionValue: keys.reportPartition(strategyId),
      ascending: false,
      ...(options.limit !== undefined ? { limit: options.limit } : {}),
    });
    return items.map(reportFromItem);
  }

  async appendEquityPoints(points: readonly EquityPointRecord[]): Promise<void> {
    for (const p of points) dec(p.equity, "equity");
    const items = points.map(equityToItem);
    if (items.length > 0) await this.backend.putMany(items);
  }

  async listEquityPoints(
    strategyId: string,
    window: { from?: number; to?: number } = {},
  ): Promise<EquityPointRecord[]> {
    const items = await this.backend.query({ partitionValue: keys.equityPartition(strategyId), ...timeWindow(window) });
    return items.map(equityFromItem);
  }

  // ---------------- engine trading state ----------------

  async getTradingState(): Promise<TradingStateRecord | undefined> {
    const item = await this.backend.get(keys.tradingState());
    return item ? tradingStateFromItem(item) : undefined;
  }

  /** A trading-state-only writer: the risk engine's memory on the item is kept as it is. */
  async putTradingState(
    next: Omit<TradingStateRecord, "version">,
    expectedVersion: number,
  ): Promise<TradingStateRecord> {
    const fields = { state: next.state, strategies: next.strategies, reason: next.reason, at: next.at };
    const input: RiskStateInput = { ...fields, ...(next.source !== undefined ? { source: next.source } : {}) };
    riskStateRecord(input, expectedVersion); // validate before the read
    const cur = await this.backend.get(keys.tradingState());
    const engine = cur?.engine as RiskStateRecord["engine"];
    const written = await this.putRiskState({ ...input, ...(engine ? { engine } : {}) }, expectedVersion);
    const { engine: _kept, ...trading } = written;
    return trading;
  }

  async getRiskState(): Promise<RiskStateRecord | undefined> {
    const item = await this.backend.get(keys.tradingState());
    return item ? riskStateFromItem(item) : undefined;
  }

  async putRiskState(next: RiskStateInput, expectedVersion: number): Promise<RiskStateRecord> {
    const record = riskStateRecord(next, expectedVersion);
    try {
      await this.backend.put(riskStateWrite(record, expectedVersion));
    } catch (err) {
      if (err instanceof ConditionFailedError) {
        const cur = err.existing ?? (await this.backend.get(keys.tradingState()));
        throw new VersionConflictError("RISKSTATE", expectedVersion, cur ? Number(cur.version) : undefined);
      }
      throw err;
    }
    return record;
  }

  async getSignalAndRiskState(signalId: string): Promise<{ signal?: SignalRecord; risk?: RiskStateRecord }> {
    const [sig, risk] = await this.backend.getMany([keys.signal(signalId), keys.tradingState()]);
    return { ...(sig ? { signal: signalFromItem(sig) } : {}), ...(risk ? { risk: riskStateFromItem(risk) } : {}) };
  }

  commitPlacement(p: Parameters<typeof commitPlacement>[1]): Promise<PlacementCommitResult> {
    return commitPlacement(this.backend, p);
  }

  // ---------------- idempotency ----------------

  async claimIdempotencyKey(
    key: string,
    result: unknown,
    ttlSeconds: number,
    now: number,
  ): Promise<{ claimed: true } | { claimed: false; existing: IdempotencyRecord }> {
    if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0)
      throw new InvalidFieldError("ttlSeconds", ttlSeconds, "must be a positive integer");
    const nowSeconds = Math.floor(now / 1000);
    const item: Item = {
      ...keys.idempotency(key),
      entity: "IDEMPOTENCY",
      key,
      result,
      expiresAt: nowSeconds + ttlSeconds,
    };
    try {
      // An expired record counts as absent: DynamoDB TTL deletes lazily (up to days later).
      await this.backend.put({
        item,
        condition: { kind: "notExistsOrExpired", attribute: "expiresAt", value: nowSeconds },
      });
      return { claimed: true };
    } catch (err) {
      if (err instanceof ConditionFailedError) {
        const existing = err.existing ?? (await this.backend.get(keys.idempotency(key)));
        if (!existing) throw err;
        return { claimed: false, existing: idempotencyFromItem(existing) };
      }
      throw err;
    }
  }

  async getIdempotencyRecord(key: string, now: number): Promise<IdempotencyRecord | undefined> {
    const item = await this.backend.get(keys.idempotency(key));
    if (!item) return undefined;
    const record = idempotencyFromItem(item);
    return record.expiresAt > Math.floor(now / 1000) ? record : undefined;
  }

  /**
   * Every stored item in canonical form: items sorted by key, attributes sorted by name (DynamoDB returns
   * attributes in no particular order), so tests can compare whole-table state byte for byte.
   */
  async dumpItems(): Promise<Item[]> {
    const items = await this.backend.scanAll();
    return items.sort((a, b) => cmp(`${a.pk}\u0000${a.sk}`, `${b.pk}\u0000${b.sk}`)).map((i) => canonical(i) as Item);
  }
}

function idempotencyFromItem(item: Item): IdempotencyRecord {
  return { key: String(item.key), result: item.result, expiresAt: Number(item.expiresAt) };
}

function view(s: { quote: L1Quote; sequence?: number }, f: { now: number; maxAgeMs: number }): SnapshotView {
  const ageMs = f.now - s.quote.ts;
  return { ...s, ageMs, stale: ageMs > f.maxAgeMs };
}

function timeWindow(w: { from?: number; to?: number }): { sortBetween?: [string, string] } {
  if (w.from === undefined && w.to === undefined) return {};
  // '~' sorts after '#' and every id character, so `<to ISO>~` includes every item at `to`.
  return { sortBetween: [isoKey("from", w.from ?? 0), `${isoKey("to", w.to ?? 253402300799999)}~`] };
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = canonical((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function validateFill(f: FillInput): void {
  tailId("fill.executionId", f.executionId);
  tailId("fill.clientOrderId", f.clientOrderId);
  if (f.strategyId !== undefined) keyPart("fill.strategyId", f.strategyId);
  keyPart("fill.venue", f.venue);
  keyPart("fill.symbol", f.symbol);
  if (f.side !== "BUY" && f.side !== "SELL") throw new InvalidFieldError("fill.side", f.side, "must be BUY or SELL");
  if (!dec(f.quantity, "fill.quantity").gt(0))
    throw new InvalidFieldError("fill.quantity", String(f.quantity), "must be > 0");
  if (!dec(f.price, "fill.price").gt(0)) throw new InvalidFieldError("fill.price", String(f.price), "must be > 0");
  dec(f.fee, "fill.fee");
  if (typeof f.feeAsset !== "string" || !/^[A-Z0-9]{1,20}$/.test(f.feeAsset))
    throw new InvalidFieldError("fill.feeAsset", f.feeAsset, 'must be an asset code like "USD"');
  isoKey("fill.ts", f.ts);
}
