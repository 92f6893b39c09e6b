// Typed configuration values per environment with versions and change listeners. Pure in-memory;
// the configuration simulator serves it over gRPC; `tse config validate` and in-process readers use it directly.
// Bad input throws InvalidFieldError (the simulator answers it as INVALID_ARGUMENT).
import { readFileSync } from "node:fs";
import Decimal from "decimal.js";
import { parse as parseYaml } from "yaml";
import { ChangeType, type ConfigChange, type ConfigValue, ValueType } from "../../gen/proto/tse/config/config";
import { InvalidFieldError } from "../domain/errors";

export const DEFAULT_ENVIRONMENT = "default";
const KEY_RE = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
const ENV_RE = /^[A-Za-z0-9_-]+$/;
const TYPE_NAMES: Record<string, ValueType> = {
  string: ValueType.STRING,
  number: ValueType.NUMBER,
  boolean: ValueType.BOOLEAN,
  json: ValueType.JSON,
};

export type ConfigListener = (change: ConfigChange) => void;

export class ConfigStore {
  private readonly values = new Map<string, Map<string, ConfigValue>>();
  private readonly listeners = new Set<ConfigListener>();
  private revision = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** Load `{ environments: { env: { nested: { key: value } } } }` (YAML or JSON file). */
  static fromFile(path: string, now?: () => number): ConfigStore {
    const text = readFileSync(path, "utf8");
    const doc: unknown = path.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
    const store = new ConfigStore(now);
    store.load(doc, path);
    return store;
  }

  load(doc: unknown, origin = "config"): void {
    const envs = (doc as { environments?: unknown } | null)?.environments;
    if (!envs || typeof envs !== "object" || Array.isArray(envs)) {
      throw new Error(`invalid ${origin}: expected a top-level "environments" map`);
    }
    for (const [env, tree] of Object.entries(envs as Record<string, unknown>)) {
      if (tree === null || tree === undefined) continue;
      this.flatten(env, "", tree, origin);
    }
  }

  private flatten(env: string, prefix: string, node: unknown, origin: string): void {
    const typed = asTyped(node);
    if (typed) {
      this.set(prefix, env, typed.type, typed.value);
      return;
    }
    if (node !== null && typeof node === "object" && !Array.isArray(node)) {
      for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
        this.flatten(env, prefix ? `${prefix}.${k}` : k, v, origin);
      }
      return;
    }
    if (!prefix) throw new Error(`invalid ${origin}: environment ${env} must be a map`);
    const [type, text] = inferred(node);
    this.set(prefix, env, type, text);
  }

  /** Validate and set; notifies listeners. Throws INVALID_ARGUMENT naming the field and value. */
  set(key: string, environment: string, type: ValueType, value: string): ConfigValue {
    const env = environment || DEFAULT_ENVIRONMENT;
    if (!KEY_RE.test(key)) throw new InvalidFieldError("key", key, "must be dotted segments of [A-Za-z0-9_-]");
    if (!ENV_RE.test(env)) throw new InvalidFieldError("environment", environment, "must match [A-Za-z0-9_-]+");
    const text = normalise(type, value);
    let byKey = this.values.get(env);
    if (!byKey) {
      byKey = new Map();
      this.values.set(env, byKey);
    }
    const v: ConfigValue = {
      key,
      environment: env,
      type,
      value: text,
      version: ++this.revision,
      updatedAtMs: this.now(),
    };
    byKey.set(key, v);
    this.emit({ changeType: ChangeType.SET, value: v });
    return { ...v };
  }

  delete(key: string, environment: string): boolean {
    const env = environment || DEFAULT_ENVIRONMENT;
    const existing = this.values.get(env)?.get(key);
    if (!existing) return false;
    this.values.get(env)!.delete(key);
    this.emit({
      changeType: ChangeType.DELETED,
      value: { ...existing, version: ++this.revision, updatedAtMs: this.now() },
    });
    return true;
  }

  /** Environment value, else the "default" one. */
  get(key: string, environment = DEFAULT_ENVIRONMENT): ConfigValue | undefined {
    const env = environment || DEFAULT_ENVIRONMENT;
    const v = this.values.get(env)?.get(key) ?? this.values.get(DEFAULT_ENVIRONMENT)?.get(key);
    return v ? { ...v } : undefined;
  }

  list(prefix = "", environment = DEFAULT_ENVIRONMENT): ConfigValue[] {
    const env = environment || DEFAULT_ENVIRONMENT;
    const merged = new Map<string, ConfigValue>();
    for (const e of env === DEFAULT_ENVIRONMENT ? [env] : [DEFAULT_ENVIRONMENT, env]) {
      for (const [k, v] of this.values.get(e) ?? []) if (k.startsWith(prefix)) merged.set(k, { ...v });
    }
    return [...merged.values()].sort((a, b) => a.key.localeCompare(b.key));
  }

  /** Effective value changed for an environment: its own key, or a default not overridden there. */
  affects(change: ConfigChange, environment: string): boolean {
    const env = environment || DEFAULT_ENVIRONMENT;
    const v = change.value!;
    if (v.environment === env) return true;
    return v.environment === DEFAULT_ENVIRONMENT && !this.values.get(env)?.has(v.key);
  }

  onChange(listener: ConfigListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(change: ConfigChange): void {
    for (const l of this.listeners) l(change);
  }

  // Typed readers for in-process consumers.
  number(key: string, environment?: string): Decimal | undefined {
    const v = this.get(key, environment);
    return v && v.type === ValueType.NUMBER ? new Decimal(v.value) : undefined;
  }
}

function asTyped(node: unknown): { type: ValueType; value: string } | undefined {
  if (node === null || typeof node !== "object" || Array.isArray(node)) return undefined;
  const keys = Object.keys(node);
  if (keys.length !== 2 || !keys.includes("type") || !keys.includes("value")) return undefined;
  const { type, value } = node as { type: unknown; value: unknown };
  const t = typeof type === "string" ? TYPE_NAMES[type] : undefined;
  if (t === undefined) return undefined;
  const text = t === ValueType.JSON ? JSON.stringify(value) : String(value);
  return { type: t, value: text };
}

function inferred(node: unknown): [ValueType, string] {
  if (typeof node === "string") return [ValueType.STRING, node];
  if (typeof node === "number") return [ValueType.NUMBER, new Decimal(node).toFixed()];
  if (typeof node === "boolean") return [ValueType.BOOLEAN, String(node)];
  return [ValueType.JSON, JSON.stringify(node)];
}

function normalise(type: ValueType, value: string): string {
  switch (type) {
    case ValueType.STRING:
      return value;
    case ValueType.NUMBER: {
      let d: Decimal;
      try {
        d = new Decimal(value.trim());
      } catch {
        throw new InvalidFieldError("value", value, "not a decimal number");
      }
      if (!d.isFinite() || value.trim() === "") throw new InvalidFieldError("value", value, "not a finite number");
      return d.toFixed();
    }
    case ValueType.BOOLEAN:
      if (value !== "true" && value !== "false")
        throw new InvalidFieldError("value", value, 'must be "true" or "false"');
      return value;
    case ValueType.JSON:
      try {
        return JSON.stringify(JSON.parse(value));
      } catch {
        throw new InvalidFieldError("value", value, "not valid JSON");
      }
    default:
      throw new InvalidFieldError("type", type, "must be STRING, NUMBER, BOOLEAN or JSON");
  }
}
