// How every function is bundled (the stack's NodejsFunction and bench/functions.bench.ts use the same values).
export const FUNCTION_BUNDLING = {
  target: "node22",
  mainFields: ["module", "main"],
  // grpc-js requires proto-loader only for channelz/ORCA, which the functions never serve (106 KB of protobufjs).
  // The OTLP/gRPC trace exporter would bring grpc-js into every function: in Lambda, traces go over OTLP/HTTP
  // (http/protobuf or http/json; docs/observability.md).
  externalModules: ["@grpc/proto-loader", "@opentelemetry/exporter-trace-otlp-grpc"],
  // The Powertools tracer is off in the functions (Lambda's active tracing still records each invocation): the
  // constant lets esbuild drop it from the bundle (lib/app/functionRuntime.ts loads it only when "true").
  define: { "process.env.POWERTOOLS_TRACE_ENABLED": JSON.stringify("false") },
  // Some dependencies are CommonJS and call require(); give the ESM bundle one.
  banner:
    "import { createRequire as __tseCreateRequire } from 'node:module'; const require = __tseCreateRequire(import.meta.url);",
} as const;
