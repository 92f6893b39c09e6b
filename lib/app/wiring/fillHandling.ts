// fill-handling's wiring: the risk monitor (fill reports), nothing else over gRPC.
import { RiskMonitorClient } from "../../grpc/RiskMonitorClient";
import type { FillHandlingDependencies } from "../fillHandling";
import { createGrpcBase } from "./grpc";

export function fillHandlingDependencies(env: NodeJS.ProcessEnv = process.env): FillHandlingDependencies {
  const { base, manager } = createGrpcBase(env);
  return { ...base, riskMonitor: new RiskMonitorClient(manager) };
}
