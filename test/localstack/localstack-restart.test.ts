// Issue 15: LocalStack restarts mid-session (`tse start --aws local`). Host-mode LocalStack keeps its state in
// memory, so the restart forgets the session's table, bus and queues. The session must not recreate them empty and
// carry on (fills acknowledged against books that are gone): it stops with LocalStackStateLostError naming the
// resource, cancels its orders at the exchange, and exits non-zero; nothing of it reappears in the new LocalStack.
// A private LocalStack (own port and cache folder) is started, killed and restarted; the shared one is not touched.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DynamoDBClient, ListTablesCommand, ScanCommand } from "@aws-sdk/client-dynamodb";
import { EventBridgeClient, ListEventBusesCommand } from "@aws-sdk/client-eventbridge";
import { ListQueuesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, expect, it } from "vitest";
import type { LocalAws } from "../../lib/local-aws";
import { freePort, privateCacheDir, startPrivateLocalStack } from "./privateLocalStack";

const repo = join(import.meta.dirname, "..", "..");
const { cacheDir, remove } = privateCacheDir("tse-ls-restart-");
const outDir = mkdtempSync(join(tmpdir(), "tse-restart-out-"));
let local: LocalAws | undefined;
let child: ChildProcess | undefined;

afterAll(async () => {
  if (child && child.exitCode === null) child.kill("SIGKILL");
  await local?.stop();
  remove();
  rmSync(outDir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function clients(endpoint: string) {
  const cfg = { endpoint, region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" } };
  return { ddb: new DynamoDBClient(cfg), eb: new EventBridgeClient(cfg), sqs: new SQSClient(cfg) };
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(1000);
  }
}

it("a LocalStack restart mid-session stops it with LocalStackStateLostError, orders cancelled, exit 1, nothing recreated", async () => {
  const port = await freePort();
  local = await startPrivateLocalStack(port, cacheDir);
  const endpoint = local.endpoint;

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: "us-east-1",
    AWS_DEFAULT_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    // The restart takes 10-60 s here: ride it out, so what stops the session is the lost state, not the outage.
    TSE_LOCALSTACK_OUTAGE_S: "240",
  };
  delete env.TSE_AWS_REQUEST_LOG; // not part of the IAM recording: a private LocalStack
  let stderr = "";
  child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "cli/tse.ts",
      "start",
      "--aws",
      "local",
      "--ephemeral-ports",
      "--duration",
      "600",
      "--out",
      outDir,
    ],
    { cwd: repo, env, stdio: ["ignore", "pipe", "pipe"] },
  );
  child.stderr?.on("data", (b: Buffer) => {
    stderr += b.toString();
  });
  const exited = new Promise<number | null>((resolve) => child?.once("exit", (code) => resolve(code)));

  // Trading through LocalStack: fills booked in the session's table.
  const before = clients(endpoint);
  const table = await until("the session's table", 180_000, async () =>
    (await before.ddb.send(new ListTablesCommand({}))).TableNames?.find((t) => t.startsWith("tse-session-")),
  );
  const fillsBefore = await until("fills booked in the table", 180_000, async () => {
    const r = await before.ddb.send(
      new ScanCommand({
        TableName: table,
        FilterExpression: "sk = :f",
        ExpressionAttributeValues: { ":f": { S: "FILL" } },
        Select: "COUNT",
      }),
    );
    return (r.Count ?? 0) >= 2 ? r.Count : undefined;
  });
  for (const c of Object.values(before)) c.destroy();

  // Kill LocalStack (the process group, DynamoDB Local with it) and start it again on the same port.
  await local.stop();
  local = undefined;
  await sleep(2_000);
  const restartedAt = Date.now();
  local = await startPrivateLocalStack(port, cacheDir);

  const code = await Promise.race([exited, sleep(150_000).then(() => "still running" as const)]);
  console.error(
    `[restart] ${fillsBefore} fills before the restart; session exited ${String(code)} ` +
      `${((Date.now() - restartedAt) / 1000).toFixed(1)} s after LocalStack was back:\n` +
      stderr
        .split("\n")
        .filter((l) => /^(tse start|session): /.test(l))
        .join("\n"),
  );
  expect(code).toBe(1);
  // The clear, named error, naming the lost resource of this session.
  expect(stderr).toMatch(
    /session aborted: LocalStackStateLostError: LocalStack at http:\/\/127\.0\.0\.1:\d+ lost the session's (DynamoDB table|EventBridge bus|SQS queue) tse-/,
  );
  const summary =
    /Quoting stopped, (\d+) order\(s\) of ours left open at the exchange; (\d+) execution\(s\) of ours at the exchange, (\d+) fill\(s\) booked into the lost state/.exec(
      stderr,
    );
  expect(summary, stderr.slice(-3000)).not.toBeNull();
  const [openLeft, executions, booked] = summary!.slice(1).map(Number);
  expect(openLeft).toBe(0); // nothing of ours left working at the exchange
  expect(booked).toBeGreaterThanOrEqual(fillsBefore);
  expect(executions).toBeGreaterThanOrEqual(booked!);
  expect(stderr).not.toMatch(/^report: /m); // no report built from a state that is gone

  // Nothing recreated silently in the restarted LocalStack: no table, bus or queue of the session.
  const after = clients(local.endpoint);
  try {
    const short = table.slice("tse-session-".length);
    expect((await after.ddb.send(new ListTablesCommand({}))).TableNames ?? []).toEqual([]);
    const buses = (await after.eb.send(new ListEventBusesCommand({}))).EventBuses ?? [];
    expect(buses.map((b) => b.Name)).not.toContain(table);
    expect((await after.sqs.send(new ListQueuesCommand({ QueueNamePrefix: `tse-${short}` }))).QueueUrls ?? []).toEqual(
      [],
    );
  } finally {
    for (const c of Object.values(after)) c.destroy();
  }
}, 600_000);
