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
  // Lambda puts the role's credentials in the environment: the SDK's default chain becomes fromEnv alone, without
  // the SSO/ini/process/web-identity/IMDS providers and the STS/SSO clients they bring. Paths are relative to the
  // project root (esbuild's working directory; resolve them with functionAlias for the JS API).
  alias: { "@aws-sdk/credential-provider-node": "./lib/adapters/aws/lambdaCredentials.ts" },
  // Some dependencies are CommonJS and call require(); give the ESM bundle one.
  banner:
    "import { createRequire as __tseCreateRequire } from 'node:module'; const require = __tseCreateRequire(import.meta.url);",
} as const;

/** FUNCTION_BUNDLING.alias with absolute paths under `root` (esbuild's JS API, whatever its working directory). */
export function functionAlias(root: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries(FUNCTION_BUNDLING.alias).map(([k, v]) => [
      k,
      `${root.replace(/\/$/, "")}/${v.replace(/^\.\//, "")}`,
    ]),
  );
}

/** esbuild JS-API options that bundle a function as the stack does (minified ESM, SDK bundled), for `root`. */
export function functionBuildOptions(root: string) {
  return {
    bundle: true,
    platform: "node" as const,
    format: "esm" as const,
    minify: true,
    target: FUNCTION_BUNDLING.target,
    mainFields: [...FUNCTION_BUNDLING.mainFields],
    define: { ...FUNCTION_BUNDLING.define },
    alias: functionAlias(root),
    external: [...FUNCTION_BUNDLING.externalModules],
    banner: { js: FUNCTION_BUNDLING.banner },
    logLevel: "silent" as const,
  };
}

/** The same alias as NodejsFunction's esbuildArgs (`--alias:pkg=path`, run in the project root). */
export const FUNCTION_ESBUILD_ARGS = {
  "--alias": Object.entries(FUNCTION_BUNDLING.alias).map(([k, v]) => `${k}=${v}`),
};
