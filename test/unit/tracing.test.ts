// Tracing is configured by the standard OTEL_* variables only: parsing, "nothing set → nothing loaded", and real
// exports over OTLP/HTTP (JSON and protobuf) and OTLP/gRPC to receivers on loopback, from a child process.
import { execFile } from "node:child_process";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { promisify } from "node:util";
import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { TracingConfigError, tracingConfigFromEnv } from "../../lib/telemetry/tracing";

const run = promisify(execFile);
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function httpReceiver() {
  const requests: { path: string; contentType: string; body: Buffer }[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      requests.push({
        path: req.url ?? "",
        contentType: req.headers["content-type"] ?? "",
        body: Buffer.concat(chunks),
      });
      res.writeHead(200, { "content-type": req.headers["content-type"] ?? "application/json" });
      res.end(req.headers["content-type"]?.includes("json") ? "{}" : "");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  cleanup.push(() => new Promise<void>((r) => server.close(() => r())));
  return { requests, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function child(env: Record<string, string>) {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("OTEL_")));
  const { stdout } = await run(process.execPath, ["--import", "tsx", "test/support/tracingChild.ts"], {
    env: { ...base, ...env },
    timeout: 20_000,
  });
  return JSON.parse(stdout.trim().split("\n").at(-1)!) as {
    enabled: boolean;
    serviceName: string | null;
    provider: string;
  };
}

describe("tracingConfigFromEnv", () => {
  it("is off when nothing is set, when disabled, or with the none exporter", () => {
    expect(tracingConfigFromEnv("tse-x", {})).toBeUndefined();
    expect(tracingConfigFromEnv("tse-x", { OTEL_TRACES_EXPORTER: "none" })).toBeUndefined();
    expect(
      tracingConfigFromEnv("tse-x", { OTEL_SDK_DISABLED: "true", OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:1" }),
    ).toBeUndefined();
  });

  it("reads service name, resource attributes, exporter, protocol and sampler", () => {
    expect(
      tracingConfigFromEnv("tse-x", {
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318",
        OTEL_RESOURCE_ATTRIBUTES: "deployment.environment=dev,team=quant%20desk",
        OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
        OTEL_TRACES_SAMPLER_ARG: "0.01",
      }),
    ).toEqual({
      serviceName: "tse-x",
      resourceAttributes: { "deployment.environment": "dev", team: "quant desk" },
      exporters: ["otlp"],
      protocol: "http/protobuf",
      sampler: { name: "parentbased_traceidratio", arg: 0.01 },
    });
    expect(
      tracingConfigFromEnv("tse-x", {
        OTEL_TRACES_EXPORTER: "otlp",
        OTEL_SERVICE_NAME: "custom",
        OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
        OTEL_TRACES_SAMPLER: "always_on",
      }),
    ).toMatchObject({ serviceName: "custom", protocol: "grpc", sampler: { name: "always_on" } });
    expect(
      tracingConfigFromEnv("tse-x", {
        OTEL_TRACES_EXPORTER: "otlp",
        OTEL_RESOURCE_ATTRIBUTES: "service.name=from-attrs",
      })?.serviceName,
    ).toBe("from-attrs");
  });

  it("refuses values it cannot honour, naming the variable", () => {
    const bad = (env: Record<string, string>) => {
      try {
        tracingConfigFromEnv("tse-x", { OTEL_TRACES_EXPORTER: "otlp", ...env });
      } catch (e) {
        return e;
      }
      return undefined;
    };
    expect(bad({ OTEL_TRACES_EXPORTER: "zipkin" })).toMatchObject({ variable: "OTEL_TRACES_EXPORTER" });
    expect(bad({ OTEL_EXPORTER_OTLP_PROTOCOL: "thrift" })).toMatchObject({ variable: "OTEL_EXPORTER_OTLP_PROTOCOL" });
    expect(bad({ OTEL_TRACES_SAMPLER: "sometimes" })).toBeInstanceOf(TracingConfigError);
    expect(bad({ OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "2" })).toMatchObject({
      variable: "OTEL_TRACES_SAMPLER_ARG",
    });
  });
});

describe("startTracing exports with the standard variables only", () => {
  it("sends nothing and loads no SDK when nothing is set", async () => {
    const rx = await httpReceiver();
    expect(await child({})).toEqual({ enabled: false, serviceName: null, provider: "NoopTracerProvider" });
    expect(rx.requests).toHaveLength(0);
  });

  it("OTLP/HTTP JSON: both spans, parented, with service.name", async () => {
    const rx = await httpReceiver();
    const out = await child({
      OTEL_TRACES_EXPORTER: "otlp",
      OTEL_EXPORTER_OTLP_ENDPOINT: rx.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_TRACES_SAMPLER: "always_on",
    });
    expect(out).toEqual({ enabled: true, serviceName: "tse-tracing-child", provider: "TracerProvider" });
    expect(rx.requests.map((r) => r.path)).toEqual(["/v1/traces"]);
    const body = JSON.parse(rx.requests[0]!.body.toString("utf8"));
    type Span = { name: string; traceId: string; spanId: string; parentSpanId?: string; service: string };
    const spans: Span[] = [];
    for (const rs of body.resourceSpans as {
      resource: { attributes: { key: string; value: { stringValue?: string } }[] };
      scopeSpans: { spans: Omit<Span, "service">[] }[];
    }[]) {
      const service = rs.resource.attributes.find((a) => a.key === "service.name")?.value.stringValue ?? "";
      for (const ss of rs.scopeSpans) for (const sp of ss.spans) spans.push({ ...sp, service });
    }
    const parent = spans.find((s) => s.name === "parent")!;
    const childSpan = spans.find((s) => s.name === "child")!;
    const other = spans.find((s) => s.name === "other")!;
    expect(parent.service).toBe("tse-tracing-child");
    expect(childSpan).toMatchObject({ traceId: parent.traceId, parentSpanId: parent.spanId });
    // Another component of the same process: its own service.name, same trace, same parent.
    expect(other).toMatchObject({
      service: "tse-other-component",
      traceId: parent.traceId,
      parentSpanId: parent.spanId,
    });
  });

  it("OTLP/HTTP protobuf (the spec's default protocol)", async () => {
    const rx = await httpReceiver();
    await child({ OTEL_EXPORTER_OTLP_ENDPOINT: rx.url, OTEL_SERVICE_NAME: "tse-proto" });
    expect(rx.requests).toHaveLength(1);
    expect(rx.requests[0]!.contentType).toBe("application/x-protobuf");
    // The resource's service.name travels as a protobuf string inside the request.
    expect(rx.requests[0]!.body.includes(Buffer.from("tse-proto"))).toBe(true);
  });

  it("OTLP/gRPC to a TraceService on loopback", async () => {
    const bodies: Buffer[] = [];
    const server = new grpc.Server();
    const raw = { serialize: (b: Buffer) => b, deserialize: (b: Buffer) => b };
    server.addService(
      {
        Export: {
          path: "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
          requestStream: false,
          responseStream: false,
          requestSerialize: raw.serialize,
          requestDeserialize: raw.deserialize,
          responseSerialize: raw.serialize,
          responseDeserialize: raw.deserialize,
        },
      },
      {
        Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
          bodies.push(call.request);
          cb(null, Buffer.alloc(0));
        },
      },
    );
    const port = await new Promise<number>((res, rej) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))),
    );
    cleanup.push(() => new Promise<void>((r) => server.tryShutdown(() => r())));
    await child({
      OTEL_TRACES_EXPORTER: "otlp",
      OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
      OTEL_SERVICE_NAME: "tse-grpc",
    });
    expect(bodies).toHaveLength(1);
    expect(bodies[0]!.includes(Buffer.from("tse-grpc"))).toBe(true);
  });
});
