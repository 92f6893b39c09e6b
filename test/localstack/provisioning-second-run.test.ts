// Issue 2: "a second run reuses the cache and is ready in under 30 s". A private LocalStack on its own port
// and cache folder (so the suite's shared one is never touched): a first run provisions (or links the
// suite's already-provisioned venv and DynamoDB Local), stops; the second, timed run starts from that cache.
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, expect, it } from "vitest";
import { ensureLocalAws, fetchHealth } from "../../lib/local-aws";

const sharedCache = join(import.meta.dirname, "..", "..", ".cache", "localstack");
const cacheDir = mkdtempSync(join(tmpdir(), "tse-ls-second-"));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Reuse what the suite's cache already holds (read-only): the venv and the DynamoDB Local install. */
function linkSharedCache(): void {
  const venv = join(sharedCache, "venv");
  if (existsSync(join(venv, ".tse-stamp"))) symlinkSync(venv, join(cacheDir, "venv"));
  const ddb = join(sharedCache, "fs/var/lib/localstack/lib/dynamodb-local");
  if (existsSync(ddb)) {
    mkdirSync(join(cacheDir, "fs/var/lib/localstack/lib"), { recursive: true });
    symlinkSync(ddb, join(cacheDir, "fs/var/lib/localstack/lib/dynamodb-local"));
  }
}

let running: Awaited<ReturnType<typeof ensureLocalAws>> | undefined;

async function startAndUse(port: number) {
  const local = await ensureLocalAws({ port, cacheDir, log: () => {} });
  running = local;
  const ddb = new DynamoDBClient({
    endpoint: local.endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
  try {
    // Usable, not merely "healthy": the first DynamoDB call starts DynamoDB Local behind LocalStack.
    expect((await ddb.send(new ListTablesCommand({}))).TableNames).toEqual([]);
  } finally {
    ddb.destroy();
  }
  return local;
}

afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

it("a second run from the cache is ready (DynamoDB answering) in under 30 s, and stop() stops it", async () => {
  linkSharedCache();
  const port = await freePort();
  const saved = process.env.AWS_ENDPOINT_URL;
  delete process.env.AWS_ENDPOINT_URL; // the global setup's endpoint would short-circuit provisioning
  try {
    const first = await startAndUse(port);
    await first.stop();
    expect(await fetchHealth(`http://127.0.0.1:${port}`, 2000)).toBeUndefined();

    const t0 = Date.now();
    const second = await startAndUse(port);
    const readyMs = Date.now() - t0;
    console.error(`[provisioning] second run ready in ${(readyMs / 1000).toFixed(1)} s (${second.mode})`);
    await second.stop();
    expect(await fetchHealth(`http://127.0.0.1:${port}`, 2000)).toBeUndefined();
    expect(readyMs).toBeLessThan(30_000);
  } finally {
    process.env.AWS_ENDPOINT_URL = saved;
    await running?.stop(); // idempotent; never leave a private LocalStack behind a failed assertion
  }
}, 600_000);
