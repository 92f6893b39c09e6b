// Build a RiskContext from a Portfolio (number fast paths; reuse `into` to avoid allocation).
import type { Portfolio } from "../portfolio/Portfolio";
import type { RiskContext } from "./RiskEngine";

export function riskContextFromPortfolio(
  portfolio: Portfolio,
  strategyId: string,
  symbol: string,
  opts: { mid?: number; feeRate?: number; availableBase?: number } = {},
  into?: RiskContext,
): RiskContext {
  const instr = portfolio.instrument(symbol);
  const ctx: RiskContext = into ?? {
    mid: 0,
    position: 0,
    strategyNotional: 0,
    portfolioNotional: 0,
    availableQuote: 0,
  };
  ctx.mid = opts.mid ?? portfolio.markNumber(symbol);
  ctx.position = portfolio.netQuantityNumber(symbol);
  ctx.strategyPosition = portfolio.positionNumber(strategyId, symbol);
  ctx.strategyNotional = portfolio.grossNotionalNumber(strategyId);
  ctx.portfolioNotional = portfolio.grossNotionalNumber();
  ctx.availableQuote = portfolio.cashNumber(instr.quoteAsset);
  ctx.availableBase = opts.availableBase ?? portfolio.cashNumber(instr.baseAsset);
  if (opts.feeRate !== undefined) ctx.feeRate = opts.feeRate;
  return ctx;
}
