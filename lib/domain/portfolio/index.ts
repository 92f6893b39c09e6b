export * from "./Portfolio";
export * from "./position";
