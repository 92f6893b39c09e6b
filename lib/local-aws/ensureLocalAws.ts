// One entry point for "give me a local AWS": used by the vitest global setup and by `--aws local`.
// Order: AWS_ENDPOINT_URL (healthy) → a Docker engine (LocalStack container) → host-mode LocalStack.
// A started LocalStack is shared by concurrent runs of the same checkout through lease files and is
// stopped by the last run that leaves.
import { spawn, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { hostPaths, readLogTail, startHostLocalStack } from "./hostMode";
import { acquireLock, isPidAlive } from "./lock";

export type LocalAwsMode = "external" | "docker" | "host";

export interface LocalAws {
  endpoint: string;
  mode: LocalAwsMode;
  /** Leaves the shared LocalStack; stops it only if this was the last user of one we started. */
  stop(): Promise<void>;
}

export interface EnsureLocalAwsOptions {
  log?: (m: string) => void;
  /** Default: env TSE_LOCALSTACK_PORT or 4566. */
  port?: number;
  /** Default: env TSE_LOCALSTACK_CACHE or <repo>/.cache/localstack. */
  cacheDir?: string;
  /** How long to wait for a started LocalStack to become healthy (default 180 s). */
  readyTimeoutMs?: number;
}

export const DOCKER_IMAGE = "localstack/localstack:4.14";
export const REQUIRED_SERVICES = ["dynamodb", "events", "sqs", "ssm", "cloudformation", "s3", "iam", "sts"] as const;

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

interface ServerRecord {
  kind: "host" | "docker";
  port: number;
  pid?: number;
  container?: string;
  startedAt: string;
}

type Health = Record<string, string>;

export async function fetchHealth(endpoint: string, timeoutMs = 2000): Promise<Health | undefined> {
  try {
    const res = await fetch(`${endpoint}/_localstack/health`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return undefined;
    const body = (await res.json()) as { services?: Health };
    return body.services ?? {};
  } catch {
    return undefined;
  }
}

function missingServices(h: Health | undefined): string[] {
  return REQUIRED_SERVICES.filter((s) => {
    const st = h?.[s];
    return st !== "available" && st !== "running";
  });
}

/** Ready = every required service reported healthy and DynamoDB (DynamoDB Local behind it) answers a call. */
async function waitReady(
  endpoint: string,
  timeoutMs: number,
  alive: () => boolean,
  describeFailure: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let missing: string[] = [...REQUIRED_SERVICES];
  while (Date.now() < deadline) {
    if (!alive()) throw new Error(`LocalStack exited during startup:\n${describeFailure()}`);
    missing = missingServices(await fetchHealth(endpoint));
    if (missing.length === 0) break;
    await sleep(300);
  }
  if (missing.length > 0) {
    throw new Error(
      `LocalStack not healthy after ${timeoutMs} ms (missing: ${missing.join(", ")}):\n${describeFailure()}`,
    );
  }
  const ddb = new DynamoDBClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    maxAttempts: 1,
  });
  try {
    let lastErr: unknown;
    while (Date.now() < deadline) {
      try {
        await ddb.send(new ListTablesCommand({}), { abortSignal: AbortSignal.timeout(30_000) });
        return;
      } catch (err) {
        lastErr = err;
        if (!alive()) break;
        await sleep(500);
      }
    }
    throw new Error(`LocalStack DynamoDB did not answer: ${String(lastErr)}\n${describeFailure()}`);
  } finally {
    ddb.destroy();
  }
}

function dockerAnswers(): boolean {
  const r = spawnSync("docker", ["info", "--format", "{{.ServerVersion}}"], { timeout: 5000, stdio: "pipe" });
  return r.status === 0 && r.stdout.toString().trim().length > 0;
}

async function startDocker(port: number, log: (m: string) => void): Promise<ServerRecord> {
  const container = `tse-localstack-${port}`;
  spawnSync("docker", ["rm", "-f", container], { stdio: "ignore", timeout: 30_000 });
  log(`starting ${DOCKER_IMAGE} as container ${container} on 127.0.0.1:${port}`);
  const r = spawnSync(
    "docker",
    [
      "run",
      "-d",
      "--rm",
      "--name",
      container,
      "-p",
      `127.0.0.1:${port}:4566`,
      "-e",
      "PROVIDER_OVERRIDE_DYNAMODB=v2",
      "-e",
      "SQS_ENDPOINT_STRATEGY=path",
      "-e",
      `LOCALSTACK_HOST=127.0.0.1:${port}`,
      DOCKER_IMAGE,
    ],
    { stdio: "pipe", timeout: 10 * 60_000 },
  );
  if (r.status !== 0) throw new Error(`docker run ${DOCKER_IMAGE} failed: ${r.stderr.toString().trim()}`);
  return { kind: "docker", port, container, startedAt: new Date().toISOString() };
}

function killServer(rec: ServerRecord): Promise<void> {
  if (rec.kind === "docker" && rec.container) {
    return new Promise((resolve) => {
      const c = spawn("docker", ["stop", "-t", "5", rec.container as string], { stdio: "ignore" });
      c.on("close", () => resolve());
      c.on("error", () => resolve());
    });
  }
  return killProcessGroup(rec.pid);
}

async function killProcessGroup(pid: number | undefined): Promise<void> {
  if (!pid || !isPidAlive(pid)) return;
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(-pid, s);
    } catch {
      // group already gone
    }
  };
  signal("SIGTERM");
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && isPidAlive(pid)) await sleep(200);
  signal("SIGKILL");
  // LocalStack's DynamoDB Local JVM shares the group; give the kernel a moment to reap it.
  await sleep(200);
}

class Registry {
  readonly serverFile: string;
  readonly leaseDir: string;
  constructor(
    readonly dir: string,
    port: number,
  ) {
    // Per port, so a run on another port (TSE_LOCALSTACK_PORT) never touches this one's server.
    this.serverFile = join(dir, `server-${port}.json`);
    this.leaseDir = join(dir, `leases-${port}`);
  }
  read(): ServerRecord | undefined {
    try {
      return JSON.parse(readFileSync(this.serverFile, "utf8")) as ServerRecord;
    } catch {
      return undefined;
    }
  }
  write(rec: ServerRecord): void {
    writeFileSync(this.serverFile, `${JSON.stringify(rec)}\n`);
  }
  clear(): void {
    rmSync(this.serverFile, { force: true });
    rmSync(this.leaseDir, { recursive: true, force: true });
  }
  addLease(): string {
    mkdirSync(this.leaseDir, { recursive: true });
    const name = `${process.pid}-${randomUUID()}`;
    writeFileSync(join(this.leaseDir, name), "");
    return name;
  }
  /** Removes `lease` and leases of dead processes; returns how many live leases remain. */
  dropLease(lease: string): number {
    rmSync(join(this.leaseDir, lease), { force: true });
    return this.liveLeases();
  }
  liveLeases(): number {
    if (!existsSync(this.leaseDir)) return 0;
    let live = 0;
    for (const f of readdirSync(this.leaseDir)) {
      const pid = Number.parseInt(f.split("-")[0] ?? "", 10);
      if (isPidAlive(pid)) live++;
      else rmSync(join(this.leaseDir, f), { force: true });
    }
    return live;
  }
  serverAlive(rec: ServerRecord): boolean {
    return rec.kind === "docker" || (rec.pid !== undefined && isPidAlive(rec.pid));
  }
}

function portFromEnv(): number {
  const raw = process.env.TSE_LOCALSTACK_PORT;
  if (!raw) return 4566;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0 || n > 65535) {
    throw new Error(`TSE_LOCALSTACK_PORT must be a TCP port, got '${raw}'`);
  }
  return n;
}

export async function ensureLocalAws(opts: EnsureLocalAwsOptions = {}): Promise<LocalAws> {
  const log = opts.log ?? ((m: string) => console.error(`[local-aws] ${m}`));
  const noop = async () => {};

  const external = process.env.AWS_ENDPOINT_URL;
  if (external) {
    const endpoint = external.replace(/\/+$/, "");
    const missing = missingServices(await fetchHealth(endpoint, 5000));
    if (missing.length > 0) {
      throw new Error(
        `AWS_ENDPOINT_URL=${external} is set but its /_localstack/health does not report ${missing.join(", ")} as available; ` +
          "unset it to let the tests start LocalStack themselves",
      );
    }
    log(`using AWS_ENDPOINT_URL=${endpoint}`);
    return { endpoint, mode: "external", stop: noop };
  }

  const { port, endpoint, cacheDir, reg } = resolveTarget(opts);
  mkdirSync(cacheDir, { recursive: true });
  const paths = hostPaths(cacheDir, port);
  const release = await acquireLock(join(cacheDir, "start.lock"), {
    onWait: (pid) => log(`waiting for another run (pid ${pid ?? "?"}) that is starting LocalStack`),
  });
  try {
    const rec = reg.read();
    let health = await fetchHealth(endpoint);
    if (rec && reg.serverAlive(rec) && missingServices(health).length > 0) {
      // Ours and alive but not answering well: maybe just busy (2 shared cores). Look again before replacing it.
      for (let i = 0; i < 3 && missingServices(health).length > 0; i++) {
        await sleep(1000);
        health = await fetchHealth(endpoint, 5000);
      }
    }
    if (rec && rec.port === port && reg.serverAlive(rec) && missingServices(health).length === 0) {
      const lease = reg.addLease();
      log(`reusing LocalStack (${rec.kind}) started by this checkout at ${endpoint}`);
      return { endpoint, mode: rec.kind, stop: leaver(reg, lease, cacheDir) };
    }
    if (rec) {
      // Our record but not healthy (crashed or hung): clean it up before starting anew.
      await killServer(rec);
      reg.clear();
    }
    if (health) {
      if (missingServices(health).length === 0) {
        log(`reusing a LocalStack we did not start at ${endpoint} (treated as external)`);
        return { endpoint, mode: "external", stop: noop };
      }
      throw new Error(
        `something at ${endpoint} answers /_localstack/health but lacks ${missingServices(health).join(", ")}; stop it or set TSE_LOCALSTACK_PORT`,
      );
    }

    const t0 = Date.now();
    let started: ServerRecord;
    if (dockerAnswers()) {
      started = await startDocker(port, log);
      reg.write(started);
      await waitReady(
        endpoint,
        opts.readyTimeoutMs ?? 300_000,
        () => true,
        () => `docker logs ${started.container}`,
      );
    } else {
      log("no Docker engine answers; using host-mode LocalStack");
      const { pid } = await startHostLocalStack(paths, port, log);
      started = { kind: "host", port, pid, startedAt: new Date().toISOString() };
      reg.write(started);
      try {
        await waitReady(
          endpoint,
          opts.readyTimeoutMs ?? 180_000,
          () => isPidAlive(pid),
          () => `last lines of ${paths.logFile}:\n${readLogTail(paths)}`,
        );
      } catch (err) {
        await killProcessGroup(pid);
        reg.clear();
        throw err;
      }
    }
    log(`LocalStack ready at ${endpoint} (${started.kind}) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const lease = reg.addLease();
    return { endpoint, mode: started.kind, stop: leaver(reg, lease, cacheDir) };
  } finally {
    release();
  }
}

function resolveTarget(opts: { port?: number; cacheDir?: string }) {
  const port = opts.port ?? portFromEnv();
  const cacheDir = opts.cacheDir ?? process.env.TSE_LOCALSTACK_CACHE ?? join(REPO_ROOT, ".cache", "localstack");
  return { port, cacheDir, endpoint: `http://127.0.0.1:${port}`, reg: new Registry(cacheDir, port) };
}

export interface ManagedLocalAwsStatus {
  endpoint: string;
  /** What this checkout started on that port, if anything. */
  server?: { kind: "host" | "docker"; pid?: number; container?: string; startedAt: string; alive: boolean };
  liveLeases: number;
  healthy: boolean;
  logFile: string;
}

export async function localAwsStatus(opts: { port?: number; cacheDir?: string } = {}): Promise<ManagedLocalAwsStatus> {
  const { endpoint, reg, cacheDir, port } = resolveTarget(opts);
  const rec = reg.read();
  return {
    endpoint,
    ...(rec ? { server: { ...rec, alive: reg.serverAlive(rec) } } : {}),
    liveLeases: reg.liveLeases(),
    healthy: missingServices(await fetchHealth(endpoint)).length === 0,
    logFile: hostPaths(cacheDir, port).logFile,
  };
}

/** Stops this checkout's LocalStack on the port regardless of leases (e.g. after a killed test run). */
export async function stopManagedLocalAws(opts: { port?: number; cacheDir?: string } = {}): Promise<boolean> {
  const { reg, cacheDir } = resolveTarget(opts);
  const release = await acquireLock(join(cacheDir, "start.lock"));
  try {
    const rec = reg.read();
    if (rec) await killServer(rec);
    reg.clear();
    return rec !== undefined;
  } finally {
    release();
  }
}

function leaver(reg: Registry, lease: string, cacheDir: string): () => Promise<void> {
  let done = false;
  return async () => {
    if (done) return;
    done = true;
    const release = await acquireLock(join(cacheDir, "start.lock"));
    try {
      if (reg.dropLease(lease) > 0) return;
      const rec = reg.read();
      if (rec) await killServer(rec);
      reg.clear();
    } finally {
      release();
    }
  };
}
