// order-placement Lambda entry point: the spec in lib/app/specs/orderPlacement.ts over the deployed dependencies.
import { createEngineDependencies, type DependenciesProvider } from "../../lib/app/dependencies";
import { buildFunction, type LambdaHandler } from "../../lib/app/functionRuntime";
import { orderPlacementFunction } from "../../lib/app/specs/orderPlacement";

export const createHandler = (deps: DependenciesProvider): LambdaHandler => buildFunction(orderPlacementFunction, deps);

export const handler = createHandler(async () => createEngineDependencies());
