export * from "./arbitrage";
export * from "./avellanedaStoikov";
export * from "./chaos";
export * from "./config";
export * from "./marketMaking";
export * from "./quoteMath";
export * from "./registry";
export * from "./Strategy";
