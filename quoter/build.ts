// The one place a quoter is wired: gRPC clients → the engine's ports (the exchange behind the order journal when
// a state store exists), the halt gate, the bus bridge, reconciliation and the shared risk state.
// quoter/main.ts (the container) and the local session both build their quoter here.
import { GrpcExchange } from "../lib/adapters/GrpcExchange";
import { GrpcMarketData } from "../lib/adapters/GrpcMarketData";
import { RiskStateSync } from "../lib/app/RiskStateSync";
import { haltReason } from "../lib/engine/haltGate";
import { OrderJournal } from "../lib/engine/OrderJournal";
import type { ClientManager } from "../lib/grpc/ClientManager";
import type { ExchangeClient } from "../lib/grpc/ExchangeClient";
import type { MarketDataClient } from "../lib/grpc/MarketDataClient";
import type { StateStore } from "../lib/ports/StateStore";
import type { BusBridge } from "./bridge/BusBridge";
import { Quoter } from "./Quoter";
import type { QuoterOptions } from "./types";

export interface QuoterWiring {
  manager: ClientManager;
  exchange: ExchangeClient;
  marketData: MarketDataClient;
  /**
   * The state store: orders are journaled before they are placed (fill handling books executions only against
   * known orders), positions are reconciled against it and trading-state changes are persisted to it (the kill
   * switch and breaker trips must reach order-placement, which reads the stored state; a HALTED set elsewhere
   * reaches the quoter the same way).
   */
  store?: StateStore;
  bridge?: BusBridge;
  /** Journal and trading-state write failures. */
  onError?: (msg: string, err?: unknown) => void;
  /** Everything else the quoter takes. */
  options: Omit<QuoterOptions, "exchange" | "marketData" | "manager" | "positions" | "bridge">;
}

export interface BuiltQuoter {
  quoter: Quoter;
  journal: OrderJournal | undefined;
  /**
   * The shared risk state (RISKSTATE) when a store exists: `start()` takes the stored memory and trading state
   * (before the quoter starts deciding), `stop()` writes what is pending (before exiting).
   */
  riskSync: RiskStateSync | undefined;
}

export function buildQuoter(w: QuoterWiring): BuiltQuoter {
  const onError = w.onError ?? (() => {});
  const venue = new GrpcExchange(w.exchange);
  let quoter: Quoter | undefined;
  const journal = w.store
    ? new OrderJournal(venue, {
        store: w.store,
        onError,
        // The journal write takes time: an order decided before a halt must not go out after it.
        mayPlace: (strategyId) => haltReason(quoter?.risk, strategyId) ?? true,
      })
    : undefined;
  quoter = new Quoter({
    ...w.options,
    exchange: journal ?? venue,
    marketData: new GrpcMarketData(w.marketData),
    manager: w.manager,
    ...(w.bridge ? { bridge: w.bridge } : {}),
    ...(w.store ? { positions: w.store } : {}),
  });
  const q = quoter;
  const riskSync = w.store
    ? new RiskStateSync({
        store: w.store,
        engine: q.risk,
        subscribe: (l) => q.onStateChange(l),
        ownStrategies: () => q.listStrategies().map((st) => st.id),
        onError: (m) => onError(m),
      })
    : undefined;
  return { quoter, journal, riskSync };
}
