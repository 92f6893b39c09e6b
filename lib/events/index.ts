// Event contracts: the envelope, every detail-type's schema, parsing and building.
export * from "./build";
export * from "./details";
export * from "./errors";
export * from "./parse";
export * from "./primitives";
export * from "./registry";
