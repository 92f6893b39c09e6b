// Input bounds shared by every entry (gRPC, HTTP, events, simulators): how long a free-text reason or an id may
// be, how much of a bad value an error may echo, and how deep a JSON value may nest.
import { InvalidFieldError } from "./errors";

export const MAX_REASON_CHARS = 256;
export const MAX_ID_CHARS = 128;
/** Error messages and status metadata show at most this much of a bad value. */
export const MAX_ECHO_CHARS = 64;
export const MAX_NESTING_DEPTH = 32;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Lone surrogates → U+FFFD: a status message or header must be encodable (encodeURIComponent throws on them). */
export function wellFormed(s: string): string {
  return s.replace(LONE_SURROGATE, "\uFFFD");
}

/** The first `max` UTF-16 units of `s`, never splitting a surrogate pair. */
function head(s: string, max: number): string {
  const c = s.charCodeAt(max - 1);
  return s.slice(0, c >= 0xd800 && c <= 0xdbff ? max - 1 : max);
}

/** At most MAX_ECHO_CHARS of a value, marked when cut; safe to put in a message, a log line or metadata. */
export function preview(value: unknown, max = MAX_ECHO_CHARS): string {
  let s: string;
  if (typeof value === "string") s = value;
  else if (value === undefined) return "undefined";
  else if (typeof value === "object" && value !== null) {
    if (typeof (value as { toFixed?: unknown }).toFixed === "function")
      s = String((value as { toFixed: () => string }).toFixed());
    else s = Array.isArray(value) ? `array(${value.length})` : "object";
  } else s = String(value);
  return s.length > max ? `${head(s, max)}… (${s.length} chars)` : s;
}

/** Too long: names the field and the length, echoes only a prefix. */
export class ValueTooLongError extends InvalidFieldError {
  override name = "ValueTooLongError";
  constructor(
    field: string,
    readonly length: number,
    readonly max: number,
    value: string,
  ) {
    super(field, head(value, MAX_ECHO_CHARS), `is ${length} characters; at most ${max} allowed`);
  }
}

/** Nested deeper than allowed: names the field (the path where the limit was crossed). */
export class NestingTooDeepError extends InvalidFieldError {
  override name = "NestingTooDeepError";
  constructor(
    field: string,
    readonly max: number,
  ) {
    super(field, `depth > ${max}`, `nests deeper than ${max} levels`);
  }
}

/** Refuses a string longer than `max` (UTF-16 code units, what JS and the schemas count). */
export function checkLength(field: string, value: string, max: number): string {
  if (value.length > max) throw new ValueTooLongError(field, value.length, max, value);
  return value;
}

export const checkReason = (field: string, value: string): string => checkLength(field, value, MAX_REASON_CHARS);
export const checkId = (field: string, value: string): string => checkLength(field, value, MAX_ID_CHARS);

/** Clips internal free text (a reason composed from bounded parts) to `max`; never throws. */
export function clip(text: string, max = MAX_REASON_CHARS): string {
  return text.length > max ? `${head(text, max - 1)}…` : text;
}

/**
 * Depth of a parsed JSON value, iteratively (a recursive walk is what overflows); throws NestingTooDeepError
 * naming the first path deeper than `max`. Scalars have depth 0.
 */
export function checkDepth(value: unknown, field = "(root)", max = MAX_NESTING_DEPTH): void {
  const stack: { v: unknown; depth: number; path: string }[] = [{ v: value, depth: 0, path: field }];
  while (stack.length > 0) {
    const { v, depth, path } = stack.pop()!;
    if (v === null || typeof v !== "object") continue;
    if (depth >= max) throw new NestingTooDeepError(clip(path, MAX_ID_CHARS), max);
    for (const [k, child] of Object.entries(v as Record<string, unknown>))
      if (child !== null && typeof child === "object")
        stack.push({ v: child, depth: depth + 1, path: path.length > MAX_ID_CHARS ? path : `${path}.${clip(k, 32)}` });
  }
}

/** Depth check on JSON text before JSON.parse builds it (cheap scan; strings are skipped). */
export function jsonTextDepthExceeds(text: string, max = MAX_NESTING_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > max) return true;
    } else if (c === 125 || c === 93) depth--;
  }
  return false;
}

export const MAX_LIST_ITEMS = 64;
const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Max length of a string field by its (camelCase) name: free text 256, everything else an id (128). */
export type StringBounds = (key: string) => number;
const FREE_TEXT = /(reason|message|description|details)$/i;
export const defaultStringBounds: StringBounds = (key) => (FREE_TEXT.test(key) ? MAX_REASON_CHARS : MAX_ID_CHARS);

/**
 * Every string of a decoded request (one level of nested messages, lists) within its bound, before a handler
 * reads it. Throws ValueTooLongError naming the field (snake_case, as in the .proto) and the length.
 */
export function checkMessageBounds(msg: unknown, maxFor: StringBounds = defaultStringBounds, prefix = ""): void {
  if (msg === null || typeof msg !== "object") return;
  for (const [key, v] of Object.entries(msg as Record<string, unknown>)) {
    // Map keys (proto map<string, …>) are bounded like ids.
    if (key.length > MAX_ID_CHARS) throw new ValueTooLongError(`${prefix}(key)`, key.length, MAX_ID_CHARS, key);
    const field = `${prefix}${snake(key)}`;
    if (typeof v === "string") checkLength(field, v, maxFor(key));
    else if (Array.isArray(v)) {
      if (v.length > MAX_LIST_ITEMS)
        throw new InvalidFieldError(field, `${v.length} items`, `at most ${MAX_LIST_ITEMS} items allowed`);
      v.forEach((x, i) => {
        if (typeof x === "string") checkLength(`${field}[${i}]`, x, MAX_ID_CHARS);
        else if (prefix === "") checkMessageBounds(x, maxFor, `${field}[${i}].`);
      });
    } else if (typeof v === "object" && v !== null && !(v instanceof Uint8Array) && prefix === "")
      checkMessageBounds(v, maxFor, `${field}.`);
  }
}
