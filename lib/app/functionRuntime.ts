// The shared shell of every function: middy with Powertools logger (correlation id from the envelope meta),
// metrics (EMF), the tracer only when enabled, plus our event parser. Bad input throws a typed
// EventValidationError naming the field and the value BEFORE the handler body runs, so nothing is written and the
// event goes to the DLQ.
import { Logger } from "@aws-lambda-powertools/logger";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy, { type MiddlewareObj } from "@middy/core";
import { trace } from "@opentelemetry/api";
import type { Context } from "aws-lambda";
import { clip, preview } from "../domain/bounds";
import { InvalidFieldError } from "../domain/errors";
import { EventValidationError } from "../events/errors";
import { checkNesting, type ParsedEvent, parseEventBridgeEvent } from "../events/parse";
import type { DetailType } from "../events/registry";
import { startTracing, tracing } from "../telemetry/tracing";
import type { EngineDependencies } from "./dependencies";
import { functionSpan } from "./functionSpan";
import { memoizeDependencies, type Provider } from "./wiring/base";

export interface FunctionTools {
  logger: Logger;
  metrics: Metrics;
}

export const METRICS_NAMESPACE = "TradingSystemEngine";

export function createTools(functionName: string): FunctionTools {
  const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? `tse-${functionName}`;
  return {
    logger: new Logger({ serviceName, logLevel: (process.env.POWERTOOLS_LOG_LEVEL as "INFO" | undefined) ?? "INFO" }),
    metrics: new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE, serviceName }),
  };
}

/**
 * The Powertools tracer (X-Ray SDK, ~100 KB and ~16 ms of init) only when POWERTOOLS_TRACE_ENABLED is "true":
 * loaded on the first invocation. The function bundler defines POWERTOOLS_TRACE_ENABLED as the same constant
 * it sets in the function's environment, so a bundle without the tracer does not even contain it.
 */
function lazyTracer(serviceName: string): MiddlewareObj<unknown, unknown, Error, Context> | undefined {
  return process.env.POWERTOOLS_TRACE_ENABLED === "true" ? tracerMiddleware(serviceName) : undefined;
}

function tracerMiddleware(serviceName: string): MiddlewareObj<unknown, unknown, Error, Context> {
  let loaded: Promise<MiddlewareObj<unknown, unknown, Error, Context>> | undefined;
  const mw = () =>
    (loaded ??= Promise.all([
      import("@aws-lambda-powertools/tracer"),
      import("@aws-lambda-powertools/tracer/middleware"),
    ]).then(([{ Tracer }, { captureLambdaHandler }]) => {
      const tracer = new Tracer({ serviceName });
      const capture = captureLambdaHandler(tracer, { captureResponse: false });
      return {
        ...capture,
        before: async (request) => {
          await capture.before?.(request);
          // X-Ray and W3C joined: the segment names the W3C trace this invocation belongs to.
          const traceId = tracing().enabled ? trace.getActiveSpan()?.spanContext().traceId : undefined;
          if (traceId && tracer.isTracingEnabled()) tracer.putAnnotation("w3c_trace_id", traceId);
        },
      } as MiddlewareObj<unknown, unknown, Error, Context>;
    }));
  return {
    before: async (request) => (await mw()).before?.(request),
    after: async (request) => (await mw()).after?.(request),
    onError: async (request) => (await mw()).onError?.(request),
  };
}

/** The Lambda-shaped handler every function exports (the function host and the embedded bus call it). */
export type LambdaHandler = (event: unknown, context: Context) => Promise<unknown>;

/** `D`: the dependencies the function calls (its wiring builds only those). */
export interface FunctionSpec<I, R, D = EngineDependencies> {
  functionName: string;
  /** Turn the raw invocation into the typed input; throw EventValidationError naming the field and the value. */
  parse(event: unknown): I;
  /** Correlation id for the logs, from the parsed input. */
  correlationIdOf(input: I): string | undefined;
  handle(input: I, deps: D, tools: FunctionTools, context: Context): Promise<R>;
}

/** Middy-wrapped handler with injected dependencies (a value, or a lazy provider resolved once). */
export function buildFunction<I, R, D = EngineDependencies>(
  spec: FunctionSpec<I, R, D>,
  deps: Provider<D>,
  tools = createTools(spec.functionName),
): LambdaHandler {
  const resolve = memoizeDependencies(deps);
  const { logger, metrics } = tools;
  const rejectedAtParse = new WeakSet<Error>();
  /** Runs a parse step; a typed rejection is counted and logged once, with bounded previews only. */
  const rejecting = (step: () => void): void => {
    try {
      step();
    } catch (e) {
      if (e instanceof EventValidationError) {
        rejectedAtParse.add(e);
        metrics.addMetric("EventRejected", MetricUnit.Count, 1);
        // Only bounded previews reach the logger (a raw value may be megabytes or thousands of levels deep).
        logger.error("rejected invalid event", {
          errorType: e.name,
          field: e.field,
          value: preview(e.value),
          detailType: e.detailType,
          issues: e.issues.slice(0, 5).map((i) => ({ field: clip(i.field, 128), message: clip(i.message) })),
        });
      }
      throw e;
    }
  };
  // Before any parser walks it: an event nested deeper than 32 levels is refused with a typed error.
  const nesting: MiddlewareObj<unknown, unknown, Error, Context> = {
    before: (request) => rejecting(() => checkNesting(request.event, "(event)", undefined)),
  };
  const parse: MiddlewareObj<unknown, unknown, Error, Context> = {
    before: (request) =>
      rejecting(() => {
        const input = spec.parse(request.event);
        request.event = input;
        const correlationId = spec.correlationIdOf(input);
        if (correlationId) logger.setCorrelationId(correlationId);
      }),
    onError: (request) => {
      const err = request.error;
      if (err && rejectedAtParse.has(err)) return; // logged and counted in `before`
      if (err instanceof InvalidFieldError) {
        // Bad input the schema cannot see (unknown symbol/venue), found before any write.
        metrics.addMetric("EventRejected", MetricUnit.Count, 1);
        logger.error("rejected invalid event", {
          errorType: err.name,
          field: err.field,
          value: preview(err.value),
          reason: clip(err.reason),
        });
        return;
      }
      // Everything else, an internal EventValidationError (an event we built) included, is a handler failure.
      metrics.addMetric("HandlerFailed", MetricUnit.Count, 1);
      const e = err instanceof Error ? err : new Error(String(err));
      logger.error("handler failed", {
        errorType: e.name,
        error: clip(e.message, 1024),
        ...(e.stack ? { stack: clip(e.stack, 4096) } : {}),
      });
    },
  };
  const body = async (event: unknown, context: Context): Promise<unknown> =>
    spec.handle(event as I, await resolve(), tools, context);
  const tracer = lazyTracer(process.env.POWERTOOLS_SERVICE_NAME ?? `tse-${spec.functionName}`);
  const m = middy(body);
  if (tracer) m.use(tracer);
  const handler = m
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: true, throwOnEmptyMetrics: false }))
    .use(nesting)
    .use(parse) as unknown as LambdaHandler;
  // OTEL_* configure tracing (once; the SDK is imported only then). With tracing on, the whole invocation (parse
  // and its logs included) runs in the function's process span; in Lambda, spans are flushed before it freezes.
  let started: Promise<unknown> | undefined;
  return async (event, context) => {
    started ??= startTracing(`tse-${spec.functionName}`).catch((e: unknown) =>
      logger.error("tracing not started", { error: clip(String(e)) }),
    );
    await started;
    if (!tracing().enabled) return handler(event, context);
    try {
      return await functionSpan(spec.functionName, logger, handler, event, context);
    } finally {
      if (process.env.AWS_LAMBDA_FUNCTION_NAME)
        await tracing()
          .forceFlush()
          .catch(() => {});
    }
  };
}

/** Parser for EventBridge-triggered functions: our zod schemas via parseEventBridgeEvent. */
export function eventBridgeParser<T extends DetailType>(expected: T | readonly T[]) {
  return (event: unknown): ParsedEvent<T> => parseEventBridgeEvent(event, expected);
}
