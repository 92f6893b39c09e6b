// settlement Lambda entry point: the spec in lib/app/specs/settlement.ts over the deployed dependencies.
// Only the wiring it calls is imported, so the bundle carries nothing else.

import { buildFunction, type LambdaHandler } from "../../lib/app/functionRuntime";
import type { SettlementDependencies } from "../../lib/app/settlement";
import { settlementFunction } from "../../lib/app/specs/settlement";
import type { Provider } from "../../lib/app/wiring/base";
import { settlementDependencies } from "../../lib/app/wiring/settlement";

export const createHandler = (deps: Provider<SettlementDependencies>): LambdaHandler =>
  buildFunction(settlementFunction, deps);

export const handler = createHandler(async () => settlementDependencies());
