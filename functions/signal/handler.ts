// signal Lambda entry point: the spec in lib/app/specs/signal.ts over the deployed dependencies.
import { createEngineDependencies, type DependenciesProvider } from "../../lib/app/dependencies";
import { buildFunction, type LambdaHandler } from "../../lib/app/functionRuntime";
import { signalFunction } from "../../lib/app/specs/signal";

export const createHandler = (deps: DependenciesProvider): LambdaHandler => buildFunction(signalFunction, deps);

export const handler = createHandler(async () => createEngineDependencies());
