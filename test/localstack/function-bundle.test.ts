// A function bundle as the stack builds it (cdk/functionBundling.ts: minified ESM, AWS SDK bundled, the
// credential chain aliased to fromEnv) run in a fresh Node process against LocalStack: with Lambda's credential
// variables it writes to DynamoDB; without them it fails with an error naming the variables, and no shared
// config/credentials file or profile is consulted.
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { functionBuildOptions } from "../../cdk/functionBundling";
import { createTable, deleteTable } from "../../lib/adapters/aws/createTable";
import { DynamoDbStateStore } from "../../lib/adapters/aws/DynamoDbStateStore";
import { buildBusEvent, toEventBridgeEvent } from "../../lib/events";
import { localClients } from "./awsClients";

const REPO = path.resolve(import.meta.dirname, "../..");
const out = path.join(REPO, "test-output", `function-bundle-${process.pid}`);
const bundle = path.join(out, "index.mjs");
const tableName = `fb-${process.pid}-${Date.now().toString(36)}`;
const { ddb } = localClients();
const T0 = Date.now();

const snapshot = (sequence: number) =>
  toEventBridgeEvent(
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
        sequence,
        ts: new Date(T0 + sequence).toISOString(),
      },
      { now: T0 + sequence, eventId: `fb-${sequence}` },
    ),
  );

/** Invoke the bundle's handler once in a fresh `node` with exactly `env` (plus PATH); its outcome as JSON. */
function invoke(event: unknown, env: Record<string, string>): { ok: boolean; message?: string } {
  const script = `const m = await import(${JSON.stringify(pathToFileURL(bundle).href)});
try { await m.handler(${JSON.stringify(event)}, { functionName: "signal", awsRequestId: "fb", getRemainingTimeInMillis: () => 30000 }); process.stdout.write(JSON.stringify({ ok: true })); }
catch (e) { process.stdout.write(JSON.stringify({ ok: false, message: String(e?.message) + " " + String(e?.cause?.message ?? "") })); }`;
  const stdout = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
    cwd: REPO,
    encoding: "utf8",
    timeout: 60_000,
    env: {
      PATH: process.env.PATH ?? "",
      POWERTOOLS_LOG_LEVEL: "SILENT",
      POWERTOOLS_METRICS_DISABLED: "true",
      AWS_REGION: process.env.AWS_REGION ?? "us-east-1",
      AWS_ENDPOINT_URL: process.env.AWS_ENDPOINT_URL ?? "",
      TSE_TABLE_NAME: tableName,
      // The SDK's full chain would read these; the bundle's must not need them.
      AWS_SHARED_CREDENTIALS_FILE: path.join(out, "no-such-credentials"),
      AWS_CONFIG_FILE: path.join(out, "no-such-config"),
      AWS_EC2_METADATA_DISABLED: "true",
      ...env,
    },
  });
  return JSON.parse(stdout.trim().split("\n").at(-1)!);
}

beforeAll(async () => {
  mkdirSync(out, { recursive: true });
  await build({
    ...functionBuildOptions(REPO),
    entryPoints: [path.join(REPO, "functions/signal/handler.ts")],
    outfile: bundle,
  });
  await createTable(ddb, tableName);
}, 120_000);

afterAll(async () => {
  await deleteTable(ddb, tableName).catch(() => {});
  rmSync(out, { recursive: true, force: true });
});

describe("a function bundle's AWS credentials", () => {
  it("come from Lambda's environment variables: the snapshot is written", async () => {
    const r = invoke(snapshot(1), { AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test", AWS_SESSION_TOKEN: "t" });
    expect(r).toEqual({ ok: true });
    const store = new DynamoDbStateStore({ client: ddb, tableName });
    const s = await store.getSnapshot("venue-a", "BTC-USD", { now: Date.now(), maxAgeMs: 3_600_000 });
    expect(s?.sequence).toBe(1);
  });

  it("without them the invocation fails naming the variables, and nothing is written", async () => {
    const r = invoke(snapshot(2), { AWS_PROFILE: "tse-none" });
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(/AWS_ACCESS_KEY_ID/);
    const store = new DynamoDbStateStore({ client: ddb, tableName });
    expect((await store.getSnapshot("venue-a", "BTC-USD", { now: Date.now(), maxAgeMs: 3_600_000 }))?.sequence).toBe(1);
  });
});
