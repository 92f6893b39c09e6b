// Domain objects <-> stored items. Decimals become exact strings (toFixed: no exponent, no float).
import { type Decimal, dec } from "../../domain/decimal";
import { InvalidFieldError } from "../../domain/errors";
import { isTerminal, type Order, type OrderStatus } from "../../domain/orders";
import { type Position, positionFromRecord, positionToRecord } from "../../domain/portfolio/position";
import type { L1Quote } from "../../domain/types";
import type {
  EquityPointRecord,
  FillRecord,
  ReportRecord,
  SignalRecord,
  StoredSnapshot,
  VersionedOrder,
} from "../../ports/StateStore";
import type { Item } from "./itemBackend";
import { indexKeys, isoKey, keys } from "./keys";

const s = (d: Decimal): string => d.toFixed();
const str = (item: Item, field: string): string => {
  const v = item[field];
  if (typeof v !== "string")
    throw new InvalidFieldError(`item.${field}`, v, `stored ${String(item.pk)} lacks a string`);
  return v;
};
const num = (item: Item, field: string): number => {
  const v = item[field];
  if (typeof v !== "number")
    throw new InvalidFieldError(`item.${field}`, v, `stored ${String(item.pk)} lacks a number`);
  return v;
};
const optStr = (item: Item, field: string): string | undefined =>
  typeof item[field] === "string" ? (item[field] as string) : undefined;

// ---------- orders ----------

export function orderToItem(order: Order, version: number): Item {
  const created = isoKey("createdAt", order.createdAt);
  const item: Item = {
    ...keys.order(order.clientOrderId),
    entity: "ORDER",
    gsi1pk: indexKeys.ordersByStrategy(order.strategyId),
    gsi1sk: `${order.status}#${created}#${order.clientOrderId}`,
    version,
    orderId: order.orderId,
    clientOrderId: order.clientOrderId,
    strategyId: order.strategyId,
    exchangeOrderId: order.exchangeOrderId,
    signalId: order.signalId,
    symbol: order.symbol,
    venue: order.venue,
    side: order.side,
    type: order.type,
    timeInForce: order.timeInForce,
    postOnly: order.postOnly,
    quantity: s(order.quantity),
    limitPrice: order.limitPrice ? s(order.limitPrice) : undefined,
    tag: order.tag,
    status: order.status,
    filledQuantity: s(order.filledQuantity),
    remainingQuantity: s(order.remainingQuantity),
    filledNotional: s(order.filledNotional),
    averageFillPrice: order.averageFillPrice ? s(order.averageFillPrice) : undefined,
    commission: s(order.commission),
    realizedPnl: s(order.realizedPnl),
    createdAt: order.createdAt,
    updatedAt: order.updatedAt,
    errorMessage: order.errorMessage,
  };
  // Sparse index: only orders that may still trade are listed as open.
  if (!isTerminal(order.status)) {
    item.gsi2pk = indexKeys.openOrders;
    item.gsi2sk = `${order.strategyId}#${created}#${order.clientOrderId}`;
  }
  return dropUndefined(item);
}

export function orderFromItem(item: Item): VersionedOrder {
  const order: Order = {
    orderId: str(item, "orderId"),
    clientOrderId: str(item, "clientOrderId"),
    strategyId: str(item, "strategyId"),
    symbol: str(item, "symbol"),
    venue: str(item, "venue"),
    side: str(item, "side") as Order["side"],
    type: str(item, "type") as Order["type"],
    timeInForce: str(item, "timeInForce") as Order["timeInForce"],
    postOnly: item.postOnly === true,
    quantity: dec(str(item, "quantity"), "quantity"),
    status: str(item, "status") as OrderStatus,
    filledQuantity: dec(str(item, "filledQuantity"), "filledQuantity"),
    remainingQuantity: dec(str(item, "remainingQuantity"), "remainingQuantity"),
    filledNotional: dec(str(item, "filledNotional"), "filledNotional"),
    commission: dec(str(item, "commission"), "commission"),
    realizedPnl: dec(str(item, "realizedPnl"), "realizedPnl"),
    createdAt: num(item, "createdAt"),
    updatedAt: num(item, "updatedAt"),
  };
  const exchangeOrderId = optStr(item, "exchangeOrderId");
  if (exchangeOrderId !== undefined) order.exchangeOrderId = exchangeOrderId;
  const signalId = optStr(item, "signalId");
  if (signalId !== undefined) order.signalId = signalId;
  const limitPrice = optStr(item, "limitPrice");
  if (limitPrice !== undefined) order.limitPrice = dec(limitPrice, "limitPrice");
  const tag = optStr(item, "tag");
  if (tag !== undefined) order.tag = tag;
  const avg = optStr(item, "averageFillPrice");
  if (avg !== undefined) order.averageFillPrice = dec(avg, "averageFillPrice");
  const errorMessage = optStr(item, "errorMessage");
  if (errorMessage !== undefined) order.errorMessage = errorMessage;
  return { order, version: num(item, "version") };
}

// ---------- positions ----------

export function positionToItem(p: Position): Item {
  return dropUndefined({
    ...keys.position(p.strategyId, p.symbol),
    entity: "POSITION",
    gsi1pk: indexKeys.positions,
    gsi1sk: `${p.strategyId}#${p.symbol}`,
    ...positionToRecord(p),
  });
}

export function positionFromItem(item: Item): Position {
  return positionFromRecord({
    strategyId: str(item, "strategyId"),
    symbol: str(item, "symbol"),
    venue: str(item, "venue"),
    quantity: str(item, "quantity"),
    averageEntryPrice: str(item, "averageEntryPrice"),
    costBasis: str(item, "costBasis"),
    realizedPnl: str(item, "realizedPnl"),
    fees: str(item, "fees"),
    fillCount: num(item, "fillCount"),
    version: num(item, "version"),
    ...(typeof item.openedAt === "number" ? { openedAt: item.openedAt } : {}),
    updatedAt: num(item, "updatedAt"),
  });
}

// ---------- fills ----------

export function fillToItem(f: FillRecord): Item {
  const at = `${isoKey("ts", f.ts)}#${f.executionId}`;
  return dropUndefined({
    ...keys.fill(f.executionId),
    entity: "FILL",
    gsi1pk: indexKeys.fillsByOrder(f.clientOrderId),
    gsi1sk: at,
    gsi2pk: indexKeys.fillsByStrategy(f.strategyId),
    gsi2sk: at,
    ...f,
  });
}

const FILL_FIELDS = [
  "executionId",
  "clientOrderId",
  "orderId",
  "strategyId",
  "exchangeOrderId",
  "venue",
  "symbol",
  "side",
  "quantity",
  "price",
  "fee",
  "feeAsset",
  "liquidity",
  "sequence",
  "ts",
  "realizedPnl",
] as const;

export function fillFromItem(item: Item): FillRecord {
  const out: Record<string, unknown> = {};
  for (const f of FILL_FIELDS) if (item[f] !== undefined) out[f] = item[f];
  str(item, "executionId");
  num(item, "ts");
  out.realizedPnl ??= null; // an opening fill
  return out as unknown as FillRecord;
}

// ---------- snapshots ----------

export function snapshotToItem(q: L1Quote, sequence: number | undefined): Item {
  return dropUndefined({
    ...keys.snapshot(q.venue, q.symbol),
    entity: "SNAPSHOT",
    gsi1pk: indexKeys.snapshotsBySymbol(q.symbol),
    gsi1sk: q.venue,
    venue: q.venue,
    symbol: q.symbol,
    bid: s(dec(q.bid, "bid")),
    ask: s(dec(q.ask, "ask")),
    bidSize: s(dec(q.bidSize, "bidSize")),
    askSize: s(dec(q.askSize, "askSize")),
    ts: q.ts,
    sequence,
  });
}

export function snapshotFromItem(item: Item): StoredSnapshot {
  const quote: L1Quote = {
    ts: num(item, "ts"),
    venue: str(item, "venue"),
    symbol: str(item, "symbol"),
    bid: dec(str(item, "bid"), "bid"),
    ask: dec(str(item, "ask"), "ask"),
    bidSize: dec(str(item, "bidSize"), "bidSize"),
    askSize: dec(str(item, "askSize"), "askSize"),
  };
  return typeof item.sequence === "number" ? { quote, sequence: item.sequence } : { quote };
}

// ---------- signals, reports, equity ----------

export function signalToItem(sig: SignalRecord): Item {
  return dropUndefined({
    ...keys.signal(sig.signalId),
    entity: "SIGNAL",
    gsi1pk: indexKeys.signalsByStrategy(sig.strategyId),
    gsi1sk: `${isoKey("ts", sig.ts)}#${sig.signalId}`,
    ...sig,
  });
}

const SIGNAL_FIELDS = [
  "signalId",
  "strategyId",
  "status",
  "reason",
  "rule",
  "ts",
  "clientOrderIds",
  "details",
] as const;
export function signalFromItem(item: Item): SignalRecord {
  return pick(item, SIGNAL_FIELDS) as unknown as SignalRecord;
}

export function reportToItem(r: ReportRecord): Item {
  return dropUndefined({ ...keys.report(r.strategyId, r.asOf), entity: "REPORT", ...r });
}
const REPORT_FIELDS = [
  "reportId",
  "strategyId",
  "asOf",
  "metrics",
  "trigger",
  "periodStart",
  "positionVersions",
  "ledger",
] as const;
export function reportFromItem(item: Item): ReportRecord {
  return pick(item, REPORT_FIELDS) as unknown as ReportRecord;
}

export function equityToItem(p: EquityPointRecord): Item {
  return dropUndefined({ ...keys.equity(p.strategyId, p.ts), entity: "EQUITY", ...p });
}
const EQUITY_FIELDS = ["strategyId", "ts", "equity", "realizedPnl", "unrealizedPnl", "fees"] as const;
export function equityFromItem(item: Item): EquityPointRecord {
  return pick(item, EQUITY_FIELDS) as unknown as EquityPointRecord;
}

// ---------- helpers ----------

function pick(item: Item, fields: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) if (item[f] !== undefined) out[f] = item[f];
  return out;
}

/** DynamoDB cannot store undefined; dropping it here keeps both backends' items identical. */
export function dropUndefined(item: Item): Item {
  const out: Item = {};
  for (const [k, v] of Object.entries(item)) if (v !== undefined) out[k] = v;
  return out;
}
