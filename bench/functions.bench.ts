// Function bundle figures, built here exactly as the CDK stack bundles them (functionBundling in
// cdk/functionBundling.ts: ESM, minified, source map, node22, AWS SDK bundled, @grpc/proto-loader external,
// the tracer defined out):
//   bundle.<function>.bytes    size of the minified bundle (index.mjs, source map excluded)
//   bundle.<function>.init_ms  median over RUNS fresh `node` processes of the time to import the bundle,
//                              measured inside the child with process.hrtime around the dynamic import
//   bundle.<function>.init_first_ms  the same plus the first invocation (in-memory store and bus, settings from
//                              the environment), for the functions that call no gRPC peer (signal, reporting)
//   bundle.empty.init_ms / .init_first_ms / .bytes  baseline: an empty handler bundled and measured the same way
//   bundle.<function>.sdk_external.init_ms / .bytes  the same with @aws-sdk/* left to the runtime's copy
//                              (the NodejsFunction default), to show what bundling the SDK buys
//   ddb.requests_per_fill (also functions.fill_handling.ddb_requests_per_fill)  DynamoDB requests per
//                              ExecutionReported handled by fill-handling end to end (LocalStack, SDK counting middleware)
//   ddb.requests_per_order_placement / ddb.rounds_per_order_placement  median over 5 two-leg arbitrage signals
//                              (LocalStack, the same middleware; a round = requests in flight together)
//   bundle.<function>.init_cpu_ms  the same import's CPU time (process.cpuUsage, all threads): steadier than the
//                              wall time on a loaded machine
// Artifact: reports/bundles.json, each function's 10 largest packages in the bundle (esbuild metafile).
// Knobs (for a quick look on a shared machine): TSE_BENCH_FUNCTIONS_RUNS (default 7), TSE_BENCH_FUNCTIONS (comma
// list of functions), TSE_BENCH_SDK_EXTERNAL=0 (skip the sdk_external variant), TSE_BENCH_SKIP_LOCALSTACK=1.

import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build, type Metafile } from "esbuild";
import { functionBuildOptions } from "../cdk/functionBundling";
import { buildBusEvent, toEventBridgeEvent } from "../lib/events";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const ALL_FUNCTIONS = ["signal", "order-placement", "fill-handling", "reporting", "settlement"] as const;
const FUNCTIONS = ALL_FUNCTIONS.filter((f) => {
  const only = process.env.TSE_BENCH_FUNCTIONS?.split(",").map((x) => x.trim());
  return !only?.length || only.includes(f);
});
const RUNS = Math.max(1, Number(process.env.TSE_BENCH_FUNCTIONS_RUNS ?? 7) || 7);
const T0 = Date.UTC(2026, 0, 1);

/** A first event per function (only those that need no gRPC peer can complete in a bare process). */
const FIRST_EVENT: Record<string, unknown> = {
  empty: {},
  signal: toEventBridgeEvent(
    buildBusEvent(
      "tse.market",
      "MarketSnapshot",
      {
        venue: "venue-a",
        symbol: "BTC-USD",
        bid: "63990",
        ask: "64000",
        bidSize: "1",
        askSize: "1",
        sequence: 1,
        ts: new Date(T0).toISOString(),
      },
      { now: T0, eventId: "bench-1" },
    ),
  ),
  reporting: { trigger: "DIRECT" },
};

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const round = (x: number, dp = 2) => Number(x.toFixed(dp));

async function bundle(entry: string, outdir: string, sdkExternal = false): Promise<{ file: string; meta: Metafile }> {
  mkdirSync(outdir, { recursive: true });
  const outfile = path.join(outdir, "index.mjs");
  const opts = functionBuildOptions(REPO);
  const r = await build({
    ...opts,
    entryPoints: [entry],
    outfile,
    sourcemap: true,
    metafile: true,
    external: [...opts.external, ...(sdkExternal ? ["@aws-sdk/*"] : [])],
  });
  return { file: outfile, meta: r.metafile };
}

/** The 10 largest packages (node_modules package, or the repo folder for our own code) in a bundle. */
function topPackages(meta: Metafile): { package: string; bytes: number }[] {
  const sizes = new Map<string, number>();
  for (const out of Object.values(meta.outputs))
    for (const [input, { bytesInOutput }] of Object.entries(out.inputs)) {
      const m = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
      const key = m ? m[1]! : input.split("/").slice(0, 2).join("/");
      sizes.set(key, (sizes.get(key) ?? 0) + bytesInOutput);
    }
  return [...sizes]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 10)
    .map(([pkg, bytes]) => ({ package: pkg, bytes }));
}

/** One fresh process: wall and CPU ms spent in `await import(bundle)` (and, with an event, the first invocation). */
function importMs(file: string, event?: unknown): { wall: number; cpu: number } {
  const invoke =
    event === undefined
      ? ""
      : `const r = await m.handler(${JSON.stringify(event)}, { functionName: "bench", awsRequestId: "bench-1", getRemainingTimeInMillis: () => 60000 }); if (r === undefined) throw new Error("no result");`;
  const script = `const c0 = process.cpuUsage(); const t0 = process.hrtime.bigint(); const m = await import(${JSON.stringify(pathToFileURL(file).href)}); ${invoke} const t1 = process.hrtime.bigint(); const c = process.cpuUsage(c0); process.stdout.write(JSON.stringify([Number(t1 - t0) / 1e6, (c.user + c.system) / 1e3]));`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    POWERTOOLS_METRICS_DISABLED: "true",
    POWERTOOLS_LOG_LEVEL: "SILENT",
    AWS_REGION: process.env.AWS_REGION ?? "us-east-1",
  };
  // In-memory store and bus, no SSM: only the code's own cost is timed.
  for (const k of ["TSE_TABLE_NAME", "TSE_EVENT_BUS_NAME", "TSE_SETTINGS_PARAMETER", "AWS_ENDPOINT_URL"]) delete env[k];
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
    cwd: REPO,
    encoding: "utf8",
    env,
    timeout: 60_000,
  });
  const [wall, cpu] = JSON.parse(out.trim()) as number[];
  if (!Number.isFinite(wall) || !Number.isFinite(cpu))
    throw new Error(`child printed ${JSON.stringify(out)} for ${file}`);
  return { wall: wall!, cpu: cpu! };
}

async function requestsPerFill(progress: (m: string) => void): Promise<Record<string, number>> {
  const { ensureLocalAws } = await import("../lib/local-aws/ensureLocalAws");
  const { DynamoDBClient } = await import("@aws-sdk/client-dynamodb");
  const { createTable, deleteTable } = await import("../lib/adapters/aws/createTable");
  const { DynamoDbStateStore } = await import("../lib/adapters/aws/DynamoDbStateStore");
  const { attachRequestCounter } = await import("../lib/adapters/aws/requestCounter");
  const { InProcessEventBus } = await import("../lib/adapters/embedded/InProcessEventBus");
  const { InstrumentRegistry } = await import("../lib/domain/instruments");
  const { createOrder } = await import("../lib/domain/orders");
  const { dec } = await import("../lib/domain/decimal");
  const { StaticSettingsSource } = await import("../lib/app/settings");
  const { localContext } = await import("../lib/app/handlers");
  const { createHandler } = await import("../functions/fill-handling/handler");
  const { RiskMonitorSimulator } = await import("../sim/risk/RiskMonitorSimulator");
  const { createPeerClients, Discovery } = await import("../lib/grpc");

  const local = await ensureLocalAws({ log: progress });
  const client = new DynamoDBClient({
    endpoint: local.endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
  const risk = new RiskMonitorSimulator({ quiet: true });
  await risk.start(0);
  const peers = createPeerClients({ discovery: new Discovery({ explicit: { "risk-monitor": risk.address } }) });
  const table = `bench-fn-${process.pid}-${Date.now().toString(36)}`;
  await createTable(client, table);
  try {
    const store = new DynamoDbStateStore({ client, tableName: table });
    const bus = new InProcessEventBus();
    const handler = createHandler({
      store,
      bus,
      settings: new StaticSettingsSource(),
      riskMonitor: peers.risk,
      instruments: new InstrumentRegistry(),
      clock: Date.now,
    });
    const T0 = Date.UTC(2026, 0, 1);
    const FILLS = 40;
    const order = createOrder(
      {
        strategyId: "bench-fn",
        venue: "venue-a",
        symbol: "BTC-USD",
        side: "BUY",
        type: "LIMIT",
        timeInForce: "GTC",
        postOnly: false,
        quantity: dec(FILLS).times("0.01"),
        limitPrice: dec("64000"),
      },
      { clientOrderId: "bench-fn-order" },
      T0,
    );
    await store.createPendingOrder(order);
    const sub = await store.updateOrderStatus("bench-fn-order", 1, { status: "submitted", at: T0 });
    await store.updateOrderStatus("bench-fn-order", sub.version, { status: "accepted", at: T0 });
    const event = (i: number) =>
      toEventBridgeEvent(
        buildBusEvent(
          "tse.exchange",
          "ExecutionReported",
          {
            executionId: `bench-fn-${i}`,
            sequence: i + 1,
            clientOrderId: "bench-fn-order",
            exchangeOrderId: "ex-bench",
            strategyId: "bench-fn",
            venue: "venue-a",
            symbol: "BTC-USD",
            side: "BUY",
            quantity: "0.01",
            price: "64000",
            fee: "0.32",
            feeAsset: "USD",
            liquidity: "TAKER",
            ts: new Date(T0 + i).toISOString(),
          },
          { now: T0 + i },
        ),
      );
    const counter = attachRequestCounter(client);
    for (let i = 0; i < FILLS; i++) await handler(event(i), localContext("fill-handling"));
    const perFill = counter.total() / FILLS;
    counter.reset();
    for (let i = 0; i < FILLS; i++) await handler(event(i), localContext("fill-handling"));
    const perDuplicate = counter.total() / FILLS;
    counter.detach();
    progress(`fill-handling: ${perFill} DynamoDB requests per fill, ${perDuplicate} per duplicate`);
    return {
      "ddb.requests_per_fill": perFill,
      "functions.fill_handling.ddb_requests_per_fill": perFill,
      "functions.fill_handling.ddb_requests_per_duplicate": perDuplicate,
    };
  } finally {
    await deleteTable(client, table).catch(() => {});
    await peers.close();
    await risk.stop();
    await local.stop();
  }
}

/** DynamoDB requests and rounds of one two-leg arbitrage placement (LocalStack, the SDK counting middleware). */
async function requestsPerOrderPlacement(progress: (m: string) => void): Promise<Record<string, number>> {
  const { ensureLocalAws } = await import("../lib/local-aws/ensureLocalAws");
  const { DynamoDBClient } = await import("@aws-sdk/client-dynamodb");
  const { createTable, deleteTable } = await import("../lib/adapters/aws/createTable");
  const { DynamoDbStateStore } = await import("../lib/adapters/aws/DynamoDbStateStore");
  const { attachRequestCounter } = await import("../lib/adapters/aws/requestCounter");
  const { InProcessEventBus } = await import("../lib/adapters/embedded/InProcessEventBus");
  const { GrpcExchange } = await import("../lib/adapters/GrpcExchange");
  const { InstrumentRegistry } = await import("../lib/domain/instruments");
  const { createFunctionHandlers, localContext } = await import("../lib/app/handlers");
  const { startEngineRig, WIDE_BOOKS } = await import("../test/support/engineRig");
  const local = await ensureLocalAws({ log: progress });
  const client = new DynamoDBClient({
    endpoint: local.endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
  const t0 = Date.now();
  const rig = await startEngineRig({ now: t0 });
  const table = `bench-op-${process.pid}-${Date.now().toString(36)}`;
  await createTable(client, table);
  try {
    const handlers = createFunctionHandlers({
      store: new DynamoDbStateStore({ client, tableName: table }),
      bus: new InProcessEventBus({ routes: [] }),
      settings: rig.settings,
      exchange: new GrpcExchange(rig.peers.exchange),
      riskMonitor: rig.peers.risk,
      instruments: new InstrumentRegistry(),
      clock: Date.now,
    });
    const [a, b] = WIDE_BOOKS;
    const leg = (x: typeof a, side: "BUY" | "SELL") => ({
      venue: x!.venue,
      symbol: x!.symbol,
      side,
      quantity: "0.01",
      limitPrice: side === "BUY" ? x!.ask : x!.bid,
      type: "LIMIT" as const,
      timeInForce: "IOC" as const,
    });
    const requests: number[] = [];
    const rounds: number[] = [];
    const counter = attachRequestCounter(client);
    for (let i = 0; i < 5; i++) {
      const signalId = `bench-op-${i}`;
      const signal = buildBusEvent(
        "tse.engine",
        "SignalGenerated",
        {
          signalId,
          strategyId: "arb-1",
          kind: "arbitrage",
          legs: [leg(a, "BUY"), leg(b, "SELL")],
          reason: "bench",
          inputs: {
            snapshots: [a!, b!].map((x) => ({
              venue: x.venue,
              symbol: x.symbol,
              bid: x.bid,
              ask: x.ask,
              sequence: 1,
              ts: new Date(t0).toISOString(),
            })),
            figures: {},
          },
        },
        { now: t0, eventId: signalId },
      );
      counter.reset();
      const out = (await handlers["order-placement"](toEventBridgeEvent(signal), localContext("order-placement"))) as {
        decision: string;
        legs: unknown[];
      };
      if (out.decision !== "approved" || out.legs.length !== 2)
        throw new Error(`bench signal ${signalId}: ${JSON.stringify(out).slice(0, 200)}`);
      requests.push(counter.total());
      rounds.push(counter.rounds());
    }
    counter.detach();
    progress(`order-placement: ${median(requests)} DynamoDB requests in ${median(rounds)} rounds per placement`);
    return {
      "ddb.requests_per_order_placement": median(requests),
      "ddb.rounds_per_order_placement": median(rounds),
    };
  } finally {
    await deleteTable(client, table).catch(() => {});
    await rig.stop();
    await local.stop();
  }
}

export async function run(progress: (m: string) => void): Promise<Record<string, number>> {
  mkdirSync(path.join(REPO, ".cache"), { recursive: true });
  // Inside the repo so that, in the sdk_external variant, @aws-sdk/* resolve from node_modules as on Lambda.
  const work = mkdtempSync(path.join(REPO, ".cache", "bench-functions-"));
  const figures: Record<string, number> = {};
  const artifact: Record<string, { bytes: number; top: { package: string; bytes: number }[] }> = {};
  try {
    const emptyEntry = path.join(work, "empty-handler.ts");
    writeFileSync(emptyEntry, "export const handler = async (_event: unknown) => ({});\n");
    const bundles: [string, string][] = [["empty", (await bundle(emptyEntry, path.join(work, "empty"))).file]];
    for (const fn of FUNCTIONS) {
      progress(`bundling ${fn}`);
      const b = await bundle(path.join(REPO, "functions", fn, "handler.ts"), path.join(work, fn));
      bundles.push([fn, b.file]);
      artifact[fn] = { bytes: statSync(b.file).size, top: topPackages(b.meta) };
    }
    if (process.env.TSE_BENCH_SDK_EXTERNAL !== "0")
      for (const fn of FUNCTIONS) {
        const b = await bundle(path.join(REPO, "functions", fn, "handler.ts"), path.join(work, `${fn}-ext`), true);
        bundles.push([`${fn}.sdk_external`, b.file]);
      }
    for (const [name, file] of bundles) figures[`bundle.${name}.bytes`] = statSync(file).size;
    // Interleave the functions per round so machine-load drift hits all of them alike.
    const samples = new Map<string, number[]>(bundles.map(([n]) => [n, []]));
    const cpus = new Map<string, number[]>(bundles.map(([n]) => [n, []]));
    const firsts = new Map<string, number[]>(bundles.filter(([n]) => FIRST_EVENT[n]).map(([n]) => [n, []]));
    for (let r = 0; r < RUNS; r++) {
      progress(`import round ${r + 1}/${RUNS}`);
      for (const [name, file] of bundles) {
        const t = importMs(file);
        samples.get(name)!.push(t.wall);
        cpus.get(name)!.push(t.cpu);
        if (FIRST_EVENT[name]) firsts.get(name)!.push(importMs(file, FIRST_EVENT[name]).wall);
      }
    }
    for (const [name, xs] of samples) figures[`bundle.${name}.init_ms`] = round(median(xs));
    for (const [name, xs] of cpus) figures[`bundle.${name}.init_cpu_ms`] = round(median(xs));
    for (const [name, xs] of firsts) figures[`bundle.${name}.init_first_ms`] = round(median(xs));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  mkdirSync(path.join(REPO, "reports"), { recursive: true });
  writeFileSync(path.join(REPO, "reports", "bundles.json"), `${JSON.stringify(artifact, null, 2)}\n`);
  if (process.env.TSE_BENCH_SKIP_LOCALSTACK !== "1") {
    Object.assign(figures, await requestsPerFill(progress));
    Object.assign(figures, await requestsPerOrderPlacement(progress));
  }
  return figures;
}
