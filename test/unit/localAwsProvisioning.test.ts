// Host-mode provisioning failures that need no LocalStack: missing tools give one clear line; the lock
// file serialises concurrent runs and recovers from a dead owner.
import { existsSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { hostEnv, hostPaths, LocalAwsPrerequisiteError, startHostLocalStack } from "../../lib/local-aws/hostMode";
import { acquireLock } from "../../lib/local-aws/lock";

const ENV_KEYS = ["PATH", "PYENV_ROOT", "TSE_PYTHON"] as const;
let saved: Partial<Record<(typeof ENV_KEYS)[number], string>> = {};
let savedPath: string | undefined;
beforeEach(() => {
  saved = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
  savedPath = process.env.PATH;
});
afterEach(() => {
  for (const k of ENV_KEYS) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

function which(tool: string): string | undefined {
  for (const dir of (savedPath ?? "").split(":")) if (existsSync(join(dir, tool))) return join(dir, tool);
  return undefined;
}

it("names Java, Maven and Python (with pip) in ONE line when none is available", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tse-none-"));
  process.env.PATH = join(dir, "empty-bin");
  process.env.PYENV_ROOT = join(dir, "no-pyenv");
  delete process.env.TSE_PYTHON;
  const err = await startHostLocalStack(hostPaths(dir), 4566, () => {}).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(LocalAwsPrerequisiteError);
  const message = String((err as Error).message);
  expect(message.split("\n")).toHaveLength(1);
  expect(message).toMatch(/^LocalStack host mode needs a Java 17\+ JDK .*apt-get install openjdk-17-jdk-headless/);
  expect(message).toMatch(/Maven .*apt-get install maven/);
  expect(message).toMatch(/Python 3\.12\+ with venv\/ensurepip, which brings pip/);
  // Nothing was provisioned before the check failed.
  expect(existsSync(join(dir, "venv"))).toBe(false);
  expect(existsSync(join(dir, "m2"))).toBe(false);
});

it("names Java and the package to install when no JDK is on PATH", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tse-noj-"));
  process.env.PATH = join(dir, "empty-bin");
  const err = await startHostLocalStack(hostPaths(dir), 4566, () => {}).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(LocalAwsPrerequisiteError);
  expect(String((err as Error).message)).toMatch(/needs a Java 17\+ JDK .*apt-get install openjdk-17-jdk-headless/);
  expect(String((err as Error).message).split("\n")).toHaveLength(1);
});

it("names Maven when Java is present but mvn is not", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tse-nomvn-"));
  const bin = join(dir, "bin");
  const { mkdirSync } = await import("node:fs");
  mkdirSync(bin);
  for (const tool of ["java", "javac", "jar"]) {
    const real = which(tool);
    if (!real) throw new Error(`this test needs ${tool} on PATH`);
    symlinkSync(real, join(bin, tool));
  }
  process.env.PATH = bin;
  const err = await startHostLocalStack(hostPaths(dir), 4566, () => {}).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(LocalAwsPrerequisiteError);
  expect(String((err as Error).message)).toMatch(/needs Maven .*apt-get install maven/);
  expect(String((err as Error).message)).not.toMatch(/Java/);
});

it("names Python when Java and Maven are present but no Python 3.12+ is", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tse-nopy-"));
  const bin = join(dir, "bin");
  const { mkdirSync } = await import("node:fs");
  mkdirSync(bin);
  for (const tool of ["java", "javac", "jar"]) {
    const real = which(tool);
    if (!real) throw new Error(`this test needs ${tool} on PATH`);
    symlinkSync(real, join(bin, tool));
  }
  // Only `mvn -v` succeeding matters to the check; the real mvn script needs half of coreutils on PATH.
  writeFileSync(join(bin, "mvn"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
  process.env.PATH = bin;
  process.env.PYENV_ROOT = join(dir, "no-pyenv");
  delete process.env.TSE_PYTHON;
  const err = await startHostLocalStack(hostPaths(dir), 4566, () => {}).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(LocalAwsPrerequisiteError);
  const message = String((err as Error).message);
  expect(message).toMatch(/^LocalStack host mode needs Python 3\.12\+ .*pip.*TSE_PYTHON/);
  expect(message).not.toMatch(/Java|Maven/);
});

it("lock: a second acquirer waits for the first; a dead owner's lock is taken over", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tse-lock-"));
  const path = join(dir, "x.lock");
  const release = await acquireLock(path);
  expect(readFileSync(path, "utf8")).toBe(String(process.pid));
  let second = false;
  const waiting = acquireLock(path, { timeoutMs: 5000 }).then((r) => {
    second = true;
    return r;
  });
  await new Promise((r) => setTimeout(r, 400));
  expect(second).toBe(false);
  release();
  const release2 = await waiting;
  expect(second).toBe(true);
  release2();
  expect(existsSync(path)).toBe(false);
  // A pid that cannot be alive (above pid_max) owns a stale lock.
  writeFileSync(path, "2147483646");
  const release3 = await acquireLock(path, { timeoutMs: 2000 });
  expect(readFileSync(path, "utf8")).toBe(String(process.pid));
  release3();
});

it("host-mode runtime env: no auth token, none of our AWS_* settings, the DESIGN.md settings", () => {
  const saved = { ...process.env };
  try {
    process.env.LOCALSTACK_AUTH_TOKEN = "ls-secret";
    process.env.LOCALSTACK_API_KEY = "key";
    process.env.AWS_ENDPOINT_URL = "http://elsewhere:4566";
    process.env.AWS_SECRET_ACCESS_KEY = "x";
    const p = hostPaths("/tmp/tse-env-check", 4599);
    const env = hostEnv(p, 4599);
    expect(env.LOCALSTACK_AUTH_TOKEN).toBe("");
    expect(env.LOCALSTACK_API_KEY).toBe("");
    expect(Object.keys(env).filter((k) => k.startsWith("AWS_"))).toEqual([]);
    expect(env).toMatchObject({
      GATEWAY_LISTEN: "127.0.0.1:4599",
      LOCALSTACK_HOST: "127.0.0.1:4599",
      DNS_ADDRESS: "0",
      SKIP_SSL_CERT_DOWNLOAD: "1",
      DISABLE_EVENTS: "1",
      SQS_ENDPOINT_STRATEGY: "path",
      FILESYSTEM_ROOT: p.fsRoot,
      PROVIDER_OVERRIDE_DYNAMODB: "v2",
    });
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
});
