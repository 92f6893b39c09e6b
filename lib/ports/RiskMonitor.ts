// The risk-monitor port: the pre-trade check (fail-closed when the monitor is unreachable) and position
// reports. RiskMonitorClient (lib/grpc) implements it.
import type { Decimal } from "../domain/decimal";
import type { Side } from "../domain/types";

export interface RiskCheckArgs {
  strategyId: string;
  venue: string;
  symbol: string;
  side: Side;
  quantity: Decimal | string;
  price?: Decimal | string;
  clientOrderId?: string;
}

export interface RiskCheckResult {
  approved: boolean;
  checkId: string;
  reasons: string[];
  /** The monitor could not be asked (down, deadline, circuit open): the denial is the fail-closed default. */
  failedClosed: boolean;
}

/** A position as reported to the monitor (decimal strings). */
export interface PositionReport {
  strategyId: string;
  venue: string;
  symbol: string;
  quantity: string;
  averagePrice?: string;
  markPrice?: string;
  unrealizedPnl?: string;
  realizedPnl?: string;
  updatedAtMs?: number;
}

export interface RiskMonitorPort {
  checkOrderFailClosed(args: RiskCheckArgs): Promise<RiskCheckResult>;
  reportPosition(position: PositionReport): Promise<unknown>;
}
