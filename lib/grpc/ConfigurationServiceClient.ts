// Configuration client: TTL cache (lru-cache), zod-validated typed getters, last-known-good when the
// configuration service is down, and a watch stream (auto-reconnect) that keeps the cache current.
import Decimal from "decimal.js";
import { LRUCache } from "lru-cache";
import * as z from "zod";
import {
  ChangeType,
  ConfigurationServiceService,
  type ConfigValue,
  ValueType,
  WatchValuesRequest,
} from "../../gen/proto/tse/config/config";
import type { CallOptions, ClientManager, ServiceSpec } from "./ClientManager";
import { GrpcClientError, NotFoundError } from "./errors";
import { ResumableStream } from "./ResumableStream";

export type { ConfigValue } from "../../gen/proto/tse/config/config";
export { ValueType } from "../../gen/proto/tse/config/config";

export const CONFIGURATION_SPEC: ServiceSpec<typeof ConfigurationServiceService> = {
  name: "configuration",
  definition: ConfigurationServiceService,
  defaultDeadlineMs: 1_000,
  methods: {
    getValue: { idempotent: true },
    listValues: { idempotent: true },
    setValue: { idempotent: true },
    deleteValue: { idempotent: true },
  },
};

/** A value exists but does not have the requested type/shape. Names the key and the value. */
export class ConfigValueError extends Error {
  constructor(
    readonly key: string,
    readonly value: string,
    readonly expected: string,
    detail?: string,
  ) {
    super(`config ${key}: expected ${expected}, got ${JSON.stringify(value)}${detail ? ` (${detail})` : ""}`);
    this.name = "ConfigValueError";
  }
}

export interface ConfigClientOptions {
  /** Environment to read (empty: the server's default). */
  environment?: string;
  /** Freshness of a cached value, ms. Default 30 000. */
  ttlMs?: number;
  /** Max cached keys. Default 10 000. */
  maxEntries?: number;
  /** Per-call options for GetValue/ListValues (e.g. a shorter deadline). */
  callOptions?: CallOptions;
  logger?: {
    warn(msg: string, attrs?: Record<string, unknown>): void;
    info(msg: string, attrs?: Record<string, unknown>): void;
  };
  /** Reconnect backoff of the watch stream. */
  watchReconnect?: { initialDelayMs?: number; maxDelayMs?: number };
}

export interface ConfigClientStats {
  hits: number;
  misses: number;
  /** Reads answered from last-known-good because the service could not be reached. */
  staleServed: number;
  /** Reads answered with the caller's default because nothing was known. */
  defaultsServed: number;
  fetchErrors: number;
  watchUpdates: number;
  watchConnected: boolean;
  watchReconnects: number;
  /** True while the last read of any key had to be served stale. */
  degraded: boolean;
  /** While degraded: how old (ms since it was fetched) the last last-known-good value served was. */
  lastKnownGoodAgeMs: number | undefined;
  cachedKeys: number;
  /** Keys known to be absent (NOT_FOUND cached for the TTL, so a missing key costs one call per TTL). */
  absentKeys: number;
  /** GetValue requests actually sent to the service. */
  getValueCalls: number;
  lastError: string | undefined;
}

export type ConfigChangeListener = (change: { type: "set" | "deleted"; key: string; value?: ConfigValue }) => void;

const DECIMAL_RE = /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/;
const numberText = z.string().trim().regex(DECIMAL_RE);
const booleanText = z.enum(["true", "false"]);

export class ConfigurationServiceClient {
  private readonly cache: LRUCache<string, ConfigValue>;
  private readonly absent: LRUCache<string, NotFoundError>;
  private readonly inflight = new Map<string, Promise<ConfigValue>>();
  private readonly listeners = new Set<ConfigChangeListener>();
  private readonly environment: string;
  private watchStream: ResumableStream<import("../../gen/proto/tse/config/config").ConfigChange> | undefined;
  private watchLoop: Promise<void> | undefined;
  private readonly counters = {
    hits: 0,
    misses: 0,
    staleServed: 0,
    defaultsServed: 0,
    fetchErrors: 0,
    watchUpdates: 0,
    getValueCalls: 0,
    degraded: false,
    lastKnownGoodFetchedAt: 0,
    lastError: undefined as string | undefined,
  };

  constructor(
    private readonly manager: ClientManager,
    private readonly opts: ConfigClientOptions = {},
  ) {
    this.environment = opts.environment ?? "";
    // Stale entries are kept (noDeleteOnStaleGet) so they can be served as last-known-good.
    this.cache = new LRUCache<string, ConfigValue>({
      max: opts.maxEntries ?? 10_000,
      ttl: opts.ttlMs ?? 30_000,
      allowStale: false,
      noDeleteOnStaleGet: true,
      updateAgeOnGet: false,
    });
    this.absent = new LRUCache<string, NotFoundError>({ max: opts.maxEntries ?? 10_000, ttl: opts.ttlMs ?? 30_000 });
  }

  /** The raw value: fresh cache → service → last-known-good (if the service is unreachable). */
  async getValue(key: string): Promise<ConfigValue> {
    if (!key) throw new ConfigValueError(key, "", "a non-empty key");
    const fresh = this.cache.get(key);
    if (fresh) {
      this.counters.hits++;
      return fresh;
    }
    const absent = this.absent.get(key);
    if (absent) {
      this.counters.hits++;
      throw absent;
    }
    this.counters.misses++;
    try {
      const value = await this.fetch(key);
      this.counters.degraded = false;
      this.counters.lastKnownGoodFetchedAt = 0;
      return value;
    } catch (e) {
      this.counters.fetchErrors++;
      this.counters.lastError = e instanceof Error ? e.message : String(e);
      if (e instanceof NotFoundError) {
        this.cache.delete(key);
        this.absent.set(key, e);
        throw e;
      }
      const reachable = !(e instanceof GrpcClientError) || !(e.transient || e.kind === "circuit-open");
      if (reachable) throw e;
      const stale = this.cache.get(key, { allowStale: true });
      if (!stale) throw e;
      this.counters.staleServed++;
      // The entry's age: the TTL minus what is left of it (negative once stale).
      const ageMs = (this.opts.ttlMs ?? 30_000) - this.cache.getRemainingTTL(key);
      this.counters.lastKnownGoodFetchedAt = Date.now() - ageMs;
      if (!this.counters.degraded) {
        this.opts.logger?.warn("configuration service unreachable; serving last-known-good", {
          key,
          version: stale.version,
          ageMs,
          error: this.counters.lastError,
        });
      }
      this.counters.degraded = true;
      return stale;
    }
  }

  async getString(key: string, fallback?: string): Promise<string> {
    const v = await this.valueOrFallback(key, fallback);
    return typeof v === "string" ? v : v.value;
  }

  async getNumber(key: string, fallback?: number): Promise<number> {
    const v = await this.valueOrFallback(key, fallback);
    if (typeof v === "number") return v;
    const parsed = numberText.safeParse(v.value);
    if (!parsed.success || !Number.isFinite(Number(parsed.data))) throw new ConfigValueError(key, v.value, "a number");
    return Number(parsed.data);
  }

  /** Exact decimal (limits, sizes, money). */
  async getDecimal(key: string, fallback?: Decimal | string): Promise<Decimal> {
    const v = await this.valueOrFallback(key, fallback === undefined ? undefined : new Decimal(fallback));
    if (Decimal.isDecimal(v)) return v;
    const parsed = numberText.safeParse(v.value);
    if (!parsed.success) throw new ConfigValueError(key, v.value, "a decimal number");
    return new Decimal(parsed.data);
  }

  async getBoolean(key: string, fallback?: boolean): Promise<boolean> {
    const v = await this.valueOrFallback(key, fallback);
    if (typeof v === "boolean") return v;
    const parsed = booleanText.safeParse(v.value.trim().toLowerCase());
    if (!parsed.success) throw new ConfigValueError(key, v.value, '"true" or "false"');
    return parsed.data === "true";
  }

  /** JSON value, validated with `schema` when given. */
  async getJson<T = unknown>(key: string, schema?: z.ZodType<T>, fallback?: T): Promise<T> {
    const v = await this.valueOrFallback<{ fb: T }>(key, fallback === undefined ? undefined : { fb: fallback });
    if (!("value" in v && "key" in v)) return v.fb;
    let json: unknown;
    try {
      json = JSON.parse(v.value);
    } catch (e) {
      throw new ConfigValueError(key, v.value, "JSON", (e as Error).message);
    }
    if (!schema) return json as T;
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new ConfigValueError(key, v.value, "JSON matching the schema", z.prettifyError(parsed.error));
    }
    return parsed.data;
  }

  /** Lists values under a prefix from the service and refreshes the cache with them. */
  async list(prefix = ""): Promise<ConfigValue[]> {
    const res = await this.manager.unary(
      CONFIGURATION_SPEC,
      "listValues",
      { prefix, environment: this.environment },
      this.opts.callOptions,
    );
    for (const v of res.values) {
      this.cache.set(v.key, v);
      this.absent.delete(v.key);
    }
    return res.values;
  }

  /** Starts (once) the watch stream for `prefixes` (default: everything); it reconnects on its own. */
  watch(prefixes: string[] = []): void {
    if (this.watchStream) return;
    const req = WatchValuesRequest.fromPartial({ prefixes, environment: this.environment, sendInitial: true });
    const stream = new ResumableStream(
      CONFIGURATION_SPEC.name,
      "WatchValues",
      () => this.manager.serverStream(CONFIGURATION_SPEC, "watchValues", req),
      () => true,
      { ...this.opts.watchReconnect, logger: this.opts.logger },
    );
    this.watchStream = stream;
    this.watchLoop = (async () => {
      for await (const change of stream) {
        const v = change.value;
        if (!v) continue;
        this.counters.watchUpdates++;
        this.absent.delete(v.key);
        if (change.changeType === ChangeType.DELETED) {
          this.cache.delete(v.key);
          this.emit({ type: "deleted", key: v.key });
        } else {
          const prev = this.cache.get(v.key, { allowStale: true });
          if (prev && prev.version > v.version) continue; // older than what we hold
          this.cache.set(v.key, v);
          this.emit({ type: "set", key: v.key, value: v });
        }
      }
    })().catch((e: unknown) => {
      this.opts.logger?.warn("config watch loop ended", { error: String(e) });
    });
  }

  onChange(listener: ConfigChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stats(): ConfigClientStats {
    return {
      hits: this.counters.hits,
      misses: this.counters.misses,
      staleServed: this.counters.staleServed,
      defaultsServed: this.counters.defaultsServed,
      fetchErrors: this.counters.fetchErrors,
      watchUpdates: this.counters.watchUpdates,
      watchConnected:
        this.watchStream !== undefined && this.watchStream.stats.connects > 0 && !this.watchStream.isClosed,
      watchReconnects: this.watchStream?.stats.reconnects ?? 0,
      degraded: this.counters.degraded,
      lastKnownGoodAgeMs:
        this.counters.degraded && this.counters.lastKnownGoodFetchedAt > 0
          ? Date.now() - this.counters.lastKnownGoodFetchedAt
          : undefined,
      cachedKeys: this.cache.size,
      absentKeys: this.absent.size,
      getValueCalls: this.counters.getValueCalls,
      lastError: this.counters.lastError,
    };
  }

  async close(): Promise<void> {
    this.watchStream?.close();
    await this.watchLoop;
    this.watchStream = undefined;
    this.listeners.clear();
  }

  private emit(change: Parameters<ConfigChangeListener>[0]): void {
    for (const l of this.listeners) l(change);
  }

  /** One GetValue per key at a time, however many readers miss together. */
  private fetch(key: string): Promise<ConfigValue> {
    let p = this.inflight.get(key);
    if (!p) {
      this.counters.getValueCalls++;
      p = this.manager
        .unary(CONFIGURATION_SPEC, "getValue", { key, environment: this.environment }, this.opts.callOptions)
        .then((res) => {
          if (!res.value)
            throw new NotFoundError(`configuration.GetValue: no value for ${key}`, "configuration", "GetValue", 5, key);
          this.cache.set(key, res.value);
          return res.value;
        })
        .finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    return p;
  }

  /** The value, or the caller's fallback when the key does not exist / nothing is known while the service is down. */
  private async valueOrFallback<F>(key: string, fallback: F | undefined): Promise<ConfigValue | F> {
    try {
      return await this.getValue(key);
    } catch (e) {
      if (fallback === undefined) throw e;
      if (e instanceof GrpcClientError && (e.kind === "not-found" || e.transient || e.kind === "circuit-open")) {
        this.counters.defaultsServed++;
        return fallback;
      }
      throw e;
    }
  }
}

/** Value type of a ConfigValue as a word (for logs/docs). */
export function valueTypeName(t: ValueType): string {
  return ValueType[t]?.toLowerCase() ?? "unknown";
}
