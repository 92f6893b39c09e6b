// The narrow item-level interface the state store is written against. Two implementations:
// DynamoDB (lib/adapters/aws/DynamoDbItemBackend.ts) and in-memory (lib/adapters/embedded/InMemoryItemBackend.ts).
// Every write is a whole-item Put with a structured condition, so both backends evaluate the SAME
// conditions and hold byte-for-byte the same items.

/** A stored item: plain JSON values only (strings for decimals, numbers for versions/epoch ms). */
export type Item = Record<string, unknown>;

export interface ItemKey {
  pk: string;
  sk: string;
}

/** Conditions a write may carry. Translated to ConditionExpressions for DynamoDB, evaluated directly in memory. */
export type WriteCondition =
  /** The item must not exist (first write wins). */
  | { kind: "notExists" }
  /** The item must exist with exactly this version (optimistic lock). */
  | { kind: "versionIs"; version: number }
  /** The item must not exist, or its numeric `attribute` must be lower than `value` (newer-wins). */
  | { kind: "notExistsOrOlder"; attribute: string; value: number }
  /** The item must not exist, or its numeric `attribute` must be <= `value` (expired idempotency record). */
  | { kind: "notExistsOrExpired"; attribute: string; value: number };

export interface ConditionalPut {
  item: Item;
  condition?: WriteCondition;
}

/** A conditional put failed; `existing` is the item as stored at that moment when the backend could tell. */
export class ConditionFailedError extends Error {
  constructor(
    readonly key: ItemKey,
    readonly existing: Item | undefined,
  ) {
    super(`condition failed for ${key.pk}/${key.sk}`);
    this.name = "ConditionFailedError";
  }
}

export type CancellationCode = "None" | "ConditionalCheckFailed" | "TransactionConflict" | "Other";

/** A transaction was cancelled; `reasons[i]` belongs to the i-th put, as DynamoDB's CancellationReasons. */
export class TransactionCancelledError extends Error {
  constructor(readonly reasons: readonly { code: CancellationCode; existing?: Item }[]) {
    super(`transaction cancelled: [${reasons.map((r) => r.code).join(", ")}]`);
    this.name = "TransactionCancelledError";
  }
}

export interface ItemQuery {
  /** undefined = base table (pk/sk); otherwise the GSI name from tableDefinition. */
  index?: string;
  partitionValue: string;
  sortBeginsWith?: string;
  /** Inclusive sort-key range. */
  sortBetween?: [string, string];
  /** Newest first when false. Default true. */
  ascending?: boolean;
  limit?: number;
}

export interface ItemBackend {
  /** Strongly consistent reads of several keys in one request; result is aligned with `keys`. */
  getMany(keys: readonly ItemKey[]): Promise<(Item | undefined)[]>;
  get(key: ItemKey): Promise<Item | undefined>;
  put(write: ConditionalPut): Promise<void>;
  /** Unconditional puts in as few requests as the backend allows (not atomic as a group). */
  putMany(items: readonly Item[]): Promise<void>;
  /** All-or-nothing: every condition holds and every put is written, or nothing is. */
  transactWrite(writes: readonly ConditionalPut[]): Promise<void>;
  query(query: ItemQuery): Promise<Item[]>;
  /** Every item (tests compare whole-table state). Not for production paths. */
  scanAll(): Promise<Item[]>;
}

export function keyOf(item: Item): ItemKey {
  return { pk: String(item.pk), sk: String(item.sk) };
}

/** Evaluate a condition against the current item (in-memory backend, and tests). */
export function conditionHolds(condition: WriteCondition | undefined, current: Item | undefined): boolean {
  if (!condition) return true;
  switch (condition.kind) {
    case "notExists":
      return current === undefined;
    case "versionIs":
      return current !== undefined && current.version === condition.version;
    case "notExistsOrOlder": {
      if (current === undefined) return true;
      const v = current[condition.attribute];
      return typeof v === "number" && v < condition.value;
    }
    case "notExistsOrExpired": {
      if (current === undefined) return true;
      const v = current[condition.attribute];
      return typeof v === "number" && v <= condition.value;
    }
  }
}
