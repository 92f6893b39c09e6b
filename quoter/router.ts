// What the strategy host's decisions mean in the quoter: an approved intent becomes an order of this process
// (a client order id with the session prefix) on the order tracker and goes to the dispatcher; a cancel intent
// marks its order; the open-order cap is checked before the throttle and the risk engine.
import { riskContextFromPortfolio } from "../lib/domain/risk/context";
import type { RiskContext } from "../lib/domain/risk/RiskEngine";
import type { OrderIntent } from "../lib/domain/types";
import type { OrderTracker } from "../lib/engine/OrderTracker";
import { type IntentRouter, newRiskContext, type Refusal } from "../lib/engine/StrategyHost";
import type { Dispatcher } from "./Dispatcher";
import type { QuoterMarket } from "./market";
import type { QuoterSlot } from "./strategies";
import type { QuoterCounters } from "./types";

const OPEN_ORDER_CAP: Refusal = { kind: "DENIED", rule: "max-open-orders", reason: "max open orders" };

export interface QuoterRouterOptions {
  tracker: OrderTracker;
  dispatcher: Dispatcher;
  market: QuoterMarket;
  counters: QuoterCounters;
  sessionPrefix: string;
  maxOpenOrders: () => number;
  /** Whether intents from fills, timers and order events are acted on. */
  active: (slot: QuoterSlot) => boolean;
}

export class QuoterRouter implements IntentRouter<QuoterSlot> {
  /** The client order id of the last order placed (force-close reports them). */
  lastPlaced: string | undefined;
  private orderSeq = 0;
  private readonly riskCtx: RiskContext = newRiskContext();
  private readonly riskOpts: { mid?: number; feeRate?: number } = {};

  constructor(private readonly o: QuoterRouterOptions) {}

  cancel(_slot: QuoterSlot, orderId: string): void {
    const order = this.o.tracker.get(orderId);
    if (order) this.o.dispatcher.queueCancel(order);
  }

  precheck(): Refusal | undefined {
    if (this.o.tracker.size < this.o.maxOpenOrders()) return undefined;
    this.o.counters.openOrderCapDenials++;
    return OPEN_ORDER_CAP;
  }

  riskContext(_slot: QuoterSlot, intent: OrderIntent, mid: number): RiskContext {
    const ro = this.riskOpts;
    ro.mid = mid;
    ro.feeRate = this.o.market.takerFee(intent.venue);
    return riskContextFromPortfolio(this.o.market.portfolio, intent.strategyId, intent.symbol, ro, this.riskCtx);
  }

  place(_slot: QuoterSlot, intent: OrderIntent, now: number): void {
    const id = this.o.sessionPrefix + (++this.orderSeq).toString(36);
    this.o.dispatcher.queuePlace(this.o.tracker.open(intent, id, now));
    this.o.counters.quotes++;
    this.lastPlaced = id;
  }

  active(slot: QuoterSlot): boolean {
    return this.o.active(slot);
  }

  refused(_slot: QuoterSlot, _intent: OrderIntent, _now: number, r: Refusal): void {
    if (r !== OPEN_ORDER_CAP) this.o.counters.riskDenials++;
  }
}
