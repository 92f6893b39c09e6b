// Typed client for the engine's own control API (served by the quoter): strategies, portfolio, risk controls.

import { type ChannelCredentials, credentials, Metadata } from "@grpc/grpc-js";
import {
  type DeepPartial,
  type EngineRiskStatus,
  EngineServiceService,
  ForcePositionCloseRequest,
  type ForcePositionCloseResponse,
  type GetPositionsResponse,
  type ListActiveStrategiesResponse,
  type Portfolio,
  type RiskLimits,
  SetRiskLimitsRequest,
  type SetTradingStateResponse,
  StartStrategyRequest,
  StopStrategyRequest,
  type StrategyStatus,
  TradingState,
} from "../../gen/proto/tse/engine/engine";
import type { TradingState as DomainTradingState } from "../domain/types";
import type { CallOptions, ClientManager, ServiceSpec } from "./ClientManager";

export const ENGINE_SPEC: ServiceSpec<typeof EngineServiceService> = {
  name: "engine",
  definition: EngineServiceService,
  defaultDeadlineMs: 2_000,
  methods: {
    startStrategy: { idempotent: false, deadlineMs: 5_000 },
    stopStrategy: { idempotent: false, deadlineMs: 10_000 },
    getStrategyStatus: { idempotent: true },
    listActiveStrategies: { idempotent: true },
    getPositions: { idempotent: true },
    getPortfolio: { idempotent: true },
    // Setting an absolute value twice is the same as once.
    setRiskLimits: { idempotent: true },
    getRiskStatus: { idempotent: true },
    forcePositionClose: { idempotent: false, deadlineMs: 10_000 },
    setTradingState: { idempotent: true },
  },
};

/** What a client needs to reach the control API: the server's certificate (or its CA) and the bearer token. */
export interface EngineClientAuth {
  caPem: string;
  token: string;
}

/** TLS channel credentials that present `authorization: Bearer <token>` on every call. */
export function engineChannelCredentials(auth: EngineClientAuth): ChannelCredentials {
  const bearer = credentials.createFromMetadataGenerator((_params, cb) => {
    const md = new Metadata();
    md.set("authorization", `Bearer ${auth.token}`);
    cb(null, md);
  });
  return credentials.combineChannelCredentials(credentials.createSsl(Buffer.from(auth.caPem)), bearer);
}

const TRADING_STATE: Record<DomainTradingState, TradingState> = {
  ACTIVE: TradingState.ACTIVE,
  REDUCING: TradingState.REDUCING,
  HALTED: TradingState.HALTED,
};

export class EngineClient {
  constructor(private readonly manager: ClientManager) {}

  startStrategy(req: DeepPartial<StartStrategyRequest>, opts?: CallOptions): Promise<StrategyStatus> {
    return this.manager.unary(ENGINE_SPEC, "startStrategy", StartStrategyRequest.fromPartial(req), opts);
  }
  stopStrategy(req: DeepPartial<StopStrategyRequest>, opts?: CallOptions): Promise<StrategyStatus> {
    return this.manager.unary(ENGINE_SPEC, "stopStrategy", StopStrategyRequest.fromPartial(req), opts);
  }
  getStrategyStatus(strategyId: string, opts?: CallOptions): Promise<StrategyStatus> {
    return this.manager.unary(ENGINE_SPEC, "getStrategyStatus", { strategyId }, opts);
  }
  listActiveStrategies(opts?: CallOptions): Promise<ListActiveStrategiesResponse> {
    return this.manager.unary(ENGINE_SPEC, "listActiveStrategies", {}, opts);
  }
  getPositions(
    filter: { strategyId?: string; symbol?: string } = {},
    opts?: CallOptions,
  ): Promise<GetPositionsResponse> {
    return this.manager.unary(
      ENGINE_SPEC,
      "getPositions",
      { strategyId: filter.strategyId ?? "", symbol: filter.symbol ?? "" },
      opts,
    );
  }
  getPortfolio(strategyId = "", opts?: CallOptions): Promise<Portfolio> {
    return this.manager.unary(ENGINE_SPEC, "getPortfolio", { strategyId }, opts);
  }
  setRiskLimits(strategyId: string, limits: DeepPartial<RiskLimits>, opts?: CallOptions): Promise<RiskLimits> {
    return this.manager.unary(
      ENGINE_SPEC,
      "setRiskLimits",
      SetRiskLimitsRequest.fromPartial({ strategyId, limits }),
      opts,
    );
  }
  getRiskStatus(strategyId = "", opts?: CallOptions): Promise<EngineRiskStatus> {
    return this.manager.unary(ENGINE_SPEC, "getRiskStatus", { strategyId }, opts);
  }
  forcePositionClose(
    req: DeepPartial<ForcePositionCloseRequest>,
    opts?: CallOptions,
  ): Promise<ForcePositionCloseResponse> {
    return this.manager.unary(ENGINE_SPEC, "forcePositionClose", ForcePositionCloseRequest.fromPartial(req), opts);
  }
  /** The kill switch. */
  setTradingState(state: DomainTradingState, reason: string, opts?: CallOptions): Promise<SetTradingStateResponse> {
    return this.manager.unary(ENGINE_SPEC, "setTradingState", { state: TRADING_STATE[state], reason }, opts);
  }
}
