// The shared shell of every function: middy with Powertools logger (correlation id from the envelope meta),
// metrics (EMF) and tracer, plus the event parser. Bad input throws a typed EventValidationError naming the
// field and the value BEFORE the handler body runs, so nothing is written and the event goes to the DLQ.
import { Logger } from "@aws-lambda-powertools/logger";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import { parser } from "@aws-lambda-powertools/parser/middleware";
import { EventBridgeSchema } from "@aws-lambda-powertools/parser/schemas/eventbridge";
import { Tracer } from "@aws-lambda-powertools/tracer";
import { captureLambdaHandler } from "@aws-lambda-powertools/tracer/middleware";
import middy, { type MiddlewareObj } from "@middy/core";
import { trace } from "@opentelemetry/api";
import type { Context } from "aws-lambda";
import { z } from "zod";
import { clip, preview } from "../domain/bounds";
import { InvalidFieldError } from "../domain/errors";
import { EventValidationError } from "../events/errors";
import { checkNesting, type ParsedEvent, parseEventBridgeEvent } from "../events/parse";
import { DETAIL_TYPES, DetailSchemas, type DetailType } from "../events/registry";
import { startTracing, tracing } from "../telemetry/tracing";
import { type DependenciesProvider, type EngineDependencies, memoizeDependencies } from "./dependencies";
import { functionSpan } from "./functionSpan";

export interface FunctionTools {
  logger: Logger;
  metrics: Metrics;
  tracer: Tracer;
}

export const METRICS_NAMESPACE = "TradingSystemEngine";

export function createTools(functionName: string): FunctionTools {
  const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? `tse-${functionName}`;
  return {
    logger: new Logger({ serviceName, logLevel: (process.env.POWERTOOLS_LOG_LEVEL as "INFO" | undefined) ?? "INFO" }),
    metrics: new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE, serviceName }),
    tracer: new Tracer({ serviceName }),
  };
}

/** The Lambda-shaped handler every function exports (the function host and the embedded bus call it). */
export type LambdaHandler = (event: unknown, context: Context) => Promise<unknown>;

export interface FunctionSpec<I, R> {
  functionName: string;
  /**
   * Turn the raw invocation into the typed input; throw EventValidationError on bad input. With `schema`, it
   * runs only when Powertools' parse failed: it names the field and the value (or accepts a JSON-string event).
   */
  parse(event: unknown): I;
  /** Powertools parser schema (our zod schemas inside the EventBridge schema); the main path when given. */
  schema?: z.ZodType;
  /** Correlation id for the logs, from the parsed input. */
  correlationIdOf(input: I): string | undefined;
  handle(input: I, deps: EngineDependencies, tools: FunctionTools, context: Context): Promise<R>;
}

/** Middy-wrapped handler with injected dependencies (a value, or a lazy provider resolved once). */
export function buildFunction<I, R>(
  spec: FunctionSpec<I, R>,
  deps: DependenciesProvider,
  tools = createTools(spec.functionName),
): LambdaHandler {
  const resolve = memoizeDependencies(deps);
  const { logger, metrics, tracer } = tools;
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
        let input: I;
        if (spec.schema) {
          // Powertools' parser ran first (safeParse): success is the typed event; a failure is re-parsed by
          // ours only to build the typed error that names the field and the value.
          const r = request.event as { success: true; data: I } | { success: false; originalEvent: unknown };
          input = r.success ? r.data : spec.parse(r.originalEvent);
        } else input = spec.parse(request.event);
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
  const body = async (event: unknown, context: Context): Promise<unknown> => {
    // X-Ray and W3C joined: the segment names the W3C trace this invocation belongs to.
    const traceId = tracing().enabled ? trace.getActiveSpan()?.spanContext().traceId : undefined;
    if (traceId && tracer.isTracingEnabled()) tracer.putAnnotation("w3c_trace_id", traceId);
    return spec.handle(event as I, await resolve(), tools, context);
  };
  const handler = middy(body)
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: true, throwOnEmptyMetrics: false }))
    .use(nesting)
    .use(spec.schema ? parser({ schema: spec.schema, safeParse: true }) : { before: () => undefined })
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

/** Powertools' EventBridge schema with our detail-type, allowed sources and zod detail schema. */
export function eventBridgeSchema<T extends DetailType>(detailType: T): z.ZodType {
  const sources = DETAIL_TYPES[detailType].sources as readonly string[] as [string, ...string[]];
  return EventBridgeSchema.extend({
    "detail-type": z.literal(detailType),
    source: z.enum(sources),
    detail: DetailSchemas[detailType],
  });
}

/** Parser for EventBridge-triggered functions: our zod schemas via parseEventBridgeEvent. */
export function eventBridgeParser<T extends DetailType>(expected: T | readonly T[]) {
  return (event: unknown): ParsedEvent<T> => parseEventBridgeEvent(event, expected);
}
