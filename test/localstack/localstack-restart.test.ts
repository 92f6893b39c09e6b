// Issue 15: LocalStack stops answering, or restarts, mid-session (`tse start --aws local`).
// - Frozen for 20 s (SIGSTOP, then SIGCONT: its state is kept): the session rides it out and, stopped afterwards,
//   every execution of ours is booked exactly once (positions = the exchange's balances, no dead letter).
// - Restarted: host-mode LocalStack keeps its state in memory, so the restart forgets the session's table, bus and
//   queues. The session must not recreate them empty and carry on (events acknowledged against books that are
//   gone): it stops with LocalStackStateLostError naming the resource, cancels its orders at the exchange, and
//   exits non-zero; nothing of it reappears in the new LocalStack.
// A private LocalStack (own port and cache folder) is used; the shared one is not touched.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DynamoDBClient, ListTablesCommand, ScanCommand } from "@aws-sdk/client-dynamodb";
import { EventBridgeClient, ListEventBusesCommand } from "@aws-sdk/client-eventbridge";
import { ListQueuesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type LocalAws, localAwsStatus } from "../../lib/local-aws";
import { freePort, privateCacheDir, startPrivateLocalStack } from "./privateLocalStack";

const repo = join(import.meta.dirname, "..", "..");
const { cacheDir, remove } = privateCacheDir("tse-ls-restart-");
const outDir = mkdtempSync(join(tmpdir(), "tse-restart-out-"));
let local: LocalAws | undefined;
let child: ChildProcess | undefined;

let port = 0;

beforeAll(async () => {
  port = await freePort();
  local = await startPrivateLocalStack(port, cacheDir);
}, 420_000);

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

/** `tse start --aws local` against the private LocalStack, and the session's table once fills are booked in it. */
async function startSession(endpoint: string) {
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
  const c = clients(endpoint);
  const earlier = new Set((await c.ddb.send(new ListTablesCommand({}))).TableNames ?? []);
  const out = { stderr: "", stdout: "" };
  const proc = spawn(
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
  child = proc;
  proc.stderr?.on("data", (b: Buffer) => {
    out.stderr += b.toString();
  });
  proc.stdout?.on("data", (b: Buffer) => {
    out.stdout += b.toString();
  });
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  try {
    const table = await until("the session's table", 180_000, async () =>
      (await c.ddb.send(new ListTablesCommand({}))).TableNames?.find(
        (t) => t.startsWith("tse-session-") && !earlier.has(t),
      ),
    );
    const fills = await until("fills booked in the table", 180_000, async () => {
      const r = await c.ddb.send(
        new ScanCommand({
          TableName: table,
          FilterExpression: "sk = :f",
          ExpressionAttributeValues: { ":f": { S: "FILL" } },
          Select: "COUNT",
        }),
      );
      return (r.Count ?? 0) >= 2 ? r.Count : undefined;
    });
    return { proc, out, exited, table, fills };
  } finally {
    for (const x of Object.values(c)) x.destroy();
  }
}

/** The session's own status lines, and how many publishes the quoter's bridge saw fail (first 3 shown). */
const sessionLines = (stderr: string) => {
  const lines = stderr.split("\n");
  const bridge = lines.filter((l) => l.startsWith("bridge error: "));
  return [
    ...lines.filter((l) => /^(tse start|session|checks|settle): /.test(l)),
    `bridge errors: ${bridge.length}`,
    ...bridge.slice(0, 3).map((l) => l.slice(0, 300)),
  ].join("\n");
};

it("LocalStack frozen for 20 s mid-session: the session rides it out and books every execution exactly once", async () => {
  const s = await startSession(local!.endpoint);
  const pid = (await localAwsStatus({ port, cacheDir })).server?.pid;
  expect(pid).toBeGreaterThan(0);
  process.kill(-pid!, "SIGSTOP"); // the runtime and its DynamoDB Local JVM: one process group
  try {
    await sleep(20_000);
  } finally {
    process.kill(-pid!, "SIGCONT");
  }
  await sleep(20_000); // trading again
  s.proc.kill("SIGTERM");
  const code = await Promise.race([s.exited, sleep(120_000).then(() => "still running" as const)]);
  console.error(`[freeze] ${s.fills} fills before the freeze; exit ${String(code)}:\n${sessionLines(s.out.stderr)}`);
  expect(code, s.out.stderr.slice(-3000)).toBe(0);
  expect(s.out.stderr).not.toMatch(/LocalStack(StateLost|Unreachable)Error/);
  // State positions = the exchange's balance changes, per symbol: each execution booked once, none lost.
  const rec = /reconciliation BTC-USD diff (\S+), ETH-USD diff (\S+); dead letters (\d+)/.exec(s.out.stderr);
  expect(rec, s.out.stderr.slice(-3000)).not.toBeNull();
  expect(rec!.slice(1)).toEqual(["0", "0", "0"]);
  const trades = /^session: (\d+) trades/m.exec(s.out.stderr);
  expect(Number(trades?.[1])).toBeGreaterThanOrEqual(s.fills);
}, 400_000);

it("a LocalStack restart mid-session stops it with LocalStackStateLostError, orders cancelled, exit 1, nothing recreated", async () => {
  const s = await startSession(local!.endpoint);
  const fillsBefore = s.fills;
  const table = s.table;

  // Kill LocalStack (the process group, DynamoDB Local with it) and start it again on the same port.
  await local!.stop();
  local = undefined;
  await sleep(2_000);
  const restartedAt = Date.now();
  local = await startPrivateLocalStack(port, cacheDir);

  const code = await Promise.race([s.exited, sleep(150_000).then(() => "still running" as const)]);
  console.error(
    `[restart] ${fillsBefore} fills before the restart; session exited ${String(code)} ` +
      `${((Date.now() - restartedAt) / 1000).toFixed(1)} s after LocalStack was back:\n` +
      sessionLines(s.out.stderr),
  );
  expect(code).toBe(1);
  // The clear, named error, naming the lost resource of this session.
  expect(s.out.stderr).toMatch(
    /session aborted: LocalStackStateLostError: LocalStack at http:\/\/127\.0\.0\.1:\d+ lost the session's (DynamoDB table|EventBridge bus|SQS queue) tse-/,
  );
  const summary =
    /Quoting stopped, (\d+) order\(s\) of ours left open at the exchange; (\d+) execution\(s\) of ours at the exchange, (\d+) FillBooked event\(s\) published for the lost state/.exec(
      s.out.stderr,
    );
  expect(summary, s.out.stderr.slice(-3000)).not.toBeNull();
  const [openLeft, executions, booked] = summary!.slice(1).map(Number);
  expect(openLeft).toBe(0); // nothing of ours left working at the exchange
  // Every fill in the table was an execution of ours; a FillBooked may have died with LocalStack before its publish.
  expect(executions).toBeGreaterThanOrEqual(fillsBefore);
  expect(booked).toBeGreaterThan(0);
  expect(booked).toBeLessThanOrEqual(executions!);
  expect(s.out.stderr).not.toMatch(/^report: /m); // no report built from a state that is gone

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
