// order-placement Lambda entry point: the spec in lib/app/specs/orderPlacement.ts over the deployed dependencies.
// Only the wiring it calls is imported, so the bundle carries nothing else.
import type { EngineDependencies } from "../../lib/app/dependencies";
import { buildFunction, type LambdaHandler } from "../../lib/app/functionRuntime";
import { orderPlacementFunction } from "../../lib/app/specs/orderPlacement";
import type { Provider } from "../../lib/app/wiring/base";
import { orderPlacementDependencies } from "../../lib/app/wiring/orderPlacement";

export const createHandler = (deps: Provider<EngineDependencies>): LambdaHandler =>
  buildFunction(orderPlacementFunction, deps);

export const handler = createHandler(async () => orderPlacementDependencies());
