// Shared zod pieces for strategy configs: decimals accept "0.1" or 0.1 and become Decimal. Config schemas are
// strict (z.strictObject): an unknown parameter is refused, naming it, rather than silently defaulted.
import type { z } from "zod";
import * as zod from "zod";
import { clip } from "../bounds";
import { zDecimal, zNonNegativeDecimal, zPositiveDecimal } from "../decimal";
import { InvalidFieldError } from "../errors";

export const DecimalInput = zDecimal;
export const PositiveDecimal = zPositiveDecimal;
export const NonNegativeDecimal = zNonNegativeDecimal;

/** Symbols / venues a strategy acts on; empty or absent = all it sees. */
export const ScopeList = zod.array(zod.string().min(1).max(128)).max(64).optional();

/** Bad strategy configuration: names the strategy, the field (dotted path) and the offending value. */
export class StrategyConfigError extends InvalidFieldError {
  override name = "StrategyConfigError";
  constructor(
    readonly strategy: string,
    field: string,
    value: unknown,
    reason: string,
  ) {
    super(field, value, reason);
    this.message = `invalid config for strategy '${strategy}': ${this.message}`;
  }
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = raw;
  for (const k of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return cur;
}

/** Validate raw config with a schema; the first problem becomes a StrategyConfigError. */
export function parseStrategyConfig<S extends z.ZodType>(strategy: string, schema: S, raw: unknown): z.output<S> {
  const res = schema.safeParse(raw ?? {});
  if (res.success) return res.data;
  const issue = res.error.issues[0]!;
  const path = issue.path;
  if (issue.code === "unrecognized_keys") {
    // A strict schema: name the first unknown key and its value, not the whole object.
    const key = issue.keys[0] ?? "";
    const at = [...path, key];
    throw new StrategyConfigError(strategy, clip(at.join("."), 128), valueAt(raw, at), "unknown parameter");
  }
  throw new StrategyConfigError(strategy, path.length ? path.join(".") : "(root)", valueAt(raw, path), issue.message);
}
