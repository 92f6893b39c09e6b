// Span helpers shared by the hosts: W3C traceparent ↔ context, bus (messaging) spans and gRPC server spans.
// Every helper checks tracing().enabled first so the untraced path allocates nothing.
import {
  type Attributes,
  type Context,
  createContextKey,
  defaultTextMapGetter,
  isSpanContextValid,
  type Link,
  context as otelContext,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  type SpanOptions,
  SpanStatusCode,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { tracerFor, tracing } from "./tracing";

const propagator = new W3CTraceContextPropagator();
const SERVICE_KEY = createContextKey("tse.service.name");

/**
 * A tracer whose spans take the service.name of the span that encloses them (set by inSpan and the helpers
 * below), so a client shared by components in one process (the session's gRPC clients) reports each call under
 * the component that made it; the process's own service.name when no component span encloses it.
 */
export function contextualTracer(scope: string): Tracer {
  const pick = (ctx: Context): Tracer => {
    const s = ctx.getValue(SERVICE_KEY);
    return typeof s === "string" ? tracerFor(s, scope) : trace.getTracer(scope);
  };
  const startActiveSpan = ((name: string, ...rest: unknown[]) => {
    const fn = rest.pop() as (span: Span) => unknown;
    const [options, ctx] = rest as [SpanOptions | undefined, Context | undefined];
    const parent = ctx ?? activeOrUnsampled();
    const span = pick(parent).startSpan(name, options, parent);
    return otelContext.with(trace.setSpan(parent, span), fn, undefined, span);
  }) as Tracer["startActiveSpan"];
  return {
    startSpan: (name, options, ctx) => {
      const parent = ctx ?? activeOrUnsampled();
      return pick(parent).startSpan(name, options, parent);
    },
    startActiveSpan,
  };
}

export function formatTraceparent(sc: SpanContext): string {
  return `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 1).toString(16).padStart(2, "0")}`;
}

/** The active span's traceparent (an unsampled root's too), or undefined when no (valid) span is active. */
export function activeTraceparent(ctx?: Context): string | undefined {
  if (!ctx && unsampled) return unsampledTraceparent();
  const sc = trace.getSpanContext(ctx ?? otelContext.active());
  return sc && isSpanContextValid(sc) ? formatTraceparent(sc) : undefined;
}

// The unsampled root being run synchronously (inRootSpanSync): no context is entered for it, so its work costs no
// span, context or attributes; callers that propagate (gRPC metadata, events) send its traceparent (flags 00) so
// that downstream samplers agree with the root's decision.
class UnsampledRoot {
  tp: string | undefined;
  constructor(readonly sc: SpanContext) {}
}
let unsampled: UnsampledRoot | undefined;

/** What a deferred piece of work resumes (captureTraceScope): the active context or an unsampled root. */
export type TraceScope = Context | UnsampledRoot;

/** The trace scope to resume later (a tick's deferred calls); undefined with tracing off. Allocates nothing. */
export function captureTraceScope(): TraceScope | undefined {
  if (!tracing().enabled) return undefined;
  return unsampled ?? otelContext.active();
}

/** Run `fn` in a scope captured earlier (as it was then); `fn` itself when there is none. */
export function inTraceScope<T>(scope: TraceScope | undefined, fn: () => T): T {
  if (scope === undefined) return fn();
  if (!(scope instanceof UnsampledRoot)) return otelContext.with(scope, fn);
  const previous = unsampled;
  unsampled = scope;
  try {
    return fn();
  } finally {
    unsampled = previous;
  }
}

/** The unsampled root's traceparent (formatted once per root), or undefined outside one. */
export function unsampledTraceparent(): string | undefined {
  if (!unsampled) return undefined;
  unsampled.tp ??= formatTraceparent(unsampled.sc);
  return unsampled.tp;
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

/** The active context, or inside an unsampled root one that carries it (its children stay unsampled). */
export function activeOrUnsampled(): Context {
  return unsampled ? trace.setSpanContext(ROOT_CONTEXT, unsampled.sc) : otelContext.active();
}

type StartOptions = { kind?: SpanKind; attributes?: Attributes; links?: Link[]; parent?: Context };

/** A span of `service` under `options.parent` (else the active context), and the context to run inside it. */
function startIn(service: string, name: string, options: StartOptions): { span: Span; ctx: Context } {
  const parent = options.parent ?? activeOrUnsampled();
  const span = tracerFor(service).startSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes, links: options.links },
    parent,
  );
  return { span, ctx: trace.setSpan(parent, span).setValue(SERVICE_KEY, service) };
}

/** Record a failure on a span: the exception event and the ERROR status. */
export function markSpanFailed(span: Span, err: unknown): void {
  const e = err instanceof Error ? err : new Error(String(err));
  span.recordException(e);
  span.setStatus({ code: SpanStatusCode.ERROR, message: e.message });
}

export type MessagingSystem = "aws_eventbridge" | "aws_sqs" | "in_process";

/** Run `fn` in a span when tracing is on; the span ends (with the error status on a throw) when `fn` settles. */
export async function inSpan<T>(
  service: string,
  name: string,
  options: StartOptions,
  fn: (span: Span | undefined) => Promise<T> | T,
): Promise<T> {
  if (!tracing().enabled) return fn(undefined);
  const { span, ctx } = startIn(service, name, options);
  try {
    return await otelContext.with(ctx, () => fn(span));
  } catch (err) {
    markSpanFailed(span, err);
    throw err;
  } finally {
    span.end();
  }
}

/**
 * A CONSUMER span processing one message: child of the message's creation context (one trace per causal chain)
 * and linked to it, as the messaging conventions recommend for a single-message process span.
 */
export function processSpan<T>(
  service: string,
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
    service,
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
  service: string,
  fullService: string,
  method: string,
  metadata: { get(key: string): unknown[] },
  fn: (span: Span | undefined) => Promise<T> | T,
): Promise<T> {
  if (!tracing().enabled) return Promise.resolve().then(() => fn(undefined));
  const tp = metadata.get("traceparent")[0];
  const ts = metadata.get("tracestate")[0];
  return inSpan(
    service,
    `${fullService}/${method}`,
    {
      kind: SpanKind.SERVER,
      parent: contextFromTraceparent(typeof tp === "string" ? tp : undefined, typeof ts === "string" ? ts : undefined),
      attributes: { "rpc.system": "grpc", "rpc.service": fullService, "rpc.method": method },
    },
    fn,
  );
}

/** Synchronous `inSpan` (for hot, synchronous paths such as a tick's decision). */
export function inSpanSync<T>(
  service: string,
  name: string,
  options: StartOptions,
  fn: (span: Span | undefined) => T,
): T {
  if (!tracing().enabled) return fn(undefined);
  const { span, ctx } = startIn(service, name, options);
  return runSync(span, ctx, fn);
}

function runSync<T>(span: Span, ctx: Context, fn: (span: Span | undefined) => T): T {
  try {
    return otelContext.with(ctx, () => fn(span));
  } catch (err) {
    markSpanFailed(span, err);
    throw err;
  } finally {
    span.end();
  }
}

/**
 * A synchronous root of causal chains (a market tick): the sampler decides once, here. A sampled root runs `fn`
 * in its context like inSpanSync and gets its attributes from `attributes`; an unsampled one runs `fn` with no
 * context entered and no attributes built, and the spans its synchronous work would start are skipped.
 */
export function inRootSpanSync<T>(
  service: string,
  name: string,
  attributes: () => Attributes,
  fn: (span: Span | undefined) => T,
): T {
  if (!tracing().enabled) return fn(undefined);
  if (unsampled) return fn(undefined); // nested in an unsampled root: part of it
  const parent = otelContext.active();
  const span = tracerFor(service).startSpan(name, { kind: SpanKind.INTERNAL }, parent);
  if (!span.isRecording()) return inTraceScope(new UnsampledRoot(span.spanContext()), () => fn(undefined));
  span.setAttributes(attributes());
  return runSync(span, trace.setSpan(parent, span).setValue(SERVICE_KEY, service), fn);
}

/**
 * A PRODUCER "create" span for one message, child of its cause (`causeTraceparent`, else the active span); the
 * message built inside carries this span's traceparent. The batch's "send" span links these.
 */
export function createMessage<T>(
  service: string,
  system: MessagingSystem,
  destination: string,
  detailType: string,
  causeTraceparent: string | undefined,
  build: () => T,
): T {
  if (!tracing().enabled) return build();
  return inSpanSync(
    service,
    `create ${detailType}`,
    {
      kind: SpanKind.PRODUCER,
      ...(causeTraceparent ? { parent: contextFromTraceparent(causeTraceparent) } : {}),
      attributes: {
        "messaging.system": system,
        "messaging.operation.type": "create",
        "messaging.operation.name": "create",
        "messaging.destination.name": destination,
        "tse.event.detail_type": detailType,
      },
    },
    build,
  );
}

/** A PRODUCER "send" span for one publish call of a batch, linked to each message's creation context. */
export function sendBatch<T>(
  system: MessagingSystem,
  destination: string,
  messages: readonly { detail: unknown; detailType: string }[],
  fn: () => Promise<T>,
): Promise<T> {
  if (!tracing().enabled) return fn();
  const links: Link[] = [];
  for (const m of messages) {
    const tp = (m.detail as { meta?: { traceparent?: string } } | undefined)?.meta?.traceparent;
    links.push(...linkTo(tp));
  }
  const types = new Set(messages.map((m) => m.detailType));
  const service = otelContext.active().getValue(SERVICE_KEY);
  return inSpan(
    typeof service === "string" ? service : (tracing().config?.serviceName ?? "tse"),
    `send ${types.size === 1 ? [...types][0] : destination}`,
    {
      kind: SpanKind.PRODUCER,
      // A batch has many causes: its own trace, linked to each (a timer may have captured an unrelated context).
      parent: ROOT_CONTEXT,
      links,
      attributes: {
        "messaging.system": system,
        "messaging.operation.type": "send",
        "messaging.operation.name": "send",
        "messaging.destination.name": destination,
        "messaging.batch.message_count": messages.length,
      },
    },
    fn,
  );
}

/** `{ trace_id, span_id }` of the active span for a JSON log line; undefined outside a span (or tracing off). */
export function traceFields(): { trace_id: string; span_id: string } | undefined {
  if (!tracing().enabled) return undefined;
  const sc = trace.getActiveSpan()?.spanContext();
  return sc && isSpanContextValid(sc) ? { trace_id: sc.traceId, span_id: sc.spanId } : undefined;
}
