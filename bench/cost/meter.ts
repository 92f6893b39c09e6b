// Counting layers of the cost model: an ItemBackend decorator that prices every request the state store makes in
// DynamoDB request units (the same item-level requests DynamoDbItemBackend sends), an EventBus decorator that counts
// PutEvents calls and billed entries, and the scope (which function, or which publisher outside Lambda) each
// request belongs to, carried by AsyncLocalStorage through an invocation.
import { AsyncLocalStorage } from "node:async_hooks";
import { TABLE_DEFINITION } from "../../lib/adapters/aws/tableDefinition";
import { entrySize, putEventsBatches } from "../../lib/adapters/eventEntry";
import {
  type ConditionalPut,
  type Item,
  type ItemBackend,
  type ItemKey,
  type ItemQuery,
  keyOf,
} from "../../lib/adapters/state/itemBackend";
import type { BusEvent, EventBus, PublishResult } from "../../lib/ports/EventBus";
import { PRICES } from "./prices";

const KB = 1024;
const utf8 = (s: string) => Buffer.byteLength(s, "utf8");

/** Bytes of a number as DynamoDB sizes it: 1 byte per two significant digits, plus 1. */
function numberSize(n: number): number {
  const digits = Math.abs(n).toExponential().split("e")[0]!.replace(".", "").replace(/0+$/, "");
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
}

function valueSize(v: unknown): number {
  if (v === null || typeof v === "boolean") return 1;
  if (typeof v === "string") return utf8(v);
  if (typeof v === "number") return numberSize(v);
  if (Array.isArray(v)) return 3 + v.reduce((a: number, x) => a + 1 + valueSize(x), 0);
  if (typeof v === "object") {
    let size = 3;
    for (const [k, x] of Object.entries(v as Record<string, unknown>))
      if (x !== undefined) size += 1 + utf8(k) + valueSize(x);
    return size;
  }
  throw new Error(`itemSize: unsupported value of type ${typeof v}`);
}

/**
 * An item's size as DynamoDB bills it: attribute names plus values (strings UTF-8, numbers by significant digits,
 * booleans and null 1 byte, lists and maps 3 bytes plus 1 per element). Undefined attributes are not stored
 * (removeUndefinedValues). https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
 */
export function itemSize(item: Item): number {
  let size = 0;
  for (const [k, v] of Object.entries(item)) if (v !== undefined) size += utf8(k) + valueSize(v);
  return size;
}

/** Write request units of one standard write of an item of this size (1 per KB, at least 1). */
export const writeUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / KB));
/** Read request units of one strongly consistent read (1 per 4 KB, at least 1); half for eventually consistent. */
export const readUnits = (bytes: number, consistent: boolean) =>
  Math.max(1, Math.ceil(bytes / (4 * KB))) * (consistent ? 1 : 0.5);

export interface OperationUnits {
  rru: number;
  wru: number;
  gsiWru: number;
  failedWru: number;
  minimumRru: number;
}

const addUnits = (into: Record<string, OperationUnits>, op: string, x: OperationUnits) => {
  const t = into[op] ?? { rru: 0, wru: 0, gsiWru: 0, failedWru: 0, minimumRru: 0 };
  t.rru += x.rru;
  t.wru += x.wru;
  t.gsiWru += x.gsiWru;
  t.failedWru += x.failedWru;
  t.minimumRru += x.minimumRru;
  into[op] = t;
};

/** What one scope (a function, or a publisher outside Lambda) spent. */
export interface ScopeUsage {
  ddbRequests: number;
  rru: number;
  wru: number;
  /** WRU of those that were global secondary index updates. */
  gsiWru: number;
  /** WRU of writes refused by their condition (a failed conditional write, a cancelled transaction): still billed. */
  failedWru: number;
  /** RRU charged as the minimum for a key not found or an empty query (DynamoDB Local reports these as 0). */
  minimumRru: number;
  requestsByOperation: Record<string, number>;
  /** The request units above, per operation. */
  unitsByOperation: Record<string, OperationUnits>;
  putEventsCalls: number;
  entries: number;
  billedEvents: number;
}

/** One invocation (or the publisher's work) in flight: its sequential rounds of requests. */
export interface Scope {
  name: string;
  ddbRounds: number;
  putEventsRounds: number;
  inFlight: number;
}

const emptyUsage = (): ScopeUsage => ({
  ddbRequests: 0,
  rru: 0,
  wru: 0,
  gsiWru: 0,
  failedWru: 0,
  minimumRru: 0,
  requestsByOperation: {},
  unitsByOperation: {},
  putEventsCalls: 0,
  entries: 0,
  billedEvents: 0,
});

export class Meter {
  private readonly als = new AsyncLocalStorage<Scope>();
  readonly usage = new Map<string, ScopeUsage>();

  /** Run `fn` as scope `name` (every request it makes, awaited or not, is counted there). */
  run<T>(name: string, fn: (scope: Scope) => Promise<T>): Promise<T> {
    const scope: Scope = { name, ddbRounds: 0, putEventsRounds: 0, inFlight: 0 };
    return this.als.run(scope, () => fn(scope));
  }

  /** The current scope, or a default one named `fallback` (a publisher outside any invocation). */
  scope(fallback: string): Scope {
    return this.als.getStore() ?? { name: fallback, ddbRounds: 0, putEventsRounds: 0, inFlight: 0 };
  }

  of(name: string): ScopeUsage {
    const u = this.usage.get(name) ?? emptyUsage();
    this.usage.set(name, u);
    return u;
  }

  /** Track a request of the current scope: a request started with nothing else in flight opens a new round. */
  async track<T>(scope: Scope, kind: "ddb" | "putEvents", fn: () => Promise<T>): Promise<T> {
    if (scope.inFlight === 0) {
      if (kind === "ddb") scope.ddbRounds++;
      else scope.putEventsRounds++;
    }
    scope.inFlight++;
    try {
      return await fn();
    } finally {
      scope.inFlight--;
    }
  }

  total(): ScopeUsage {
    const t = emptyUsage();
    for (const u of this.usage.values()) {
      t.ddbRequests += u.ddbRequests;
      t.rru += u.rru;
      t.wru += u.wru;
      t.gsiWru += u.gsiWru;
      t.failedWru += u.failedWru;
      t.minimumRru += u.minimumRru;
      t.putEventsCalls += u.putEventsCalls;
      t.entries += u.entries;
      t.billedEvents += u.billedEvents;
      for (const [op, n] of Object.entries(u.requestsByOperation))
        t.requestsByOperation[op] = (t.requestsByOperation[op] ?? 0) + n;
      for (const [op, x] of Object.entries(u.unitsByOperation)) addUnits(t.unitsByOperation, op, x);
    }
    return t;
  }
}

const GSIS = TABLE_DEFINITION.globalSecondaryIndexes;
const gsiKey = (item: Item | undefined, g: (typeof GSIS)[number]) =>
  item && typeof item[g.partitionKey] === "string" && typeof item[g.sortKey] === "string"
    ? `${item[g.partitionKey]}\u0000${item[g.sortKey]}`
    : undefined;

/** WRU of the index updates a write from `old` to `next` causes (projection ALL: the whole item is copied). */
export function gsiWriteUnits(old: Item | undefined, next: Item): number {
  let wru = 0;
  for (const g of GSIS) {
    const before = gsiKey(old, g);
    const after = gsiKey(next, g);
    if (after && before === after) wru += writeUnits(Math.max(itemSize(next), itemSize(old!)));
    else {
      if (before) wru += writeUnits(itemSize(old!)); // removed from the index
      if (after) wru += writeUnits(itemSize(next)); // added to it
    }
  }
  return wru;
}

/**
 * ItemBackend decorator pricing each request as DynamoDB would, in the request DynamoDbItemBackend maps it to:
 * getMany = BatchGetItem and get = GetItem (strongly consistent, per item), put = PutItem (the larger of the old and
 * new item; a failed condition still costs the stored item's size), putMany = BatchWriteItem (per 25), transactWrite
 * = TransactWriteItems (2 WRU per KB per item, index updates included), query = Query (eventually consistent, one
 * rounding over the page).
 * The stored item before a write is read from the inner backend without being counted.
 */
export class CountingItemBackend implements ItemBackend {
  constructor(
    readonly inner: ItemBackend,
    private readonly meter: Meter,
    private readonly fallbackScope = "outside-lambda",
  ) {}

  private count(
    op: string,
    requests: number,
    rru: number,
    wru: number,
    extra: { gsiWru?: number; failed?: boolean; minimumRru?: number } = {},
  ): void {
    const u = this.meter.of(this.meter.scope(this.fallbackScope).name);
    const gsiWru = extra.gsiWru ?? 0;
    u.ddbRequests += requests;
    u.rru += rru;
    u.wru += wru + gsiWru;
    u.gsiWru += gsiWru;
    const failedWru = extra.failed ? wru : 0;
    const minimumRru = extra.minimumRru ?? 0;
    u.failedWru += failedWru;
    u.minimumRru += minimumRru;
    addUnits(u.unitsByOperation, op, { rru, wru: wru + gsiWru, gsiWru, failedWru, minimumRru });
    u.requestsByOperation[op] = (u.requestsByOperation[op] ?? 0) + requests;
  }

  private tracked<T>(fn: () => Promise<T>): Promise<T> {
    return this.meter.track(this.meter.scope(this.fallbackScope), "ddb", fn);
  }

  getMany(keys: readonly ItemKey[]): Promise<(Item | undefined)[]> {
    return this.tracked(async () => {
      const items = await this.inner.getMany(keys);
      const missing = items.filter((it) => !it).length;
      if (keys.length > 0)
        this.count(
          "BatchGetItem",
          Math.ceil(keys.length / 100),
          items.reduce((a, it) => a + readUnits(it ? itemSize(it) : 0, true), 0),
          0,
          { minimumRru: missing },
        );
      return items;
    });
  }

  get(key: ItemKey): Promise<Item | undefined> {
    return this.tracked(async () => {
      const item = await this.inner.get(key);
      this.count("GetItem", 1, readUnits(item ? itemSize(item) : 0, true), 0, { minimumRru: item ? 0 : 1 });
      return item;
    });
  }

  put(write: ConditionalPut): Promise<void> {
    return this.tracked(async () => {
      const old = await this.inner.get(keyOf(write.item));
      try {
        await this.inner.put(write);
      } catch (err) {
        this.count("PutItem", 1, 0, writeUnits(old ? itemSize(old) : 0), { failed: true });
        throw err;
      }
      const size = Math.max(itemSize(write.item), old ? itemSize(old) : 0);
      this.count("PutItem", 1, 0, writeUnits(size), { gsiWru: gsiWriteUnits(old, write.item) });
    });
  }

  putMany(items: readonly Item[]): Promise<void> {
    return this.tracked(async () => {
      const olds = await this.inner.getMany(items.map(keyOf));
      await this.inner.putMany(items);
      let wru = 0;
      let gsi = 0;
      items.forEach((it, i) => {
        wru += writeUnits(Math.max(itemSize(it), olds[i] ? itemSize(olds[i]!) : 0));
        gsi += gsiWriteUnits(olds[i], it);
      });
      this.count("BatchWriteItem", Math.ceil(items.length / 25), 0, wru, { gsiWru: gsi });
    });
  }

  transactWrite(writes: readonly ConditionalPut[]): Promise<void> {
    return this.tracked(async () => {
      const olds = await this.inner.getMany(writes.map((w) => keyOf(w.item)));
      const base = writes.reduce(
        (a, w, i) => a + 2 * writeUnits(Math.max(itemSize(w.item), olds[i] ? itemSize(olds[i]!) : 0)),
        0,
      );
      try {
        await this.inner.transactWrite(writes);
      } catch (err) {
        this.count("TransactWriteItems", 1, 0, base, { failed: true }); // a cancelled transaction is still charged
        throw err;
      }
      // Index updates of a transaction are transactional too: 2 WRU per KB (as DynamoDB reports them).
      const gsi = writes.reduce((a, w, i) => a + 2 * gsiWriteUnits(olds[i], w.item), 0);
      this.count("TransactWriteItems", 1, 0, base, { gsiWru: gsi });
    });
  }

  query(query: ItemQuery): Promise<Item[]> {
    return this.tracked(async () => {
      const items = await this.inner.query(query);
      const bytes = items.reduce((a, it) => a + itemSize(it), 0);
      // Pages of 1 MB each round up on their own.
      const pages = Math.max(1, Math.ceil(bytes / (1024 * KB)));
      this.count("Query", pages, readUnits(bytes, false) + (pages - 1) * 0.5, 0, {
        minimumRru: items.length === 0 ? 0.5 : 0,
      });
      return items;
    });
  }

  scanAll(): Promise<Item[]> {
    return this.inner.scanAll(); // tests and inspection only; never on a function's path
  }
}

/** EventBus decorator: PutEvents calls (≤ 10 entries, ≤ 256 KB each, as EventBridgeEventBus batches) and billed entries. */
export class MeteredEventBus implements EventBus {
  constructor(
    readonly inner: EventBus,
    private readonly meter: Meter,
    private readonly publisher: string,
  ) {}

  publish(events: readonly BusEvent[]): Promise<PublishResult> {
    const scope = this.meter.scope(this.publisher);
    const u = this.meter.of(scope.name);
    const sized = events.map((e) => ({ size: entrySize(e.source, e.detailType, JSON.stringify(e.detail)) }));
    u.putEventsCalls += putEventsBatches(sized).length;
    u.entries += sized.length;
    for (const { size } of sized)
      u.billedEvents += Math.max(1, Math.ceil(size / PRICES.eventBridgePutEventsPerMillion.chunkBytes));
    return this.meter.track(scope, "putEvents", () => this.inner.publish(events));
  }
}
