// A process that starts tracing from its environment only, makes a parent and a child span, and shuts down
// (flushing the exporter). test/unit/tracing.test.ts runs it against OTLP receivers on loopback.
import { type ProxyTracerProvider, trace } from "@opentelemetry/api";
import { startTracing, tracerFor } from "../../lib/telemetry/tracing";

const handle = await startTracing("tse-tracing-child");
const tracer = trace.getTracer("tracing-child");
tracer.startActiveSpan("parent", (parent) => {
  tracer.startSpan("child", { attributes: { "messaging.system": "aws_eventbridge" } }).end();
  tracerFor("tse-other-component").startSpan("other").end();
  parent.end();
});
// The API's proxy delegates to a no-op provider unless an SDK registered one.
const provider = (trace.getTracerProvider() as ProxyTracerProvider).getDelegate().constructor.name;
await handle.shutdown();
console.log(JSON.stringify({ enabled: handle.enabled, serviceName: handle.config?.serviceName ?? null, provider }));
