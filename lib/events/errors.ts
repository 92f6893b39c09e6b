import type { z } from "zod";
import { MAX_ECHO_CHARS } from "../domain/bounds";

/** Bad event input. `field` is a dot path relative to the detail (`data.legs.0.quantity`), or an envelope key (`detail-type`). */
export class EventValidationError extends Error {
  override readonly name = "EventValidationError";
  constructor(
    readonly field: string,
    readonly value: unknown,
    readonly detailType: string | undefined,
    readonly issues: readonly { field: string; value: unknown; message: string }[],
    reason: string,
  ) {
    super(`invalid ${detailType ?? "event"}: ${field} = ${describeValue(value)}: ${reason}`);
  }

  /** The error of a single bad field. */
  static of(field: string, value: unknown, detailType: string | undefined, reason: string): EventValidationError {
    return new EventValidationError(field, value, detailType, [{ field, value, message: reason }], reason);
  }
}

export function describeValue(value: unknown): string {
  if (value === undefined) return "undefined (missing)";
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  try {
    const json = JSON.stringify(value);
    if (json === undefined) return String(value);
    return json.length > MAX_ECHO_CHARS ? `${json.slice(0, MAX_ECHO_CHARS)}… (${json.length} chars)` : json;
  } catch {
    return String(value);
  }
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = root;
  for (const key of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}

/** Turn a zod error into an EventValidationError naming the first offending field and its value. */
export function fromZodError(
  error: z.ZodError,
  input: unknown,
  detailType: string | undefined,
  prefix: readonly PropertyKey[] = [],
): EventValidationError {
  const issues = error.issues.map((issue) => {
    const path = [...prefix, ...issue.path];
    return {
      field: path.map(String).join(".") || "(root)",
      value: valueAt(input, issue.path),
      message: issue.message,
    };
  });
  const first = issues[0] ?? { field: "(root)", value: input, message: "invalid" };
  const more = issues.length > 1 ? ` (+${issues.length - 1} more issue${issues.length > 2 ? "s" : ""})` : "";
  return new EventValidationError(first.field, first.value, detailType, issues, `${first.message}${more}`);
}
