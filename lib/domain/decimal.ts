// The domain's one Decimal: a decimal.js clone with enough precision that sums of
// qty×price products over long runs stay exact (see docs/domain.md, "Accounting").
import DecimalJs from "decimal.js";
import * as z from "zod";
import { InvalidFieldError } from "./errors";

/** Decimal constructor used everywhere in the domain (precision 50, banker's rounding, no exponent notation). */
export const Decimal = DecimalJs.clone({
  precision: 50,
  rounding: DecimalJs.ROUND_HALF_EVEN,
  toExpNeg: -60,
  toExpPos: 60,
});
/** Instance type (decimal.js instances of any clone share it). */
export type Decimal = DecimalJs;
/** Anything `dec()` accepts. */
export type DecimalLike = DecimalJs | string | number;

export const ZERO: Decimal = new Decimal(0);
export const ONE: Decimal = new Decimal(1);

/**
 * Normalise to the domain clone. Instances of other decimal.js clones are re-wrapped so
 * arithmetic uses the domain precision (decimal.js takes precision from `this.constructor`).
 */
export function dec(v: DecimalLike, field = "value"): Decimal {
  if (v instanceof DecimalJs && v.constructor === Decimal) return v;
  try {
    const d = new Decimal(v);
    if (!d.isFinite()) throw new Error("not finite");
    return d;
  } catch {
    throw new InvalidFieldError(field, v, "not a finite decimal");
  }
}

/** Exact decimal string without exponent, for events and storage. */
export function decStr(d: DecimalLike): string {
  return dec(d).toFixed();
}

/** zod schema: decimal string or finite number → Decimal. `.refine` for sign constraints. */
export const zDecimal = z.union([z.string(), z.number(), z.instanceof(DecimalJs)]).transform((v, ctx) => {
  try {
    const d = new Decimal(v);
    if (d.isFinite()) return d;
  } catch {
    /* fallthrough */
  }
  ctx.addIssue({ code: "custom", message: `not a finite decimal: ${String(v)}` });
  return z.NEVER;
});
export const zPositiveDecimal = zDecimal.refine((d) => d.gt(0), { message: "must be > 0" });
export const zNonNegativeDecimal = zDecimal.refine((d) => d.gte(0), { message: "must be >= 0" });
