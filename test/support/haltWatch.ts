// The kill switch's latency as the system records it, not as the test's clock sees it around gRPC calls: the
// engine's HALTED commit (its state change's time) and the exchange simulator's close time of every order of
// ours that rested at the exchange, or was on its way there, at that commit. The quoter and the exchange
// simulator run in the test's process, so both clocks are the same Date.now and the snapshot is taken inside
// the commit itself (the quoter's state listeners run synchronously with it).

import { status } from "@grpc/grpc-js";
import { OrderStatus } from "../../gen/proto/tse/exchange/exchange";
import type { TradingStateChange } from "../../lib/domain/risk/RiskEngine";
import type { Quoter } from "../../quoter/Quoter";
import type { ExchangeEngine } from "../../sim/exchange/ExchangeEngine";

export interface HaltWatch {
  /** The engine's (portfolio) HALTED change, once committed. */
  readonly halted: TradingStateChange | undefined;
  /** Client order ids of ours resting at the exchange or tracked by the quoter when HALTED was committed. */
  readonly openAtHalt: readonly string[];
  /**
   * Milliseconds from the HALTED commit to the exchange closing the last of `openAtHalt` (0 when none was open).
   * Throws if one of them still rests.
   */
  closeLatencyMs(): number;
}

/** Watches the quoter for its next portfolio HALTED; register it before the action that should halt. */
export function watchHalt(quoter: Quoter, exchange: ExchangeEngine): HaltWatch {
  let halted: TradingStateChange | undefined;
  const openAtHalt = new Set<string>();
  quoter.onStateChange((c) => {
    if (halted || c.scope !== "portfolio" || c.to !== "HALTED") return;
    halted = c;
    for (const o of exchange.listOpenOrders({ accountId: quoter.accountId })) openAtHalt.add(o.clientOrderId);
    for (const o of quoter.openOrders()) openAtHalt.add(o.clientOrderId);
  });
  return {
    get halted() {
      return halted;
    },
    get openAtHalt() {
      return [...openAtHalt];
    },
    closeLatencyMs() {
      if (!halted) throw new Error("the engine has not committed HALTED");
      let last = halted.at;
      for (const id of openAtHalt) {
        let o: ReturnType<ExchangeEngine["getOrder"]>;
        try {
          o = exchange.getOrder("", id, quoter.accountId);
        } catch (e) {
          if ((e as { code?: number }).code === status.NOT_FOUND) continue; // closed by the quoter before it was sent
          throw e;
        }
        if (o.status === OrderStatus.NEW || o.status === OrderStatus.PARTIALLY_FILLED)
          throw new Error(`order ${id} still rests at the exchange after HALTED`);
        last = Math.max(last, o.updatedAtMs);
      }
      return last - halted.at;
    },
  };
}
