// fill-handling Lambda entry point: the spec in lib/app/specs/fillHandling.ts over the deployed dependencies.
// Only the wiring it calls is imported, so the bundle carries nothing else.
import type { FillHandlingDependencies } from "../../lib/app/fillHandling";
import { buildFunction, type LambdaHandler } from "../../lib/app/functionRuntime";
import { fillHandlingFunction } from "../../lib/app/specs/fillHandling";
import type { Provider } from "../../lib/app/wiring/base";
import { fillHandlingDependencies } from "../../lib/app/wiring/fillHandling";

export const createHandler = (deps: Provider<FillHandlingDependencies>): LambdaHandler =>
  buildFunction(fillHandlingFunction, deps);

export const handler = createHandler(async () => fillHandlingDependencies());
