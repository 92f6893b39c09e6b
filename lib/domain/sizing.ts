// Risk-aware position sizing: the smallest of every constraint, rounded down to the lot.
import { type Decimal, type DecimalLike, dec, ZERO } from "./decimal";
import { InvalidFieldError } from "./errors";
import { roundQty } from "./instruments";
import type { Headroom } from "./risk/RiskEngine";
import type { Instrument } from "./types";

export type SizingConstraint = "configured" | "volatility" | "balance" | Headroom["constraint"];

export interface SizingInput {
  instrument: Instrument;
  /** The strategy's configured order size (base units). */
  configuredQty: DecimalLike;
  /** Price the order would trade at (limit price or mid). */
  price: DecimalLike;
  /** Per-limit headroom, e.g. from RiskEngine.headroom(). */
  headroom?: readonly Headroom[];
  /** Volatility targeting: size = riskBudget / (sigma × price). sigma is a fraction (e.g. 0.02). */
  volatility?: { sigma: number; riskBudget: DecimalLike };
  /** Balance available for this order: quote asset for buys, base asset for sells. */
  availableBalance?: DecimalLike;
  side?: "BUY" | "SELL";
  /** Fee fraction reserved on top of a buy's notional. */
  feeRate?: DecimalLike;
}

export interface SizingResult {
  /** Rounded down to the lot; zero when any constraint leaves no room. */
  quantity: Decimal;
  /** The constraint that set the size (the first of equal minima, in input order). */
  boundBy: SizingConstraint;
  /** Every candidate, before lot rounding. */
  candidates: { constraint: SizingConstraint; quantity: Decimal }[];
}

export function sizeOrder(input: SizingInput): SizingResult {
  const price = dec(input.price, "price");
  if (!price.gt(0)) throw new InvalidFieldError("price", price, "must be > 0");
  const configured = dec(input.configuredQty, "configuredQty");
  if (configured.lt(0)) throw new InvalidFieldError("configuredQty", configured, "must be >= 0");
  const candidates: SizingResult["candidates"] = [{ constraint: "configured", quantity: configured }];
  for (const h of input.headroom ?? []) {
    candidates.push({
      constraint: h.constraint,
      quantity: Number.isFinite(h.quantity) ? dec(Math.max(0, h.quantity)) : ZERO,
    });
  }
  if (input.volatility) {
    const { sigma } = input.volatility;
    if (!(sigma >= 0) || !Number.isFinite(sigma))
      throw new InvalidFieldError("volatility.sigma", sigma, "must be a finite number >= 0");
    const budget = dec(input.volatility.riskBudget, "volatility.riskBudget");
    // σ = 0 means no volatility estimate binds (infinite target), so it is simply not a candidate.
    if (sigma > 0) candidates.push({ constraint: "volatility", quantity: budget.div(price.times(sigma)) });
  }
  if (input.availableBalance !== undefined) {
    const bal = dec(input.availableBalance, "availableBalance");
    const fee = input.feeRate === undefined ? ZERO : dec(input.feeRate, "feeRate");
    const q = input.side === "SELL" ? bal : bal.div(price.times(fee.plus(1)));
    candidates.push({ constraint: "balance", quantity: q.lt(0) ? ZERO : q });
  }
  let best = candidates[0]!;
  for (const c of candidates) if (c.quantity.lt(best.quantity)) best = c;
  const quantity = roundQty(input.instrument, best.quantity);
  return { quantity, boundBy: best.constraint, candidates };
}
