// reporting Lambda entry point: the spec in lib/app/specs/reporting.ts over the deployed dependencies.
import { createEngineDependencies, type DependenciesProvider } from "../../lib/app/dependencies";
import { buildFunction, type LambdaHandler } from "../../lib/app/functionRuntime";
import { reportingFunction } from "../../lib/app/specs/reporting";

export const createHandler = (deps: DependenciesProvider): LambdaHandler => buildFunction(reportingFunction, deps);

export const handler = createHandler(async () => createEngineDependencies());
