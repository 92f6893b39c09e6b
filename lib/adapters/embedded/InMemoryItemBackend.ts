// In-process item backend with DynamoDB's semantics for what the state store uses: conditional puts,
// all-or-nothing transactions with per-item cancellation reasons, sparse GSIs, sorted queries.
// Each operation runs synchronously after one await, so concurrent async callers interleave only
// between operations, exactly like separate DynamoDB requests (optimistic locking is what protects them).
import { TABLE_ATTRIBUTES, TABLE_DEFINITION } from "../aws/tableDefinition";
import {
  type CancellationCode,
  type ConditionalPut,
  ConditionFailedError,
  conditionHolds,
  type Item,
  type ItemBackend,
  type ItemKey,
  type ItemQuery,
  keyOf,
  TransactionCancelledError,
} from "../state/itemBackend";

const mapKey = (k: ItemKey): string => `${k.pk}\u0000${k.sk}`;
// Items are stored as JSON text: no aliasing between callers and the store, and what we hold is serialized data.
const freeze = (item: Item): string => JSON.stringify(item);
const thaw = (text: string): Item => JSON.parse(text) as Item;

export class InMemoryItemBackend implements ItemBackend {
  private readonly items = new Map<string, string>();
  /** Number of operations served (the in-memory analogue of DynamoDB requests). */
  operations = 0;

  private current(key: ItemKey): Item | undefined {
    const text = this.items.get(mapKey(key));
    return text === undefined ? undefined : thaw(text);
  }

  private async tick(): Promise<void> {
    this.operations++;
    // Yield once so callers interleave like real network calls.
    await Promise.resolve();
  }

  async getMany(keys: readonly ItemKey[]): Promise<(Item | undefined)[]> {
    await this.tick();
    return keys.map((k) => this.current(k));
  }

  async get(key: ItemKey): Promise<Item | undefined> {
    await this.tick();
    return this.current(key);
  }

  async put(write: ConditionalPut): Promise<void> {
    await this.tick();
    const key = keyOf(write.item);
    const existing = this.current(key);
    if (!conditionHolds(write.condition, existing)) throw new ConditionFailedError(key, existing);
    this.items.set(mapKey(key), freeze(write.item));
  }

  async putMany(items: readonly Item[]): Promise<void> {
    await this.tick();
    for (const item of items) this.items.set(mapKey(keyOf(item)), freeze(item));
  }

  async transactWrite(writes: readonly ConditionalPut[]): Promise<void> {
    await this.tick();
    const seen = new Set<string>();
    for (const w of writes) {
      const k = mapKey(keyOf(w.item));
      if (seen.has(k)) throw new Error(`transaction touches ${k} twice (DynamoDB rejects this)`);
      seen.add(k);
    }
    const reasons = writes.map((w) => {
      const existing = this.current(keyOf(w.item));
      const ok = conditionHolds(w.condition, existing);
      return ok
        ? { code: "None" as CancellationCode }
        : { code: "ConditionalCheckFailed" as CancellationCode, ...(existing ? { existing } : {}) };
    });
    if (reasons.some((r) => r.code !== "None")) throw new TransactionCancelledError(reasons);
    for (const w of writes) this.items.set(mapKey(keyOf(w.item)), freeze(w.item));
  }

  async query(q: ItemQuery): Promise<Item[]> {
    await this.tick();
    const index = q.index ? TABLE_DEFINITION.globalSecondaryIndexes.find((g) => g.indexName === q.index) : undefined;
    if (q.index && !index) throw new Error(`unknown index ${q.index}`);
    const pkAttr = index ? index.partitionKey : TABLE_ATTRIBUTES.partitionKey;
    const skAttr = index ? index.sortKey : TABLE_ATTRIBUTES.sortKey;
    const out: Item[] = [];
    for (const text of this.items.values()) {
      const item = thaw(text);
      if (item[pkAttr] !== q.partitionValue) continue;
      const sk = item[skAttr];
      if (typeof sk !== "string") continue; // sparse index: no sort key, not in the index
      if (q.sortBeginsWith !== undefined && !sk.startsWith(q.sortBeginsWith)) continue;
      if (q.sortBetween && (sk < q.sortBetween[0] || sk > q.sortBetween[1])) continue;
      out.push(item);
    }
    out.sort((a, b) => {
      const x = String(a[skAttr]);
      const y = String(b[skAttr]);
      const c = x < y ? -1 : x > y ? 1 : 0;
      // DynamoDB GSIs may hold several items with the same sort key; break ties by table key for determinism.
      return c !== 0 ? c : mapKey(keyOf(a)) < mapKey(keyOf(b)) ? -1 : 1;
    });
    if (q.ascending === false) out.reverse();
    return q.limit !== undefined ? out.slice(0, q.limit) : out;
  }

  async scanAll(): Promise<Item[]> {
    await this.tick();
    return [...this.items.values()].map(thaw);
  }
}
