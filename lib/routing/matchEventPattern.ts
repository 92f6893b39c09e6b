// Pure EventBridge event-pattern matcher, used by the embedded in-process bus.
// Semantics follow EventBridge (and agree with LocalStack's TestEventPattern; see
// test/localstack/routing-agreement.test.ts):
// - every field named in the pattern must match (AND); a leaf array matches if ANY entry matches (OR);
// - `$or` holds alternative sub-patterns (at any level);
// - arrays in the event are flattened: a leaf matches if ANY element matches; arrays of objects are
//   flattened per field (sibling fields are not required to come from the same element);
// - keys with dots (`"a.b"`) are equivalent to nesting, as in EventBridge;
// - operators: exact values (string, number compared numerically, boolean, null), prefix, suffix
//   (both also with equals-ignore-case), anything-but (value, list, prefix, suffix, equals-ignore-case,
//   wildcard), numeric ranges, exists, equals-ignore-case, wildcard (`*` = zero or more chars, `\*` literal), cidr.
import { BlockList, isIP } from "node:net";
import type { EventPattern } from "./eventPattern";

export class InvalidEventPatternError extends Error {
  override readonly name = "InvalidEventPatternError";
  constructor(
    readonly field: string,
    readonly value: unknown,
    reason: string,
  ) {
    super(`invalid event pattern at ${field || "(root)"} = ${JSON.stringify(value)}: ${reason}`);
  }
}

type Leaf = string | number | boolean | null;
type Condition = Leaf | Record<string, unknown>;
/** One alternative of a pattern: dotted path → its conditions (any may match). */
type Branch = ReadonlyMap<string, readonly Condition[]>;

export interface CompiledEventPattern {
  readonly pattern: EventPattern;
  /** Dotted paths the pattern looks at. */
  readonly paths: readonly string[];
  matches(event: unknown): boolean;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

// ---------------------------------------------------------------------------------------------
// Validation (same rules EventBridge's PutRule enforces for the operators we support)

const NUMERIC_OPS = new Set(["<", "<=", "=", ">", ">="]);

function validateNumeric(field: string, value: unknown): void {
  if (!Array.isArray(value) || value.length === 0)
    throw new InvalidEventPatternError(field, value, "numeric must be a non-empty array");
  const [op1, v1, op2, v2, ...rest] = value as unknown[];
  if (typeof op1 !== "string" || !NUMERIC_OPS.has(op1))
    throw new InvalidEventPatternError(field, value, `unrecognized numeric operator ${JSON.stringify(op1)}`);
  if (typeof v1 !== "number" || !Number.isFinite(v1))
    throw new InvalidEventPatternError(field, value, `value of ${op1} must be numeric`);
  if (op2 === undefined) return;
  if (op1 !== ">" && op1 !== ">=")
    throw new InvalidEventPatternError(field, value, "too many elements in numeric expression");
  if (op2 !== "<" && op2 !== "<=")
    throw new InvalidEventPatternError(field, value, `bad numeric range operator ${JSON.stringify(op2)}`);
  if (typeof v2 !== "number" || !Number.isFinite(v2))
    throw new InvalidEventPatternError(field, value, `value of ${op2} must be numeric`);
  if (v2 <= v1) throw new InvalidEventPatternError(field, value, "bottom must be less than top");
  if (rest.length > 0) throw new InvalidEventPatternError(field, value, "too many terms in numeric range expression");
}

function validateWildcard(field: string, value: unknown): void {
  if (typeof value !== "string") throw new InvalidEventPatternError(field, value, "wildcard must be a string");
  if (value.includes("**")) throw new InvalidEventPatternError(field, value, "consecutive wildcard characters");
}

const isStrOrStrList = (v: unknown) =>
  typeof v === "string" || (Array.isArray(v) && v.every((x) => typeof x === "string"));

function validateCondition(field: string, c: unknown): void {
  if (c === null || typeof c === "string" || typeof c === "boolean") return;
  if (typeof c === "number") {
    if (!Number.isFinite(c)) throw new InvalidEventPatternError(field, c, "numbers must be finite");
    return;
  }
  if (!isPlainObject(c))
    throw new InvalidEventPatternError(
      field,
      c,
      "match value must be a string, number, boolean, null or operator object",
    );
  const keys = Object.keys(c);
  if (keys.length !== 1) throw new InvalidEventPatternError(field, c, "only one key allowed in a match expression");
  const op = keys[0] as string;
  const v = c[op];
  switch (op) {
    case "prefix":
    case "suffix":
      if (typeof v === "string") return;
      if (isPlainObject(v) && Object.keys(v).length === 1 && typeof v["equals-ignore-case"] === "string") return;
      throw new InvalidEventPatternError(field, c, `${op} must be a string or { "equals-ignore-case": string }`);
    case "equals-ignore-case":
      if (typeof v !== "string") throw new InvalidEventPatternError(field, c, "equals-ignore-case must be a string");
      return;
    case "exists":
      if (typeof v !== "boolean") throw new InvalidEventPatternError(field, c, "exists must be true or false");
      return;
    case "numeric":
      validateNumeric(field, v);
      return;
    case "wildcard":
      validateWildcard(field, v);
      return;
    case "cidr": {
      const [ip, bits, extra] = typeof v === "string" ? v.split("/") : [];
      const family = ip ? isIP(ip) : 0;
      const n = Number(bits);
      if (extra !== undefined || family === 0 || !/^\d+$/.test(bits ?? "") || n > (family === 4 ? 32 : 128))
        throw new InvalidEventPatternError(field, c, "cidr must look like 10.0.0.0/24");
      return;
    }
    case "anything-but": {
      if (typeof v === "string" || (typeof v === "number" && Number.isFinite(v))) return;
      if (Array.isArray(v)) {
        if (v.length === 0) throw new InvalidEventPatternError(field, c, "anything-but list must not be empty");
        if (!v.every((x) => typeof x === "string" || (typeof x === "number" && Number.isFinite(x))))
          throw new InvalidEventPatternError(field, c, "anything-but list may hold only strings and numbers");
        return;
      }
      if (isPlainObject(v) && Object.keys(v).length === 1) {
        const [inner] = Object.keys(v) as [string];
        const iv = v[inner];
        if ((inner === "prefix" || inner === "suffix") && isStrOrStrList(iv) && iv !== "") return;
        if (inner === "equals-ignore-case" && isStrOrStrList(iv)) return;
        if (inner === "wildcard") {
          for (const w of Array.isArray(iv) ? iv : [iv]) validateWildcard(field, w);
          return;
        }
      }
      throw new InvalidEventPatternError(field, c, "unsupported anything-but pattern");
    }
    default:
      throw new InvalidEventPatternError(field, c, `unrecognized match type ${op}`);
  }
}

/** Flatten a pattern into its `$or` alternatives, each a map of dotted path → conditions. Validates as it goes. */
function flattenPattern(
  pattern: unknown,
  parent: string,
  branches: Map<string, Condition[]>[],
): Map<string, Condition[]>[] {
  if (!isPlainObject(pattern)) throw new InvalidEventPatternError(parent, pattern, "a pattern must be an object");
  let current = branches;
  for (const [key, value] of Object.entries(pattern)) {
    if (key === "$or") {
      if (!Array.isArray(value) || value.length < 2)
        throw new InvalidEventPatternError(
          parent ? `${parent}.$or` : "$or",
          value,
          "$or needs an array of at least two patterns",
        );
      current = value.flatMap((alt) =>
        flattenPattern(
          alt,
          parent,
          current.map((b) => new Map(b)),
        ),
      );
      continue;
    }
    const path = parent ? `${parent}.${key}` : key;
    if (Array.isArray(value)) {
      if (value.length === 0) throw new InvalidEventPatternError(path, value, "empty arrays are not allowed");
      for (const c of value) validateCondition(path, c);
      for (const b of current) b.set(path, [...(b.get(path) ?? []), ...(value as Condition[])]);
    } else if (isPlainObject(value)) {
      current = flattenPattern(value, path, current);
    } else {
      throw new InvalidEventPatternError(path, value, "must be an object or an array");
    }
  }
  return current;
}

// ---------------------------------------------------------------------------------------------
// Matching

/** Collect leaf values of the event under the dotted paths the pattern uses (arrays flattened). */
function flattenEvent(
  value: unknown,
  path: string,
  isRelevant: (p: string) => boolean,
  out: Map<string, unknown[]>,
): void {
  if (Array.isArray(value)) {
    for (const el of value) flattenEvent(el, path, isRelevant, out);
  } else if (isPlainObject(value)) {
    for (const [key, v] of Object.entries(value)) {
      const p = path ? `${path}.${key}` : key;
      if (isRelevant(p)) flattenEvent(v, p, isRelevant, out);
    }
  } else if (path) {
    const list = out.get(path);
    if (list) list.push(value);
    else out.set(path, [value]);
  }
}

function wildcardRegExp(pattern: string): RegExp {
  // `*` = zero or more characters; `\*` = a literal asterisk; everything else literal.
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string;
    if (ch === "\\" && pattern[i + 1] === "*") {
      re += "\\*";
      i++;
    } else if (ch === "*") re += "[\\s\\S]*";
    else re += ch.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

const wildcardCache = new Map<string, RegExp>();
function wildcardMatch(pattern: string, value: unknown): boolean {
  if (typeof value !== "string") return false;
  let re = wildcardCache.get(pattern);
  if (!re) {
    re = wildcardRegExp(pattern);
    if (wildcardCache.size < 1024) wildcardCache.set(pattern, re);
  }
  return re.test(value);
}

const lower = (s: string) => s.toLowerCase();
const prefixMatch = (p: string, v: unknown) => typeof v === "string" && v.startsWith(p);
const suffixMatch = (s: string, v: unknown) => typeof v === "string" && v.endsWith(s);
const ignoreCaseMatch = (s: string, v: unknown) => typeof v === "string" && lower(v) === lower(s);

function exactMatch(c: Leaf, v: unknown): boolean {
  if (typeof c === "number") return typeof v === "number" && v === c;
  return v === c;
}

function numericMatch(spec: readonly unknown[], v: unknown): boolean {
  if (typeof v !== "number" || !Number.isFinite(v)) return false;
  for (let i = 0; i < spec.length; i += 2) {
    const op = spec[i];
    const n = spec[i + 1] as number;
    if (op === "=" && !(v === n)) return false;
    if (op === ">" && !(v > n)) return false;
    if (op === ">=" && !(v >= n)) return false;
    if (op === "<" && !(v < n)) return false;
    if (op === "<=" && !(v <= n)) return false;
  }
  return true;
}

function cidrMatch(cidr: string, v: unknown): boolean {
  if (typeof v !== "string") return false;
  const family = isIP(v);
  if (family === 0) return false;
  const [net, bits] = cidr.split("/") as [string, string];
  const netFamily = isIP(net);
  if (netFamily !== family) return false;
  const list = new BlockList();
  const type = family === 4 ? "ipv4" : "ipv6";
  list.addSubnet(net, Number(bits), type);
  return list.check(v, type);
}

function anythingButMatch(spec: unknown, v: unknown): boolean {
  const list = <T>(x: T | readonly T[]): readonly T[] => (Array.isArray(x) ? x : [x as T]);
  if (typeof spec === "string" || typeof spec === "number") return !exactMatch(spec, v);
  if (Array.isArray(spec)) return !spec.some((x) => exactMatch(x as Leaf, v));
  const obj = spec as Record<string, unknown>;
  if (obj.prefix !== undefined) return !list(obj.prefix as string).some((p) => prefixMatch(p, v));
  if (obj.suffix !== undefined) return !list(obj.suffix as string).some((s) => suffixMatch(s, v));
  if (obj["equals-ignore-case"] !== undefined)
    return !list(obj["equals-ignore-case"] as string).some((s) => ignoreCaseMatch(s, v));
  if (obj.wildcard !== undefined) return !list(obj.wildcard as string).some((w) => wildcardMatch(w, v));
  return false;
}

/** Does one condition hold for the field's flattened values (empty = field absent)? */
function conditionHolds(c: Condition, values: readonly unknown[] | undefined): boolean {
  const present = values !== undefined && values.length > 0;
  if (!isPlainObject(c)) return present && values.some((v) => exactMatch(c as Leaf, v));
  if ("exists" in c) return c.exists === present;
  if (!present) return false;
  if ("anything-but" in c) return values.some((v) => anythingButMatch(c["anything-but"], v));
  // The remaining operators never match null.
  return values.some((v) => {
    if (v === null) return false;
    if ("prefix" in c) {
      const p = c.prefix;
      return typeof p === "string"
        ? prefixMatch(p, v)
        : typeof v === "string" &&
            lower(v).startsWith(lower((p as Record<string, string>)["equals-ignore-case"] ?? ""));
    }
    if ("suffix" in c) {
      const s = c.suffix;
      return typeof s === "string"
        ? suffixMatch(s, v)
        : typeof v === "string" && lower(v).endsWith(lower((s as Record<string, string>)["equals-ignore-case"] ?? ""));
    }
    if ("equals-ignore-case" in c) return ignoreCaseMatch(c["equals-ignore-case"] as string, v);
    if ("numeric" in c) return numericMatch(c.numeric as unknown[], v);
    if ("wildcard" in c) return wildcardMatch(c.wildcard as string, v);
    if ("cidr" in c) return cidrMatch(c.cidr as string, v);
    return false;
  });
}

function relevantPrefixes(paths: readonly string[], into = new Set<string>()): Set<string> {
  // Every path the pattern reads and all its ancestors, so flattening skips the rest of the event in O(1) per key.
  for (const full of paths) {
    let end = full.length;
    while (end > 0) {
      into.add(full.slice(0, end));
      end = full.lastIndexOf(".", end - 1);
    }
  }
  return into;
}

function branchesMatch(branches: readonly Branch[], flat: ReadonlyMap<string, unknown[]>): boolean {
  return branches.some((branch) => {
    for (const [path, conditions] of branch) {
      const values = flat.get(path);
      if (!conditions.some((c) => conditionHolds(c, values))) return false;
    }
    return true;
  });
}

function flatten(event: unknown, relevant: ReadonlySet<string>): Map<string, unknown[]> | undefined {
  if (!isPlainObject(event)) return undefined;
  const flat = new Map<string, unknown[]>();
  flattenEvent(event, "", (p) => relevant.has(p), flat);
  return flat;
}

const branchesOf = new WeakMap<CompiledEventPattern, readonly Branch[]>();

/** Validate and pre-process a pattern once; match many events. Throws InvalidEventPatternError. */
export function compileEventPattern(pattern: EventPattern): CompiledEventPattern {
  const branches: Branch[] = flattenPattern(pattern, "", [new Map()]);
  const paths = [...new Set(branches.flatMap((b) => [...b.keys()]))];
  const relevant = relevantPrefixes(paths);
  const compiled: CompiledEventPattern = {
    pattern,
    paths,
    matches(event: unknown): boolean {
      const flat = flatten(event, relevant);
      return flat !== undefined && branchesMatch(branches, flat);
    },
  };
  branchesOf.set(compiled, branches);
  return compiled;
}

/**
 * Match one event against several compiled patterns, flattening the event once (the embedded bus routes
 * every event through the whole routing table). Returns one verdict per pattern, in order.
 */
export function compilePatternSet(patterns: readonly CompiledEventPattern[]): (event: unknown) => boolean[] {
  const relevant = relevantPrefixes(patterns.flatMap((p) => p.paths));
  const all = patterns.map((p) => branchesOf.get(p) ?? flattenPattern(p.pattern, "", [new Map()]));
  return (event) => {
    const flat = flatten(event, relevant);
    return all.map((branches) => flat !== undefined && branchesMatch(branches, flat));
  };
}

/** Throws InvalidEventPatternError if the pattern is not a valid EventBridge pattern (for the supported operators). */
export function validateEventPattern(pattern: EventPattern): void {
  compileEventPattern(pattern);
}

const compiledCache = new WeakMap<object, CompiledEventPattern>();

/** Does `event` (an EventBridge event object or JSON string) match `pattern`? Compiled patterns are cached per object. */
export function matchEventPattern(pattern: EventPattern, event: unknown): boolean {
  let compiled = compiledCache.get(pattern);
  if (!compiled) {
    compiled = compileEventPattern(pattern);
    compiledCache.set(pattern, compiled);
  }
  const parsed = typeof event === "string" ? safeJson(event) : event;
  return compiled.matches(parsed);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
