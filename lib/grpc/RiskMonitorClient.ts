// Typed risk-monitor client. Pre-trade checks fail CLOSED: when the monitor is unreachable the order is denied.
import Decimal from "decimal.js";
import {
  CheckOrderRequest,
  type CheckOrderResponse,
  type DeepPartial,
  GetRiskStatusRequest,
  type Position,
  ReportPositionRequest,
  type ReportPositionResponse,
  ReportStrategyStatusRequest,
  type ReportStrategyStatusResponse,
  type RiskAlert,
  RiskMonitorServiceService,
  type RiskStatus,
  Severity,
  Side,
  StreamAlertsRequest,
} from "../../gen/proto/tse/risk/risk";
import type { RiskMonitorPort } from "../ports/RiskMonitor";
import type { CallOptions, ClientManager, ServiceSpec } from "./ClientManager";
import { CircuitOpenError, GrpcClientError } from "./errors";
import { ResumableStream, type ResumableStreamOptions } from "./ResumableStream";

export type { CheckOrderResponse, RiskAlert, RiskStatus } from "../../gen/proto/tse/risk/risk";
export { Severity } from "../../gen/proto/tse/risk/risk";

export const RISK_MONITOR_SPEC: ServiceSpec<typeof RiskMonitorServiceService> = {
  name: "risk-monitor",
  definition: RiskMonitorServiceService,
  defaultDeadlineMs: 1_000,
  methods: {
    // A check has no side effect on limits; repeating it is harmless.
    checkOrder: { idempotent: true, deadlineMs: 500 },
    // Reports carry the full latest state (last write wins). Off the order path (fill handling sends it beside
    // its publish), so it gets room for its retries on a busy host instead of being lost after 1 s.
    reportPosition: { idempotent: true, deadlineMs: 10_000 },
    reportStrategyStatus: { idempotent: true },
    getRiskStatus: { idempotent: true },
  },
};

export type { RiskCheckArgs as CheckOrderArgs } from "../ports/RiskMonitor";

import type { RiskCheckArgs as CheckOrderArgs } from "../ports/RiskMonitor";

const dec = (v: Decimal | string | undefined): string =>
  v === undefined ? "" : Decimal.isDecimal(v) ? v.toFixed() : v;

export interface AlertStreamOptions extends ResumableStreamOptions {
  minSeverity?: Severity;
  strategyId?: string;
  /** Also deliver currently active alerts on (re)connect; duplicates by alert id are dropped. Default true. */
  includeActive?: boolean;
}

/** The gRPC adapter of the risk-monitor port. */
export class RiskMonitorClient implements RiskMonitorPort {
  constructor(private readonly manager: ClientManager) {}

  checkOrder(args: CheckOrderArgs, opts?: CallOptions): Promise<CheckOrderResponse> {
    const req = CheckOrderRequest.fromPartial({
      strategyId: args.strategyId,
      venue: args.venue,
      symbol: args.symbol,
      side: args.side === "BUY" ? Side.BUY : Side.SELL,
      quantity: dec(args.quantity),
      price: dec(args.price),
      clientOrderId: args.clientOrderId ?? "",
    });
    return this.manager.unary(RISK_MONITOR_SPEC, "checkOrder", req, opts);
  }

  /** Fail-closed variant: peer/transport failures (down, deadline, circuit open) become a denial with the reason. */
  async checkOrderFailClosed(
    args: CheckOrderArgs,
    opts?: CallOptions,
  ): Promise<CheckOrderResponse & { failedClosed: boolean }> {
    try {
      return { ...(await this.checkOrder(args, opts)), failedClosed: false };
    } catch (e) {
      if (e instanceof GrpcClientError && (e.transient || e.kind === "circuit-open")) {
        return {
          approved: false,
          checkId: "",
          reasons: [`risk monitor unavailable (fail-closed): ${e.message}`],
          projectedUtilisation: "",
          failedClosed: true,
        };
      }
      throw e;
    }
  }

  /**
   * A report the open circuit refused (opened by slow pre-trade checks, say) is sent once more after the circuit's
   * half-open interval: a dropped report leaves the monitor on a stale position until the strategy's next fill.
   */
  async reportPosition(position: DeepPartial<Position>, opts?: CallOptions): Promise<ReportPositionResponse> {
    const req = ReportPositionRequest.fromPartial({ position });
    try {
      return await this.manager.unary(RISK_MONITOR_SPEC, "reportPosition", req, opts);
    } catch (e) {
      if (!(e instanceof CircuitOpenError) || this.manager.isClosed) throw e;
      await new Promise((r) => setTimeout(r, this.manager.halfOpenAfterMs + 50));
      return this.manager.unary(RISK_MONITOR_SPEC, "reportPosition", req, opts);
    }
  }

  reportStrategyStatus(
    status: DeepPartial<ReportStrategyStatusRequest>,
    opts?: CallOptions,
  ): Promise<ReportStrategyStatusResponse> {
    return this.manager.unary(
      RISK_MONITOR_SPEC,
      "reportStrategyStatus",
      ReportStrategyStatusRequest.fromPartial(status),
      opts,
    );
  }

  getRiskStatus(strategyId = "", opts?: CallOptions): Promise<RiskStatus> {
    return this.manager.unary(
      RISK_MONITOR_SPEC,
      "getRiskStatus",
      GetRiskStatusRequest.fromPartial({ strategyId }),
      opts,
    );
  }

  /** Alerts; reconnects; each alert id delivered once. */
  streamAlerts(opts: AlertStreamOptions = {}): ResumableStream<RiskAlert> {
    const seen = new Set<string>();
    const req = StreamAlertsRequest.fromPartial({
      minSeverity: opts.minSeverity ?? Severity.UNSPECIFIED,
      strategyId: opts.strategyId ?? "",
      includeActive: opts.includeActive ?? true,
    });
    return new ResumableStream<RiskAlert>(
      RISK_MONITOR_SPEC.name,
      "StreamAlerts",
      () => this.manager.serverStream(RISK_MONITOR_SPEC, "streamAlerts", req),
      (a) => {
        if (!a.alertId) return true;
        if (seen.has(a.alertId)) return false;
        seen.add(a.alertId);
        if (seen.size > 10_000) seen.delete(seen.values().next().value as string);
        return true;
      },
      opts,
    );
  }
}
