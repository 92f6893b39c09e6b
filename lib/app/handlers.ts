// The five functions' handlers over one set of dependencies, and helpers to run them in-process (the
// embedded bus, tests) with a Lambda-like context.
import { randomUUID } from "node:crypto";
import type { Context } from "aws-lambda";
import type { InProcessEventBus } from "../adapters/embedded/InProcessEventBus";
import type { DependenciesProvider } from "./dependencies";
import { buildFunction, type LambdaHandler } from "./functionRuntime";
import type { DeliveredContext, Delivery } from "./functionSpan";
import { fillHandlingFunction } from "./specs/fillHandling";
import { orderPlacementFunction } from "./specs/orderPlacement";
import { reportingFunction } from "./specs/reporting";
import { settlementFunction } from "./specs/settlement";
import { signalFunction } from "./specs/signal";

export const FUNCTION_NAMES = ["signal", "order-placement", "fill-handling", "reporting", "settlement"] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

export function createFunctionHandlers(deps: DependenciesProvider): Record<FunctionName, LambdaHandler> {
  return {
    signal: buildFunction(signalFunction, deps),
    "order-placement": buildFunction(orderPlacementFunction, deps),
    "fill-handling": buildFunction(fillHandlingFunction, deps),
    reporting: buildFunction(reportingFunction, deps),
    settlement: buildFunction(settlementFunction, deps),
  };
}

/** A Lambda context for in-process invocations. */
export function localContext(functionName: string, timeoutMs = 30_000): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: "512",
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: "local",
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

const EMBEDDED: Delivery = { system: "in_process", destination: "embedded" };

/** Register every routed function on the embedded bus; returns an unregister function. */
export function registerFunctions(
  bus: InProcessEventBus,
  handlers: Readonly<Record<string, LambdaHandler>>,
): () => void {
  const offs = Object.entries(handlers).map(([name, h]) =>
    bus.register(name, (event) => h(event, { ...localContext(name), tseDelivery: EMBEDDED } as DeliveredContext)),
  );
  return () => {
    for (const off of offs) off();
  };
}
