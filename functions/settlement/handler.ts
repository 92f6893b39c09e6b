// settlement Lambda entry point: the spec in lib/app/specs/settlement.ts over the deployed dependencies.
import { createEngineDependencies, type DependenciesProvider } from "../../lib/app/dependencies";
import { buildFunction, type LambdaHandler } from "../../lib/app/functionRuntime";
import { settlementFunction } from "../../lib/app/specs/settlement";

export const createHandler = (deps: DependenciesProvider): LambdaHandler => buildFunction(settlementFunction, deps);

export const handler = createHandler(async () => createEngineDependencies());
