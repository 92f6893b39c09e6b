// Span helpers shared by the hosts: W3C traceparent ↔ context, bus (messaging) spans and gRPC server spans.
// Every helper checks tracing().enabled first so the untraced path allocates nothing.
import {
  type Attributes,
  type Context,
  defaultTextMapGetter,
  isSpanContextValid,
  type Link,
  context as otelContext,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { tracing } from "./tracing";

const propagator = new W3CTraceContextPropagator();

export function formatTraceparent(sc: SpanContext): string {
  return `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 1).toString(16).padStart(2, "0")}`;
}

/** The active span's traceparent, or undefined when no (valid) span is active. */
export function activeTraceparent(ctx: Context = otelContext.active()): string | undefined {
  const sc = trace.getSpanContext(ctx);
  return sc && isSpanContextValid(sc) ? formatTraceparent(sc) : undefined;
}

/** The remote context a traceparent (from an event or an execution) names; ROOT_CONTEXT when malformed. */
export function contextFromTraceparent(traceparent: string | undefined, tracestate?: string): Context {
  if (!traceparent) return ROOT_CONTEXT;
  const carrier: Record<string, string> = { traceparent };
  if (tracestate) carrier.tracestate = tracestate;
  return propagator.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter);
}

function linkTo(traceparent: string | undefined, tracestate?: string): Link[] {
  const sc = trace.getSpanContext(contextFromTraceparent(traceparent, tracestate));
  return sc && isSpanContextValid(sc) ? [{ context: sc }] : [];
}

export type MessagingSystem = "aws_eventbridge" | "aws_sqs" | "in_process";

/** Run `fn` in a span when tracing is on; the span ends (with the error status on a throw) when `fn` settles. */
export async function inSpan<T>(
  tracer: Tracer,
  name: string,
  options: { kind?: SpanKind; attributes?: Attributes; links?: Link[]; parent?: Context },
  fn: (span: Span | undefined) => Promise<T> | T,
): Promise<T> {
  if (!tracing().enabled) return fn(undefined);
  const parent = options.parent ?? otelContext.active();
  const span = tracer.startSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes, links: options.links },
    parent,
  );
  try {
    return await otelContext.with(trace.setSpan(parent, span), () => fn(span));
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    span.recordException(e);
    span.setStatus({ code: SpanStatusCode.ERROR, message: e.message });
    throw err;
  } finally {
    span.end();
  }
}

/** A PRODUCER span around publishing (send) to a bus destination. */
export function publishSpan<T>(
  tracer: Tracer,
  system: MessagingSystem,
  destination: string,
  detailType: string,
  fn: (span: Span | undefined) => Promise<T> | T,
): Promise<T> {
  return inSpan(
    tracer,
    `send ${detailType}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        "messaging.system": system,
        "messaging.operation.type": "send",
        "messaging.operation.name": "send",
        "messaging.destination.name": destination,
        "tse.event.detail_type": detailType,
      },
    },
    fn,
  );
}

/**
 * A CONSUMER span processing one message: child of the message's creation context (one trace per causal chain)
 * and linked to it, as the messaging conventions recommend for a single-message process span.
 */
export function processSpan<T>(
  tracer: Tracer,
  message: {
    system: MessagingSystem;
    destination: string;
    detailType: string;
    traceparent?: string;
    tracestate?: string;
  },
  attributes: Attributes,
  fn: (span: Span | undefined) => Promise<T> | T,
): Promise<T> {
  if (!tracing().enabled) return Promise.resolve(fn(undefined));
  const parent = contextFromTraceparent(message.traceparent, message.tracestate);
  return inSpan(
    tracer,
    `process ${message.detailType}`,
    {
      kind: SpanKind.CONSUMER,
      parent,
      links: linkTo(message.traceparent, message.tracestate),
      attributes: {
        "messaging.system": message.system,
        "messaging.operation.type": "process",
        "messaging.operation.name": "process",
        "messaging.destination.name": message.destination,
        "tse.event.detail_type": message.detailType,
        ...attributes,
      },
    },
    fn,
  );
}

/** A gRPC SERVER span continuing the caller's traceparent from the call metadata. */
export function serverSpan<T>(
  tracer: Tracer,
  fullService: string,
  method: string,
  metadata: { get(key: string): unknown[] },
  fn: (span: Span | undefined) => Promise<T> | T,
): Promise<T> {
  if (!tracing().enabled) return Promise.resolve().then(() => fn(undefined));
  const tp = metadata.get("traceparent")[0];
  const ts = metadata.get("tracestate")[0];
  return inSpan(
    tracer,
    `${fullService}/${method}`,
    {
      kind: SpanKind.SERVER,
      parent: contextFromTraceparent(typeof tp === "string" ? tp : undefined, typeof ts === "string" ? ts : undefined),
      attributes: { "rpc.system": "grpc", "rpc.service": fullService, "rpc.method": method },
    },
    fn,
  );
}
