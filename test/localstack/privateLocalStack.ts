// A private LocalStack for tests that start, stop or restart one: its own port and cache folder (the suite's
// shared LocalStack is never touched), reusing the suite's provisioned venv and DynamoDB Local read-only.
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureLocalAws, type LocalAws } from "../../lib/local-aws";

const sharedCache = join(import.meta.dirname, "..", "..", ".cache", "localstack");

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** A fresh cache folder linked to what the suite's cache already holds: the venv and the DynamoDB Local install. */
export function privateCacheDir(prefix: string): { cacheDir: string; remove: () => void } {
  const cacheDir = mkdtempSync(join(tmpdir(), prefix));
  const venv = join(sharedCache, "venv");
  if (existsSync(join(venv, ".tse-stamp"))) symlinkSync(venv, join(cacheDir, "venv"));
  const ddb = join(sharedCache, "fs/var/lib/localstack/lib/dynamodb-local");
  if (existsSync(ddb)) {
    mkdirSync(join(cacheDir, "fs/var/lib/localstack/lib"), { recursive: true });
    symlinkSync(ddb, join(cacheDir, "fs/var/lib/localstack/lib/dynamodb-local"));
  }
  return { cacheDir, remove: () => rmSync(cacheDir, { recursive: true, force: true }) };
}

/** Starts (or reuses) the managed LocalStack on `port` with `cacheDir`, ignoring the suite's AWS_ENDPOINT_URL. */
export async function startPrivateLocalStack(port: number, cacheDir: string): Promise<LocalAws> {
  const saved = process.env.AWS_ENDPOINT_URL;
  delete process.env.AWS_ENDPOINT_URL; // the global setup's endpoint would short-circuit provisioning
  try {
    return await ensureLocalAws({ port, cacheDir, log: () => {} });
  } finally {
    if (saved !== undefined) process.env.AWS_ENDPOINT_URL = saved;
  }
}
