// Typed domain errors. Each names the field (or states) and the offending value.

export class DomainError extends Error {
  override name = "DomainError";
}

/** Bad input: names the field and the value. */
export class InvalidFieldError extends DomainError {
  override name = "InvalidFieldError";
  constructor(
    readonly field: string,
    readonly value: unknown,
    readonly reason: string,
  ) {
    super(`invalid ${field}=${fmt(value)}: ${reason}`);
  }
}

export class UnknownInstrumentError extends InvalidFieldError {
  override name = "UnknownInstrumentError";
  constructor(symbol: string) {
    super("symbol", symbol, "unknown instrument");
  }
}

export class UnknownVenueError extends InvalidFieldError {
  override name = "UnknownVenueError";
  constructor(venue: string) {
    super("venue", venue, "unknown venue");
  }
}

/** A bad value for a message: at most 64 characters of it (an error never echoes unbounded input). */
export function fmt(v: unknown): string {
  if (typeof v === "string" && v.length > 64) return `${JSON.stringify(v.slice(0, 64))}… (${v.length} chars)`;
  const s = fmtFull(v);
  return s.length > 64 ? `${s.slice(0, 64)}… (${s.length} chars)` : s;
}

function fmtFull(v: unknown): string {
  if (v === undefined) return "undefined";
  if (v === null) return "null";
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "object" && typeof (v as { toFixed?: unknown }).toFixed === "function") {
    return String((v as { toFixed: () => string }).toFixed());
  }
  try {
    return typeof v === "object" ? JSON.stringify(v) : String(v);
  } catch {
    return String(v);
  }
}
