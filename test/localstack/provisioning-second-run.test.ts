// Issue 2: "a second run reuses the cache and is ready in under 30 s". A private LocalStack on its own port
// and cache folder (so the suite's shared one is never touched): a first run provisions (or links the
// suite's already-provisioned venv and DynamoDB Local), stops; the second, timed run starts from that cache.
import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, expect, it } from "vitest";
import { fetchHealth } from "../../lib/local-aws";
import { freePort, privateCacheDir, startPrivateLocalStack } from "./privateLocalStack";

const { cacheDir, remove } = privateCacheDir("tse-ls-second-");

let running: Awaited<ReturnType<typeof startPrivateLocalStack>> | undefined;

async function startAndUse(port: number) {
  const local = await startPrivateLocalStack(port, cacheDir);
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

afterAll(() => remove());

it("a second run from the cache is ready (DynamoDB answering) in under 30 s, and stop() stops it", async () => {
  const port = await freePort();
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
    await running?.stop(); // idempotent; never leave a private LocalStack behind a failed assertion
  }
}, 600_000);
