// order-placement's wiring: the exchange, the risk monitor and the custodian (buying power), nothing else.
import { GrpcExchange } from "../../adapters/GrpcExchange";
import { CustodianClient } from "../../grpc/CustodianClient";
import { ExchangeClient } from "../../grpc/ExchangeClient";
import { RiskMonitorClient } from "../../grpc/RiskMonitorClient";
import { CustodianBuyingPower } from "../buyingPower";
import type { EngineDependencies } from "../dependencies";
import { createGrpcBase } from "./grpc";

export function orderPlacementDependencies(env: NodeJS.ProcessEnv = process.env): EngineDependencies {
  const { base, manager } = createGrpcBase(env);
  const custodian = new CustodianClient(manager);
  return {
    ...base,
    exchange: new GrpcExchange(new ExchangeClient(manager)),
    riskMonitor: new RiskMonitorClient(manager),
    custodian,
    buyingPower: new CustodianBuyingPower(custodian),
  };
}
