// reporting Lambda entry point: the spec in lib/app/specs/reporting.ts over the deployed dependencies.
// Only the wiring it calls is imported, so the bundle carries nothing else.
import { buildFunction, type LambdaHandler } from "../../lib/app/functionRuntime";
import { reportingFunction } from "../../lib/app/specs/reporting";
import { type BaseDependencies, createBaseDependencies, type Provider } from "../../lib/app/wiring/base";

export const createHandler = (deps: Provider<BaseDependencies>): LambdaHandler =>
  buildFunction(reportingFunction, deps);

export const handler = createHandler(async () => createBaseDependencies());
