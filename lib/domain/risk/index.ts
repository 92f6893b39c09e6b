export * from "./context";
export * from "./limits";
export * from "./RiskEngine";
export * from "./riskMemory";
