// Log lines written inside a span carry its trace_id and span_id (function logger and the simulators' JSON logger),
// and a function's process span continues and links the event's meta.traceparent, with faas.* attributes.
import { SpanKind } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { EngineDependencies } from "../../lib/app/dependencies";
import { buildFunction, type FunctionSpec } from "../../lib/app/functionRuntime";
import { localContext } from "../../lib/app/handlers";
import { inSpan } from "../../lib/telemetry/spans";
import { startTracing, type TracingHandle } from "../../lib/telemetry/tracing";
import { createJsonLogger } from "../../sim/common/logger";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT = "00f067aa0ba902b7";

describe("trace ids in logs", () => {
  const exporter = new InMemorySpanExporter();
  let handle: TracingHandle;
  beforeAll(async () => {
    handle = await startTracing("tse-test", { processors: [new SimpleSpanProcessor({ exporter })], env: {} });
  });
  afterAll(() => handle.shutdown());

  it("a function's log line carries the process span's ids; the span continues and links the event", async () => {
    const spec: FunctionSpec<unknown, string> = {
      functionName: "probe",
      parse: (e) => e,
      correlationIdOf: () => undefined,
      handle: async (_input, _deps, tools) => {
        tools.logger.info("inside the handler");
        return "ok";
      },
    };
    const lines: string[] = [];
    const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      const fn = buildFunction(spec, async () => ({}) as EngineDependencies);
      const event = {
        "detail-type": "MarketSnapshot",
        detail: { meta: { traceparent: `00-${TRACE_ID}-${PARENT}-01` } },
      };
      expect(await fn(event, localContext("probe"))).toBe("ok");
    } finally {
      spy.mockRestore();
    }
    const span = exporter.getFinishedSpans().find((s) => s.name === "process MarketSnapshot")!;
    expect(span.kind).toBe(SpanKind.CONSUMER);
    expect(span.spanContext().traceId).toBe(TRACE_ID);
    expect(span.parentSpanContext?.spanId).toBe(PARENT);
    expect(span.links.map((l) => l.context.spanId)).toEqual([PARENT]);
    expect(span.attributes).toMatchObject({ "faas.trigger": "pubsub", "faas.name": "probe", "faas.coldstart": true });
    expect(String(span.resource.attributes["service.name"])).toBe("tse-probe");
    const line = lines.map((l) => l.trim()).find((l) => l.includes("inside the handler"));
    expect(line, "the handler's log line").toBeDefined();
    expect(JSON.parse(line!)).toMatchObject({ trace_id: TRACE_ID, span_id: span.spanContext().spanId });
  });

  it("the simulators' JSON logger adds the ids inside a span, and not outside", async () => {
    const out: string[] = [];
    const log = createJsonLogger("sim", { write: (l) => out.push(l) });
    const spanId = await inSpan("tse-sim-test", "work", {}, (span) => {
      log.info("inside");
      return span!.spanContext().spanId;
    });
    log.info("outside");
    expect(JSON.parse(out[0]!)).toMatchObject({ msg: "inside", span_id: spanId });
    expect(JSON.parse(out[0]!).trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(JSON.parse(out[1]!).trace_id).toBeUndefined();
  });
});
