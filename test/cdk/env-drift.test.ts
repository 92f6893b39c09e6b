// No config drift: the environment variables the deployed code reads against those the stack sets, both ways.
// What the code reads is derived statically: esbuild resolves every source file reachable from each deployed
// entry point (functions/<name>/handler.ts, quoter/main.ts; packages external), and each file is scanned for
// `process.env.X`, `env.X`, `env["X"]` and commander's `.env("X")`. A computed `env[expr]` must be explained.
// What the stack sets comes from the synthesized template (Lambda environments, the quoter's container).
import { readFileSync } from "node:fs";
import path from "node:path";
import { build } from "esbuild";
import { beforeAll, describe, expect, it } from "vitest";
import { FUNCTION_NAMES } from "../../lib/app/handlers";
import { type Cfn, synthDeployedApp } from "../iam/stackPolicies";

const REPO = path.resolve(import.meta.dirname, "../..");
const COMPONENTS: Record<string, string> = {
  ...Object.fromEntries(FUNCTION_NAMES.map((f) => [f, `functions/${f}/handler.ts`])),
  quoter: "quoter/main.ts",
};

/** Read by the code but not set by the stack: optional, with the default the code uses. */
const OPTIONAL: Record<string, string> = {
  TSE_AWS_REQUEST_LOG: "tests only: where the AWS request recorder writes (off when unset)",
  TSE_AWS_REQUEST_PRINCIPAL: "tests only: the recorder's principal for a spawned process",
  TSE_AWS_REQUEST_SOURCE: "tests only: the test file named on each recorded request",
  TSE_CONFIG_TTL_MS: "configuration-client cache TTL, default 30000",
  POWERTOOLS_LOG_LEVEL: "function log level, default INFO",
  TSE_QUOTER_STRATEGIES: "strategies JSON; default: one strategy of TSE_QUOTER_STRATEGY",
  TSE_QUOTER_STRATEGY: "default strategy type, market-making",
  TSE_QUOTER_STRATEGY_PARAMS: "params of the default strategy, default none",
  TSE_QUOTER_ACCOUNT: "exchange account, default 'default'",
  TSE_QUOTER_ADVERTISE_HOST: "host registered with discovery; ECS registers the task in Cloud Map instead",
  TSE_QUOTER_MD_INTERVAL_MS: "market-data push interval, default 100",
  TSE_QUOTER_RECONCILE_MS: "reconciliation period, default 30000",
  TSE_QUOTER_MAX_ORDERS_PER_SECOND: "risk rate limit per strategy, default 200",
  TSE_QUOTER_MAX_OPEN_ORDERS: "quoter-wide open-order cap, default 200",
  TSE_QUOTER_RISK_LIMITS: "domain risk limits JSON, default none (the two caps above)",
  TSE_QUOTER_SNAPSHOT_INTERVAL_MS: "bridge snapshot interval, default 1000",
  TSE_QUOTER_SNAPSHOT_MODE: "bridge snapshot mode, default batch",
  TSE_QUOTER_SNAPSHOT_MOVE_BPS: "bridge snapshot on a mid move, default 5",
  TSE_QUOTER_SNAPSHOT_SPREAD_BPS: "bridge snapshot on a spread change, default 2",
  TSE_QUOTER_BRIDGE_QUEUE: "bridge queue bound, default 10000",
  TSE_LOG_LEVEL: "quoter log level, default INFO",
  TSE_QUOTER_STALE_QUOTE_MS: "market-data staleness bound, default 3000 ms",
  TSE_QUOTER_RUNTIME_STATS: "GC / loop-delay / allocation stats on /metrics (bench), default off",
  TSE_SETTINGS_PARAMETER:
    "hosts only (createEngineDependencies); a function refuses it, naming it: its settings come in TSE_SETTINGS",
  AWS_LAMBDA_FUNCTION_NAME: "set by the Lambda runtime itself: spans are flushed before the invocation returns",
  OTEL_SDK_DISABLED: "standard OpenTelemetry variable; tracing is off unless an exporter or endpoint is set",
  OTEL_TRACES_EXPORTER: "standard OpenTelemetry variable, default none here (nothing exported)",
  OTEL_EXPORTER_OTLP_ENDPOINT: "standard OpenTelemetry variable (OTLP endpoint), default none",
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "standard OpenTelemetry variable (OTLP traces endpoint), default none",
  OTEL_EXPORTER_OTLP_PROTOCOL: "standard OpenTelemetry variable, default http/protobuf",
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "standard OpenTelemetry variable, default OTEL_EXPORTER_OTLP_PROTOCOL",
  OTEL_TRACES_SAMPLER: "standard OpenTelemetry variable, default parentbased_always_on",
  OTEL_TRACES_SAMPLER_ARG: "standard OpenTelemetry variable, default 1",
  OTEL_RESOURCE_ATTRIBUTES: "standard OpenTelemetry variable, default none",
  OTEL_SERVICE_NAME: "standard OpenTelemetry variable, default the component's own tse-<name>",
  TSE_QUOTER_CONTROL_DIR: "local runs only: TLS pair and token from a directory; the stack passes the secret's ARN",
  TSE_QUOTER_HARD_CAPS: "SetRiskLimits hard caps JSON, default the declared caps (quoter/control/hardCaps.ts)",
  TSE_QUOTER_CHAOS_STRATEGIES: "allow chaos-* strategies, default off (never set in a deployment)",
};

/** Set by the stack but read by no source file of ours: read by the runtime or a library. */
const READ_BY_RUNTIME: Record<string, string> = {
  NODE_OPTIONS: "read by Node at start (--enable-source-maps)",
  AWS_REGION: "read by the AWS SDK (the quoter's region; Lambda sets its own)",
};

/** Computed reads (`env[expr]`), by file: the names they can read and why that is fine unset. */
const DYNAMIC: Record<string, { names: RegExp; reason: string }> = {
  "lib/grpc/discovery.ts": {
    names: /^TSE_[A-Z0-9_]+_ENDPOINT$/,
    reason: "TSE_<SERVICE>_ENDPOINT per peer (context quoterPeerEndpoints); unset: the registry, then the default port",
  },
};

const NAMED =
  /\benv\s*(?:\.\s*([A-Z][A-Z0-9_]*)\b|\[\s*(?:"([A-Z][A-Z0-9_]*)"|'([A-Z][A-Z0-9_]*)')\s*\])|\.env\(\s*["']([A-Z][A-Z0-9_]*)["']/g;
const COMPUTED = /\benv\s*\[\s*(?!["'])([^\]]+)\]/g;

interface Reads {
  names: Map<string, string[]>;
  computed: { file: string; expr: string }[];
}

async function readsOf(entry: string): Promise<Reads> {
  const r = await build({
    entryPoints: [path.join(REPO, entry)],
    absWorkingDir: REPO,
    bundle: true,
    write: false,
    metafile: true,
    platform: "node",
    format: "esm",
    packages: "external",
    logLevel: "silent",
    outdir: path.join(REPO, "test-output", "env-drift"),
  });
  const names = new Map<string, string[]>();
  const computed: Reads["computed"] = [];
  for (const file of Object.keys(r.metafile.inputs)) {
    const src = readFileSync(path.join(REPO, file), "utf8");
    for (const m of src.matchAll(NAMED)) {
      const name = (m[1] ?? m[2] ?? m[3] ?? m[4])!;
      names.set(name, [...new Set([...(names.get(name) ?? []), file])]);
    }
    for (const m of src.matchAll(COMPUTED)) computed.push({ file, expr: m[1]!.trim() });
  }
  return { names, computed };
}

/** Per component: the variables the synthesized stack sets for it. */
function setByStack(template: Cfn): Record<string, Set<string>> {
  const out: Record<string, Set<string>> = {};
  for (const r of Object.values(template.Resources as Cfn) as Cfn[]) {
    if (r.Type === "AWS::Lambda::Function") {
      const vars = r.Properties.Environment?.Variables ?? {};
      out[String(vars.POWERTOOLS_SERVICE_NAME).replace(/^tse-/, "")] = new Set(Object.keys(vars));
    }
    if (r.Type === "AWS::ECS::TaskDefinition") {
      const env = (r.Properties.ContainerDefinitions as Cfn[]).flatMap((c) => (c.Environment ?? []) as Cfn[]);
      out.quoter = new Set([...(out.quoter ?? []), ...env.map((e) => e.Name as string)]);
    }
  }
  return out;
}

let reads: Record<string, Reads>;
let set: Record<string, Set<string>>;

beforeAll(async () => {
  reads = Object.fromEntries(
    await Promise.all(Object.entries(COMPONENTS).map(async ([c, entry]) => [c, await readsOf(entry)] as const)),
  );
  // With a peer endpoint in context, as a deployment that names its peers has.
  set = setByStack(synthDeployedApp({ quoterPeerEndpoints: '{"exchange":"exchange.tse.local:50054"}' }).template);
}, 120_000);

const dynamicAllows = (r: Reads, name: string) => r.computed.some((c) => DYNAMIC[c.file]?.names.test(name) ?? false);

describe("environment variables: what the deployed code reads is what the stack sets", () => {
  it("finds the reads it should (the scan is not blind)", () => {
    expect([...reads.signal!.names.keys()]).toEqual(
      expect.arrayContaining(["TSE_TABLE_NAME", "TSE_SETTINGS", "TSE_SETTINGS_PARAMETER"]),
    );
    expect([...reads.quoter!.names.keys()]).toEqual(
      expect.arrayContaining(["TSE_QUOTER_SYMBOLS", "TSE_QUOTER_RISK_LIMITS", "TSE_EVENT_BUS_NAME"]),
    );
    expect(Object.keys(set).sort()).toEqual([...Object.keys(COMPONENTS)].sort());
  });

  it("every computed env[...] read is explained", () => {
    const unexplained = Object.values(reads).flatMap((r) =>
      r.computed.filter((c) => !DYNAMIC[c.file]).map((c) => `${c.file}: env[${c.expr}]`),
    );
    expect([...new Set(unexplained)]).toEqual([]);
  });

  it("every variable a component reads is set by the stack for it, or optional with a stated default", () => {
    const missing = Object.entries(reads).flatMap(([c, r]) =>
      [...r.names.keys()]
        .filter((n) => !set[c]?.has(n) && !OPTIONAL[n])
        .map((n) => `${c} reads ${n} (${r.names.get(n)!.join(", ")}) but the stack does not set it`),
    );
    expect(missing).toEqual([]);
  });

  it("every variable the stack sets for a component is read by its code (or by its runtime)", () => {
    const unread = Object.entries(set).flatMap(([c, vars]) =>
      [...vars]
        .filter((n) => !reads[c]?.names.has(n) && !READ_BY_RUNTIME[n] && !dynamicAllows(reads[c]!, n))
        .map((n) => `the stack sets ${n} for ${c}, which nothing reads`),
    );
    expect(unread).toEqual([]);
  });

  it("no allow-list entry is stale", () => {
    const allRead = new Set(Object.values(reads).flatMap((r) => [...r.names.keys()]));
    const allSet = new Set(Object.values(set).flatMap((s) => [...s]));
    expect(Object.keys(OPTIONAL).filter((n) => !allRead.has(n) || allSet.has(n))).toEqual([]);
    expect(Object.keys(READ_BY_RUNTIME).filter((n) => !allSet.has(n) || allRead.has(n))).toEqual([]);
    const computedFiles = new Set(Object.values(reads).flatMap((r) => r.computed.map((c) => c.file)));
    expect(Object.keys(DYNAMIC).filter((f) => !computedFiles.has(f))).toEqual([]);
  });
});
