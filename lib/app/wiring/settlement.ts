// settlement's wiring: the custodian, nothing else over gRPC.
import { CustodianClient } from "../../grpc/CustodianClient";
import type { SettlementDependencies } from "../settlement";
import { createGrpcBase } from "./grpc";

export function settlementDependencies(env: NodeJS.ProcessEnv = process.env): SettlementDependencies {
  const { base, manager } = createGrpcBase(env);
  return { ...base, custodian: new CustodianClient(manager) };
}
