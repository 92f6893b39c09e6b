// fill-handling Lambda entry point: the spec in lib/app/specs/fillHandling.ts over the deployed dependencies.
import { createEngineDependencies, type DependenciesProvider } from "../../lib/app/dependencies";
import { buildFunction, type LambdaHandler } from "../../lib/app/functionRuntime";
import { fillHandlingFunction } from "../../lib/app/specs/fillHandling";

export const createHandler = (deps: DependenciesProvider): LambdaHandler => buildFunction(fillHandlingFunction, deps);

export const handler = createHandler(async () => createEngineDependencies());
