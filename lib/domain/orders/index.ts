export * from "./clientOrderId";
export * from "./Order";
export * from "./orderStatus";
