// signal Lambda entry point: the spec in lib/app/specs/signal.ts over the deployed dependencies.
// Only the wiring it calls is imported, so the bundle carries nothing else.
import { buildFunction, type LambdaHandler } from "../../lib/app/functionRuntime";
import { signalFunction } from "../../lib/app/specs/signal";
import { type BaseDependencies, createBaseDependencies, type Provider } from "../../lib/app/wiring/base";

export const createHandler = (deps: Provider<BaseDependencies>): LambdaHandler => buildFunction(signalFunction, deps);

export const handler = createHandler(async () => createBaseDependencies());
