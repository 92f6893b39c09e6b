// Display formatting for reports and the dashboard. Money arrives as exact decimal strings and is
// rounded with decimal.js (never via floats) so what a person reads matches what was stored.
import Decimal from "decimal.js";
import type { ReportMetrics } from "./reportSchema";

const MINUS = "\u2212";
export const EMPTY = "\u2014";

function groupThousands(intPart: string): string {
  return intPart.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

function toDecimal(value: string | number | Decimal): Decimal | null {
  try {
    const d = new Decimal(value);
    return d.isFinite() ? d : null;
  } catch {
    return null;
  }
}

/** 1234.5 → "1,234.50"; signed adds "+" to positives; negatives use a real minus sign. */
export function formatFixed(
  value: string | number | Decimal | null | undefined,
  decimals = 2,
  opts: { signed?: boolean; prefix?: string; suffix?: string } = {},
): string {
  if (value === null || value === undefined) return EMPTY;
  const d = toDecimal(value);
  if (!d) return EMPTY;
  const rounded = d.toDecimalPlaces(decimals, Decimal.ROUND_HALF_EVEN);
  const neg = rounded.isNegative() && !rounded.isZero();
  const [i = "0", f] = rounded.abs().toFixed(decimals).split(".");
  const body = `${opts.prefix ?? ""}${groupThousands(i)}${f ? `.${f}` : ""}${opts.suffix ?? ""}`;
  if (neg) return `${MINUS}${body}`;
  if (opts.signed && !rounded.isZero()) return `+${body}`;
  return body;
}

/** Money in the quote currency: "$1,234.56", signed "+$12.00" / "−$3.10". */
export function formatMoney(value: string | number | Decimal | null | undefined, signed = false, decimals = 2): string {
  return formatFixed(value, decimals, { signed, prefix: "$" });
}

/** A decimal string shown with its own precision (trailing zeros trimmed), thousands grouped. */
export function formatDecimal(value: string | number | null | undefined, maxDecimals = 8): string {
  if (value === null || value === undefined) return EMPTY;
  const d = toDecimal(value);
  if (!d) return EMPTY;
  const s = d.toDecimalPlaces(maxDecimals, Decimal.ROUND_HALF_EVEN).toFixed();
  const neg = s.startsWith("-");
  const [i = "0", f] = (neg ? s.slice(1) : s).split(".");
  return `${neg ? MINUS : ""}${groupThousands(i)}${f ? `.${f}` : ""}`;
}

/** Ratio such as Sharpe: "1.84"; null (undefined ratio) → "—". */
export function formatRatio(value: number | null | undefined, decimals = 2): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return EMPTY;
  return formatFixed(value, decimals);
}

/**
 * Value already in percent (12.5 = 12.5 %). A non-zero value too small for `decimals` gets two
 * significant digits instead (0.00056 %, not a misleading 0.00 %), up to 8 decimals.
 */
export function formatPercent(value: number | null | undefined, decimals = 2, signed = false): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return EMPTY;
  let d = decimals;
  const abs = Math.abs(value);
  if (abs > 0 && abs < 0.5 * 10 ** -decimals) d = Math.min(8, Math.ceil(-Math.log10(abs)) + 1);
  return formatFixed(value, d, { signed, suffix: "\u202f%" });
}

/** Fraction 0..1 shown as percent (0.55 → "55.0 %"). */
export function formatFractionAsPercent(value: number | null | undefined, decimals = 1): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return EMPTY;
  return formatPercent(value * 100, decimals);
}

/** "pos" | "neg" | "zero" for colouring signed values. */
export function signClass(value: string | number | null | undefined): "pos" | "neg" | "zero" {
  if (value === null || value === undefined) return "zero";
  const d = toDecimal(value);
  if (!d || d.isZero()) return "zero";
  return d.isNegative() ? "neg" : "pos";
}

export function toMillis(ts: string | number): number {
  return typeof ts === "number" ? ts : Date.parse(ts);
}

/** "2026-01-01 12:34:56 UTC" (withMillis adds ".123"). */
export function formatTimestamp(ts: string | number, withMillis = false): string {
  const ms = toMillis(ts);
  if (!Number.isFinite(ms)) return String(ts);
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, withMillis ? 23 : 19)} UTC`;
}

/** 3_723_000 → "1h 02m 03s". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return EMPTY;
  const s = Math.round(ms / 1000);
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const pad = (n: number) => String(n).padStart(2, "0");
  if (d > 0) return `${d}d ${pad(h)}h ${pad(m)}m`;
  if (h > 0) return `${h}h ${pad(m)}m ${pad(sec)}s`;
  if (m > 0) return `${m}m ${pad(sec)}s`;
  return `${sec}s`;
}

/**
 * Sharpe for a summary line: the annualised figure when the sample allows one, else the per-period Sharpe with
 * its standard error and number of periods (an annualised Sharpe of a short run means nothing).
 */
export function formatSharpeSummary(m: Pick<ReportMetrics, "sharpe" | "perPeriodSharpe">): string {
  if (m.sharpe !== null) return `Sharpe ${m.sharpe.toFixed(2)} (annualised)`;
  const p = m.perPeriodSharpe;
  if (!p || p.sharpe === null) return "Sharpe n/a";
  const se = p.standardError === null ? "" : ` \u00b1 ${p.standardError.toFixed(3)}`;
  return `Sharpe per period ${p.sharpe.toFixed(3)}${se} over ${p.periods} periods (not annualised)`;
}
