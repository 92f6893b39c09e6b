// The halt gate: while trading is HALTED (the engine's kill switch, or a strategy's breaker) no new order goes
// out. The quoter's order journal checks it after its write; the local session puts it in front of the
// functions' exchange port too, so the kill switch stops the serverless order path at once.
import type { RiskEngine } from "../domain/risk/RiskEngine";
import type { ExchangePort } from "../ports/Exchange";
import { OrderNotPlacedError } from "./OrderJournal";

/** Why an order of `strategyId` may not go out now (undefined: it may). */
export function haltReason(risk: RiskEngine | undefined, strategyId: string | undefined): string | undefined {
  if (!risk) return undefined;
  const state = strategyId ? risk.effectiveState(strategyId) : risk.tradingState;
  return state === "HALTED" ? "trading is HALTED" : undefined;
}

/** `inner` with places refused (OrderNotPlacedError) while `reason` names one. */
export function haltGated(inner: ExchangePort, reason: (strategyId: string | undefined) => string | undefined) {
  const gated: ExchangePort = {
    placeOrder: (args) => {
      const why = reason(args.strategyId);
      return why ? Promise.reject(new OrderNotPlacedError(args.clientOrderId, why)) : inner.placeOrder(args);
    },
    cancelOrder: (ref) => inner.cancelOrder(ref),
    getOrder: (ref) => inner.getOrder(ref),
    listOpenOrders: (filter) => inner.listOpenOrders(filter),
    streamExecutions: (opts) => inner.streamExecutions(opts),
  };
  return gated;
}
