// Building blocks shared by every event schema. Money, prices and quantities travel as exact
// decimal strings: no JSON numbers (floats), no NaN/Infinity, no exponent notation.
import * as z from "zod";

const DECIMAL_RE = /^-?(?:0|[1-9]\d*)(?:\.\d+)?$/;
const MAX_DECIMAL_LENGTH = 64;

const isZero = (s: string) => /^-?0(?:\.0+)?$/.test(s);

/** Type-error message that says "is required" for a missing field instead of a type complaint. */
export const expected =
  (what: string) =>
  (issue: { input?: unknown }): string =>
    issue.input === undefined ? "is required" : `must be ${what}`;

/** Any exact decimal string: "-12.5", "0", "30000.01". */
export const DecimalString = z
  .string({ error: expected('an exact decimal string (e.g. "101.25"), not a number') })
  .max(MAX_DECIMAL_LENGTH, { error: `must be at most ${MAX_DECIMAL_LENGTH} characters`, abort: true })
  .regex(DECIMAL_RE, {
    error: 'must be an exact decimal string like "-12.50" (no NaN, Infinity, exponent or spaces)',
    abort: true,
  });

/** Decimal string > 0 (order quantities, prices). */
export const PositiveDecimalString = DecimalString.refine((s) => !s.startsWith("-") && !isZero(s), {
  error: "must be a positive decimal string (> 0)",
});

/** Decimal string >= 0 (sizes, fees paid, utilisation). */
export const NonNegativeDecimalString = DecimalString.refine((s) => !s.startsWith("-"), {
  error: "must be a non-negative decimal string (>= 0)",
});

/** ISO-8601 timestamp with an explicit offset, e.g. 2026-01-01T00:00:00.000Z. */
export const IsoTimestamp = z.iso.datetime({
  offset: true,
  error: expected("an ISO-8601 timestamp such as 2026-01-01T00:00:00.000Z"),
});

/** Identifiers: ids, client order ids, strategy ids. Printable, no whitespace, bounded. */
export const Identifier = z
  .string({ error: "must be a string identifier" })
  .min(1, { error: "must not be empty" })
  .max(128, { error: "must be at most 128 characters" })
  .regex(/^[\x21-\x7e]+$/, { error: "must be printable ASCII without spaces" });

/** Venue id, e.g. "venue-a", "binance". */
export const VenueId = z
  .string({ error: "must be a venue id string" })
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, { error: 'must be a venue id like "venue-a"' });

/** Symbol, e.g. "BTC-USD". Whether the symbol is tradable is a configuration question, not a schema one. */
export const SymbolId = z
  .string({ error: "must be a symbol string" })
  .regex(/^[A-Z0-9]{1,20}(?:[-/][A-Z0-9]{1,20}){0,2}$/, { error: 'must be an upper-case symbol like "BTC-USD"' });

export const SideSchema = z.enum(["BUY", "SELL"], { error: expected("one of BUY, SELL") });
export const OrderTypeSchema = z.enum(["MARKET", "LIMIT"], { error: expected("one of MARKET, LIMIT") });
export const TimeInForceSchema = z.enum(["GTC", "IOC", "FOK"], { error: expected("one of GTC, IOC, FOK") });
export const LiquiditySchema = z.enum(["MAKER", "TAKER"], { error: expected("one of MAKER, TAKER") });
export const SeveritySchema = z.enum(["LOW", "MEDIUM", "HIGH", "CRITICAL"], {
  error: expected("one of LOW, MEDIUM, HIGH, CRITICAL"),
});
export const OrderStatusSchema = z.enum([
  "PENDING_NEW",
  "NEW",
  "PARTIALLY_FILLED",
  "FILLED",
  "CANCELED",
  "REJECTED",
  "EXPIRED",
]);
export type OrderStatus = z.infer<typeof OrderStatusSchema>;

/** Non-negative safe integer (sequence numbers, versions, counts). */
export const Sequence = z
  .number({ error: expected("an integer") })
  .int()
  .nonnegative()
  .max(Number.MAX_SAFE_INTEGER);

/** W3C traceparent: version-traceid-parentid-flags, lower-case hex, ids not all zeros. */
export const Traceparent = z
  .string({ error: "must be a W3C traceparent string" })
  .regex(/^(?!ff)[0-9a-f]{2}-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/, {
    error: "must be a W3C traceparent like 00-<32 hex>-<16 hex>-01",
  });

export const Tracestate = z.string().max(512, { error: "must be at most 512 characters" });
