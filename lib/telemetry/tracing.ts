// OpenTelemetry tracing from the standard environment variables only. Nothing set → no SDK is loaded and the
// global tracer stays the API's no-op (near-zero cost); the SDK, its exporter and the context manager are
// imported lazily so a process (or a Lambda bundle) that never traces never evaluates them.
import { context, propagation, type Tracer, trace } from "@opentelemetry/api";
import type { ReadableSpan, Sampler, SpanExporter, SpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";

export type TracesExporterName = "otlp" | "console" | "none";
export type OtlpProtocol = "http/protobuf" | "http/json" | "grpc";

export interface TracingConfig {
  serviceName: string;
  resourceAttributes: Record<string, string>;
  exporters: TracesExporterName[];
  protocol: OtlpProtocol;
  sampler: { name: string; arg?: number };
}

export interface TracingHandle {
  readonly enabled: boolean;
  readonly config?: TracingConfig;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

const DISABLED: TracingHandle = { enabled: false, forceFlush: async () => {}, shutdown: async () => {} };
const SAMPLERS = new Set([
  "always_on",
  "always_off",
  "traceidratio",
  "parentbased_always_on",
  "parentbased_always_off",
  "parentbased_traceidratio",
]);
const PROTOCOLS = new Set<OtlpProtocol>(["http/protobuf", "http/json", "grpc"]);

/** Thrown for a standard variable with a value we cannot honour; names the variable and (a bounded) value. */
export class TracingConfigError extends Error {
  override name = "TracingConfigError";
  constructor(
    readonly variable: string,
    readonly value: string,
    reason: string,
  ) {
    super(`invalid ${variable}=${JSON.stringify(value.slice(0, 64))}: ${reason}`);
  }
}

/** `k=v,k2=v2` (values percent-decoded), as OTEL_RESOURCE_ATTRIBUTES defines it. */
function parseResourceAttributes(raw: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (raw ?? "").split(",")) {
    const i = part.indexOf("=");
    if (i <= 0) continue;
    const key = part.slice(0, i).trim();
    const value = part.slice(i + 1).trim();
    try {
      out[key] = decodeURIComponent(value);
    } catch {
      out[key] = value;
    }
  }
  return out;
}

/**
 * The tracing configuration the standard variables ask for, or undefined when tracing is off. Off when
 * OTEL_SDK_DISABLED=true, when OTEL_TRACES_EXPORTER is `none`, or when neither OTEL_TRACES_EXPORTER nor an OTLP
 * endpoint is set (the spec's default exporter is otlp, but a process nobody configured must not dial out).
 */
export function tracingConfigFromEnv(
  defaultServiceName: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): TracingConfig | undefined {
  if ((env.OTEL_SDK_DISABLED ?? "").trim().toLowerCase() === "true") return undefined;
  const rawExporters = env.OTEL_TRACES_EXPORTER?.trim();
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!rawExporters && !endpoint) return undefined;
  const exporters = (rawExporters || "otlp")
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  for (const e of exporters)
    if (e !== "otlp" && e !== "console" && e !== "none")
      throw new TracingConfigError("OTEL_TRACES_EXPORTER", e, "supported: otlp, console, none");
  const active = exporters.filter((e) => e !== "none") as TracesExporterName[];
  if (active.length === 0) return undefined;
  const tracesProtocol = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL;
  const protocolVar = tracesProtocol ? "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL" : "OTEL_EXPORTER_OTLP_PROTOCOL";
  const protocol = ((tracesProtocol ?? env.OTEL_EXPORTER_OTLP_PROTOCOL)?.trim() || "http/protobuf") as OtlpProtocol;
  if (!PROTOCOLS.has(protocol))
    throw new TracingConfigError(protocolVar, protocol, "supported: http/protobuf, http/json, grpc");
  const resourceAttributes = parseResourceAttributes(env.OTEL_RESOURCE_ATTRIBUTES);
  const serviceName = env.OTEL_SERVICE_NAME?.trim() || resourceAttributes["service.name"] || defaultServiceName;
  return {
    serviceName,
    resourceAttributes,
    exporters: active,
    protocol,
    sampler: samplerFromEnv(env, "parentbased_always_on"),
  };
}

/** OTEL_TRACES_SAMPLER and its argument (`fallback` when unset). */
function samplerFromEnv(env: Readonly<Record<string, string | undefined>>, fallback: string): TracingConfig["sampler"] {
  const name = (env.OTEL_TRACES_SAMPLER?.trim() || fallback).toLowerCase();
  if (!SAMPLERS.has(name))
    throw new TracingConfigError("OTEL_TRACES_SAMPLER", name, `supported: ${[...SAMPLERS].join(", ")}`);
  if (!name.endsWith("traceidratio")) return { name };
  const raw = env.OTEL_TRACES_SAMPLER_ARG?.trim();
  const arg = raw ? Number(raw) : 1;
  if (!Number.isFinite(arg) || arg < 0 || arg > 1)
    throw new TracingConfigError("OTEL_TRACES_SAMPLER_ARG", raw ?? "", "a ratio from 0 to 1");
  return { name, arg };
}

async function exporterFor(name: TracesExporterName, protocol: OtlpProtocol): Promise<SpanExporter> {
  if (name === "console") return new (await import("@opentelemetry/sdk-trace")).ConsoleSpanExporter();
  // Each OTLP exporter reads OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT / HEADERS / TIMEOUT itself.
  if (protocol === "http/json")
    return new (await import("@opentelemetry/exporter-trace-otlp-http")).OTLPTraceExporter();
  if (protocol === "grpc") return new (await import("@opentelemetry/exporter-trace-otlp-grpc")).OTLPTraceExporter();
  return new (await import("@opentelemetry/exporter-trace-otlp-proto")).OTLPTraceExporter();
}

let current: TracingHandle = DISABLED;
// In-process readers of finished spans (the session's latency waterfall); they see what the exporters see.
const spanListeners = new Set<(span: ReadableSpan) => void>();

/** Hear of every finished (sampled) span while tracing is on; returns the unsubscribe function. */
export function onSpanEnd(listener: (span: ReadableSpan) => void): () => void {
  spanListeners.add(listener);
  return () => spanListeners.delete(listener);
}
// Components that share one process (the embedded session runs simulators, quoter and functions together) each
// keep their own service.name: one provider per service, all feeding the same processors.
let makeProvider: ((serviceName: string) => TracerProvider) | undefined;
const providers = new Map<string, TracerProvider>();

/**
 * A tracer whose spans carry `serviceName` as their resource's service.name. With tracing off it is the API's
 * no-op tracer. Context (parents) is shared across services, so one causal chain stays one trace.
 */
export function tracerFor(serviceName: string, scope = serviceName): Tracer {
  if (!makeProvider) return trace.getTracer(scope);
  let p = providers.get(serviceName);
  if (!p) {
    p = makeProvider(serviceName);
    providers.set(serviceName, p);
  }
  return p.getTracer(scope);
}

/** The process's tracing (disabled until startTracing() found a configuration). */
export function tracing(): TracingHandle {
  return current;
}

export interface StartTracingOptions {
  /**
   * Extra processors (tests: an InMemorySpanExporter behind a SimpleSpanProcessor); enables tracing by itself,
   * with OTEL_TRACES_SAMPLER's sampler if set (else always_on).
   */
  processors?: SpanProcessor[];
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * How the active context is kept: AsyncLocalStorage (the default: it follows callbacks and promises), or
   * `synchronous`, for a process whose spans nest within one turn and whose deferred work resumes its scope
   * itself (the quoter: captureTraceScope / inTraceScope). Node 20's AsyncLocalStorage runs a hook on every
   * promise of the process once entered, sampled or not.
   */
  contextManager?: "async-local-storage" | "synchronous";
}

/**
 * Register the global tracer provider, context manager and W3C propagator as the environment says; idempotent
 * (the first call wins). `defaultServiceName` is the component's own name (`tse-quoter`, `tse-sim-exchange`, …).
 */
export async function startTracing(defaultServiceName: string, opts: StartTracingOptions = {}): Promise<TracingHandle> {
  if (current.enabled) return current;
  const cfg = tracingConfigFromEnv(defaultServiceName, opts.env) ?? undefined;
  if (!cfg && !opts.processors?.length) return DISABLED;
  const config: TracingConfig = cfg ?? {
    serviceName: defaultServiceName,
    resourceAttributes: {},
    exporters: [],
    protocol: "http/protobuf",
    // In-process processors only (tests): every span, unless a sampler is asked for.
    sampler: samplerFromEnv(opts.env ?? process.env, "always_on"),
  };
  const sdk = await import("@opentelemetry/sdk-trace");
  const { resourceFromAttributes } = await import("@opentelemetry/resources");
  const { W3CTraceContextPropagator } = await import("@opentelemetry/core");
  const processors: SpanProcessor[] = [...(opts.processors ?? [])];
  processors.push({
    onStart: () => {},
    onEnd: (span) => {
      for (const l of spanListeners) l(span);
    },
    forceFlush: async () => {},
    shutdown: async () => {},
  });
  for (const name of config.exporters)
    processors.push(new sdk.BatchSpanProcessor({ exporter: await exporterFor(name, config.protocol) }));
  const ratio = config.sampler.arg ?? 1;
  const root = config.sampler.name.endsWith("always_off")
    ? new sdk.AlwaysOffSampler()
    : config.sampler.name.endsWith("traceidratio")
      ? new sdk.TraceIdRatioBasedSampler(ratio)
      : new sdk.AlwaysOnSampler();
  const sampler: Sampler = config.sampler.name.startsWith("parentbased_") ? new sdk.ParentBasedSampler({ root }) : root;
  const build = (serviceName: string, spanProcessors: SpanProcessor[]) =>
    new sdk.TracerProvider({
      resource: resourceFromAttributes({ ...config.resourceAttributes, "service.name": serviceName }),
      sampler,
      spanProcessors,
    });
  const provider = build(config.serviceName, processors);
  // Secondary providers share the processors but leave flushing and shutdown to the main one.
  const shared: SpanProcessor = {
    onStart: (span, ctx) => {
      for (const p of processors) p.onStart(span, ctx);
    },
    onEnd: (span) => {
      for (const p of processors) p.onEnd(span);
    },
    forceFlush: async () => {},
    shutdown: async () => {},
  };
  providers.set(config.serviceName, provider);
  makeProvider = (serviceName) => build(serviceName, [shared]);
  const contextManager =
    opts.contextManager === "synchronous"
      ? new (await import("./syncContext")).SynchronousContextManager()
      : new (await import("@opentelemetry/context-async-hooks")).AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  current = {
    enabled: true,
    config,
    forceFlush: () => provider.forceFlush(),
    shutdown: async () => {
      makeProvider = undefined;
      providers.clear();
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
      current = DISABLED;
    },
  };
  return current;
}
