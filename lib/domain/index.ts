// Public API of the pure trading domain.
export * from "./decimal";
export * from "./errors";
export * from "./instruments";
export * from "./orders";
export * from "./portfolio";
export * from "./risk";
export * from "./sizing";
export * from "./types";
