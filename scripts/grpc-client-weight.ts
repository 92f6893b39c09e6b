// What a lighter gRPC client would save the functions (docs/grpc-clients.md, "The functions' gRPC stack").
// For each gRPC function's peer set it bundles, with the functions' own esbuild settings (cdk/functionBundling.ts),
// a module that builds one client per peer service, three ways:
//   grpcjs   @grpc/grpc-js + our ts-proto code in gen/ (what the functions carry today)
//   connect  @connectrpc/connect-node (gRPC protocol over node:http2) + @bufbuild/protobuf + protoc-gen-es code
//   floor    node:http2 alone + ts-proto codecs without grpc-js service objects, and a bare unary call: no error
//            mapping, reconnect, TLS or streams. Not a client: the least any client over these protos could weigh.
// It prints each bundle's bytes and the medians, over --runs fresh node processes, of the CPU and wall ms spent in
// `await import(bundle)`, beside an empty module's. The candidates are installed into a temp dir by npm (exact
// versions below); nothing is added to the project.
//   npx tsx scripts/grpc-client-weight.ts [--runs 25] [--keep]
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import { FUNCTION_BUNDLING } from "../cdk/functionBundling";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const CANDIDATES = [
  "@connectrpc/connect@2.1.2", // 2.2+ declare node >= 22; the project runs on 20 here
  "@connectrpc/connect-node@2.1.2",
  "@bufbuild/protobuf@2.17.0", // the runtime ts-proto already uses
  "@bufbuild/protoc-gen-es@2.13.0", // the last generator that declares node >= 20
];

/** Each gRPC function's peers: [proto file under tse/, service]. */
const PEERS: Record<string, [string, string][]> = {
  "order-placement": [
    ["exchange/exchange", "ExchangeService"],
    ["risk/risk", "RiskMonitorService"],
    ["custodian/custodian", "SettlementService"],
    ["custodian/custodian", "CustodyService"],
    ["config/config", "ConfigurationService"],
  ],
  "fill-handling": [
    ["risk/risk", "RiskMonitorService"],
    ["config/config", "ConfigurationService"],
  ],
  settlement: [
    ["custodian/custodian", "SettlementService"],
    ["custodian/custodian", "CustodyService"],
    ["config/config", "ConfigurationService"],
  ],
};
type Stack = "grpcjs" | "connect" | "floor";
const STACKS: Stack[] = ["grpcjs", "connect", "floor"];

const FLOOR_CALL = `import * as http2 from "node:http2";
type Codec<T> = { encode(m: T): { finish(): Uint8Array }; decode(b: Uint8Array): T };
export function unary<I, O>(s: http2.ClientHttp2Session, path: string, req: Codec<I>, res: Codec<O>, msg: I, timeoutMs: number): Promise<O> {
  return new Promise((resolve, reject) => {
    const body = req.encode(msg).finish();
    const frame = Buffer.alloc(5 + body.length);
    frame.writeUInt32BE(body.length, 1);
    frame.set(body, 5);
    const st = s.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers", "grpc-timeout": timeoutMs + "m" });
    const chunks: Buffer[] = [];
    let head: http2.IncomingHttpHeaders = {};
    st.on("response", (h) => { head = h; });
    st.on("trailers", (t) => { head = { ...head, ...t }; });
    st.on("data", (c: Buffer) => chunks.push(c));
    st.on("error", reject);
    st.on("close", () => {
      if (head["grpc-status"] !== "0") return reject(new Error(String(head["grpc-message"])));
      const all = Buffer.concat(chunks);
      resolve(res.decode(all.subarray(5, 5 + all.readUInt32BE(1))));
    });
    st.end(frame);
  });
}
`;

function entry(stack: Stack, peers: [string, string][], tmp: string): string {
  const files = [...new Set(peers.map(([f]) => f))];
  const names = peers.map(([, s]) => s);
  const imports = files.map((f) => {
    const here = peers.filter(([g]) => g === f).map(([, s]) => s);
    if (stack === "grpcjs")
      return `import { ${here.map((s) => `${s}Service as ${s}`).join(", ")} } from ${JSON.stringify(path.join(REPO, "gen/proto/tse", f))};`;
    if (stack === "connect")
      return `import { ${here.join(", ")} } from ${JSON.stringify(path.join(tmp, "gen-es/tse", `${f}_pb`))};`;
    return `import { ${here.map((s) => `${s}Definition as ${s}`).join(", ")} } from ${JSON.stringify(path.join(tmp, "gen-tsp/tse", f))};`;
  });
  const list = `[${names.join(", ")}]`;
  switch (stack) {
    case "grpcjs":
      return `import * as grpc from "@grpc/grpc-js";\n${imports.join("\n")}
export const make = (a: string) => ${list}.map((s) => [s, new grpc.Client(a, grpc.credentials.createInsecure())]);\n`;
    case "connect":
      return `import { createClient } from "@connectrpc/connect";\nimport { createGrpcTransport } from "@connectrpc/connect-node";\n${imports.join("\n")}
export const make = (a: string) => { const t = createGrpcTransport({ baseUrl: "http://" + a }); return ${list}.map((s) => createClient(s as never, t)); };\n`;
    case "floor":
      return `import * as http2 from "node:http2";\nimport { unary } from "./floorCall";\n${imports.join("\n")}
export const make = (a: string) => { const s = http2.connect("http://" + a); return ${list}.map((d) => Object.values(d.methods).map((m) => (x: never) => unary(s, "/" + d.fullName + "/" + m.name, m.requestType as never, m.responseType as never, x, 1000))); };\n`;
  }
}

async function bundleOf(file: string, tmp: string): Promise<string> {
  const outfile = file.replace(/\.ts$/, ".mjs");
  await build({
    entryPoints: [file],
    outfile,
    bundle: true,
    platform: "node",
    target: FUNCTION_BUNDLING.target,
    format: "esm",
    minify: true,
    mainFields: [...FUNCTION_BUNDLING.mainFields],
    external: [...FUNCTION_BUNDLING.externalModules],
    banner: { js: FUNCTION_BUNDLING.banner },
    nodePaths: [path.join(tmp, "node_modules"), path.join(REPO, "node_modules")],
    logLevel: "error",
  });
  return outfile;
}

/** CPU and wall ms of `await import(file)` in a fresh node. */
function importCost(file: string): [number, number] {
  const script = `const c0 = process.cpuUsage(); const t0 = process.hrtime.bigint(); await import(${JSON.stringify(pathToFileURL(file).href)}); const c = process.cpuUsage(c0); process.stdout.write(JSON.stringify([(c.user + c.system) / 1000, Number(process.hrtime.bigint() - t0) / 1e6]));`;
  return JSON.parse(
    execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 60_000 }),
  );
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const argv = process.argv.slice(2);
const runsAt = argv.indexOf("--runs");
const runs = runsAt >= 0 ? Number(argv[runsAt + 1]) : 25;
if (!Number.isInteger(runs) || runs < 1)
  throw new RangeError(`--runs must be a positive integer, got ${argv[runsAt + 1]}`);
const tmp = mkdtempSync(path.join(tmpdir(), "tse-grpc-weight-"));
try {
  writeFileSync(path.join(tmp, "package.json"), '{ "private": true, "type": "module" }\n');
  execFileSync("npm", ["install", "--save-exact", "--no-audit", "--no-fund", "--loglevel=error", ...CANDIDATES], {
    cwd: tmp,
    stdio: ["ignore", "ignore", "inherit"],
  });
  const template = {
    version: "v2",
    inputs: [{ directory: path.join(REPO, "proto") }],
    plugins: [
      {
        local: path.join(tmp, "node_modules/.bin/protoc-gen-es"),
        out: path.join(tmp, "gen-es"),
        opt: ["target=ts", "import_extension=none"],
      },
      {
        // buf.gen.yaml's options, with services as plain definitions (no grpc-js import)
        local: path.join(REPO, "node_modules/.bin/protoc-gen-ts_proto"),
        out: path.join(tmp, "gen-tsp"),
        opt: [
          "outputServices=generic-definitions",
          "esModuleInterop=true",
          "forceLong=number",
          "useOptionals=messages",
          "env=node",
          "oneof=unions",
          "removeEnumPrefix=true",
          "useExactTypes=false",
          "useDate=false",
          "outputJsonMethods=false",
        ],
      },
    ],
  };
  execFileSync(path.join(REPO, "node_modules/.bin/buf"), ["generate", "--template", JSON.stringify(template)], {
    cwd: REPO,
    stdio: "inherit",
  });
  const dir = path.join(tmp, "entries");
  mkdirSync(dir);
  writeFileSync(path.join(dir, "floorCall.ts"), FLOOR_CALL);
  writeFileSync(path.join(dir, "empty.ts"), "export const empty = true;\n");
  const bundles: Record<string, string> = { empty: await bundleOf(path.join(dir, "empty.ts"), tmp) };
  for (const [fn, peers] of Object.entries(PEERS))
    for (const stack of STACKS) {
      const file = path.join(dir, `${fn}.${stack}.ts`);
      writeFileSync(file, entry(stack, peers, tmp));
      bundles[`${fn}.${stack}`] = await bundleOf(file, tmp);
    }
  const cost: Record<string, { cpu: number[]; wall: number[] }> = {};
  for (let i = 0; i < runs; i++)
    for (const [key, file] of Object.entries(bundles)) {
      const [cpu, wall] = importCost(file);
      cost[key] ??= { cpu: [], wall: [] };
      cost[key].cpu.push(cpu);
      cost[key].wall.push(wall);
    }
  const out: Record<string, number> = {};
  for (const [key, file] of Object.entries(bundles)) {
    out[`grpc_client.${key}.bytes`] = statSync(file).size;
    out[`grpc_client.${key}.init_cpu_ms`] = Number(median(cost[key]!.cpu).toFixed(1));
    out[`grpc_client.${key}.init_ms`] = Number(median(cost[key]!.wall).toFixed(1));
  }
  console.log(JSON.stringify({ runs, node: process.version, ...out }, null, 2));
} finally {
  if (argv.includes("--keep")) console.error(`kept ${tmp}`);
  else rmSync(tmp, { recursive: true, force: true });
}
