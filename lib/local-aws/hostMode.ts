// Host-mode LocalStack: a cached Python venv with localstack-core, DynamoDB Local from Maven Central
// pre-seeded where LocalStack's dynamodb-local package installer looks for it, and the runtime
// started as a detached process group on the host (no Docker engine needed).
import { type SpawnOptions, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const LOCALSTACK_VERSION = "4.14.0";
export const DYNAMODB_LOCAL = { groupId: "software.amazon.dynamodb", artifactId: "DynamoDBLocal", version: "3.3.1" };
const DDB_MAIN_CLASS = "software.amazon.dynamodb.services.local.main.ServerRunner";

/** One clear, actionable line: what is missing and how to install it. */
export class LocalAwsPrerequisiteError extends Error {
  override name = "LocalAwsPrerequisiteError";
}

export interface HostPaths {
  cacheDir: string;
  venv: string;
  fsRoot: string;
  ddbDir: string;
  mavenRepo: string;
  logFile: string;
  provisionLog: string;
}

export function hostPaths(cacheDir: string, port = 4566): HostPaths {
  const fsRoot = join(cacheDir, "fs");
  return {
    cacheDir,
    venv: join(cacheDir, "venv"),
    fsRoot,
    // Where LocalStack 4.14's DynamoDBLocalPackageInstaller("dynamodb-local", "2") looks (InstallTarget.VAR_LIBS).
    ddbDir: join(fsRoot, "var/lib/localstack/lib/dynamodb-local/2"),
    mavenRepo: join(cacheDir, "m2"),
    // Per port: a second LocalStack on another port must not overwrite the first one's log.
    logFile: join(cacheDir, port === 4566 ? "localstack.log" : `localstack-${port}.log`),
    provisionLog: join(cacheDir, "provision.log"),
  };
}

interface RunResult {
  code: number;
  out: string;
}

function run(cmd: string, args: string[], opts: SpawnOptions & { logFile?: string } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    let out = "";
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(cmd, args, { ...opts, stdio: ["ignore", "pipe", "pipe"] });
    } catch (err) {
      resolve({ code: 127, out: String(err) });
      return;
    }
    const fd = opts.logFile ? openSync(opts.logFile, "a") : undefined;
    if (fd !== undefined) writeFileSync(fd, `\n$ ${cmd} ${args.join(" ")}\n`);
    const onData = (b: Buffer) => {
      out += b.toString();
      if (out.length > 200_000) out = out.slice(-100_000);
      if (fd !== undefined) writeFileSync(fd, b);
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.on("error", (err) => {
      if (fd !== undefined) closeSync(fd);
      resolve({ code: 127, out: out + String(err) });
    });
    child.on("close", (code) => {
      if (fd !== undefined) closeSync(fd);
      resolve({ code: code ?? 1, out });
    });
  });
}

function tail(text: string, lines = 15): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

async function mustRun(what: string, cmd: string, args: string[], opts: SpawnOptions & { logFile?: string }) {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    throw new Error(`${what} failed (exit ${r.code}); see ${opts.logFile ?? "output"}:\n${tail(r.out)}`);
  }
  return r.out;
}

// ---------------------------------------------------------------- prerequisites

/** What to install for each host-mode prerequisite. */
const MISSING = {
  python:
    "Python 3.12+ with venv/ensurepip, which brings pip (localstack-core 4.14 uses 3.12 syntax): " +
    "`pyenv install 3.12`, apt-get install python3.12-venv where available, or set TSE_PYTHON=/path/to/python3.12",
  java: "a Java 17+ JDK (java, javac, jar) for DynamoDB Local: apt-get install openjdk-17-jdk-headless",
  maven: "Maven to fetch DynamoDB Local from Maven Central: apt-get install maven",
} as const;

/** localstack-core 4.14 uses PEP 695 syntax (class X[T]), so it needs Python 3.12+ despite its metadata. */
async function findPython(): Promise<string> {
  const candidates: string[] = [];
  if (process.env.TSE_PYTHON) candidates.push(process.env.TSE_PYTHON);
  candidates.push("python3.13", "python3.12", "python3", "python");
  const pyenvRoot = process.env.PYENV_ROOT ?? join(homedir(), ".pyenv");
  const versions = join(pyenvRoot, "versions");
  if (existsSync(versions)) {
    for (const v of readdirSync(versions).sort().reverse()) {
      if (/^3\.(1[2-9])\.\d+$/.test(v)) candidates.push(join(versions, v, "bin", "python3"));
    }
  }
  for (const c of candidates) {
    const r = await run(c, ["-c", "import sys, venv, ensurepip; print('%d.%d' % sys.version_info[:2])"]);
    const m = /^(\d+)\.(\d+)\s*$/m.exec(r.out);
    if (r.code === 0 && m && Number(m[1]) === 3 && Number(m[2]) >= 12) return c;
  }
  throw new LocalAwsPrerequisiteError(`LocalStack host mode needs ${MISSING.python}`);
}

/** The JDK's java.home, or undefined when no usable Java 17+ JDK is on PATH. */
async function findJavaHome(): Promise<string | undefined> {
  const r = await run("java", ["-XshowSettings:properties", "-version"]);
  const ver = /version "(\d+)(?:\.|")/.exec(r.out);
  const home = /java\.home = (.+)/.exec(r.out);
  const major = ver ? Number(ver[1]) : 0;
  const javac = await run("javac", ["-version"]);
  const jar = await run("jar", ["--version"]);
  if (r.code !== 0 || major < 17 || !home?.[1] || javac.code !== 0 || jar.code !== 0) return undefined;
  return home[1].trim();
}

/**
 * Checks every host-mode tool before provisioning anything, so ONE message names all that is missing
 * (not one per attempt). Python is only needed while the venv is not yet provisioned.
 */
async function checkPrerequisites(p: HostPaths): Promise<{ javaHome: string }> {
  const missing: string[] = [];
  const javaHome = await findJavaHome();
  if (!javaHome) missing.push(MISSING.java);
  if ((await run("mvn", ["-v"])).code !== 0) missing.push(MISSING.maven);
  if (!venvReady(p).ready) {
    try {
      await findPython();
    } catch (err) {
      if (!(err instanceof LocalAwsPrerequisiteError)) throw err;
      missing.push(MISSING.python);
    }
  }
  if (missing.length > 0 || !javaHome) {
    throw new LocalAwsPrerequisiteError(`LocalStack host mode needs ${missing.join("; and ")}`);
  }
  return { javaHome };
}

// ---------------------------------------------------------------- venv

function constraintsFile(): string {
  return fileURLToPath(new URL("./localstack-constraints.txt", import.meta.url));
}

function venvReady(p: HostPaths): { ready: boolean; python: string; stampFile: string; wanted: string } {
  const python = join(p.venv, "bin", "python");
  const stampFile = join(p.venv, ".tse-stamp");
  const constraints = readFileSync(constraintsFile(), "utf8");
  const wanted = createHash("sha256")
    .update(`localstack-core[runtime]==${LOCALSTACK_VERSION}\n${constraints}`)
    .digest("hex");
  const ready = existsSync(python) && existsSync(stampFile) && readFileSync(stampFile, "utf8").trim() === wanted;
  return { ready, python, stampFile, wanted };
}

async function ensureVenv(p: HostPaths, log: (m: string) => void): Promise<string> {
  const { ready, python, stampFile, wanted } = venvReady(p);
  if (ready) return python;

  const base = await findPython();
  log(`creating Python venv ${p.venv} (with ${base})`);
  rmSync(p.venv, { recursive: true, force: true });
  await mustRun("python -m venv", base, ["-m", "venv", p.venv], { logFile: p.provisionLog });
  log(
    `pip install 'localstack-core[runtime]==${LOCALSTACK_VERSION}' (first run only; takes 1-3 min; log: ${p.provisionLog})`,
  );
  await mustRun(
    "pip install localstack-core",
    python,
    [
      "-m",
      "pip",
      "install",
      "--disable-pip-version-check",
      "--no-input",
      "-c",
      constraintsFile(),
      `localstack-core[runtime]==${LOCALSTACK_VERSION}`,
    ],
    { logFile: p.provisionLog },
  );
  writeFileSync(stampFile, `${wanted}\n`);
  return python;
}

// ---------------------------------------------------------------- DynamoDB Local

function manifestLines(key: string, value: string): string {
  // JAR manifest lines are at most 72 bytes; continuation lines start with one space.
  const full = `${key}: ${value}`;
  const parts = [full.slice(0, 72)];
  for (let i = 72; i < full.length; i += 71) parts.push(` ${full.slice(i, i + 71)}`);
  return `${parts.join("\n")}\n`;
}

/**
 * Pre-seeds `$FILESYSTEM_ROOT/var/lib/localstack/lib/dynamodb-local/2/` so LocalStack's installer sees
 * DynamoDB Local as installed (marker: DynamoDBLocal.jar) and never downloads:
 * - DynamoDBLocal_lib/: DynamoDBLocal + dependencies + sqlite4java natives from Maven Central;
 * - DynamoDBLocal.jar: a launcher jar (Main-Class + Class-Path over DynamoDBLocal_lib) for `java -jar`;
 * - ddb-local-loader-0.1.jar: a no-op -javaagent (LocalStack's own agent only lifts the 20-GSI limit).
 */
async function ensureDynamoDbLocal(p: HostPaths, javaHome: string, log: (m: string) => void): Promise<void> {
  const stampFile = join(p.ddbDir, ".tse-stamp");
  const wanted = `${DYNAMODB_LOCAL.groupId}:${DYNAMODB_LOCAL.artifactId}:${DYNAMODB_LOCAL.version}`;
  if (!(existsSync(stampFile) && readFileSync(stampFile, "utf8").trim() === wanted)) {
    log(
      `fetching DynamoDB Local ${DYNAMODB_LOCAL.version} from Maven Central (first run only; log: ${p.provisionLog})`,
    );
    const build = join(p.cacheDir, "ddb-build");
    rmSync(build, { recursive: true, force: true });
    const stage = join(build, "stage");
    const lib = join(stage, "DynamoDBLocal_lib");
    mkdirSync(lib, { recursive: true });
    writeFileSync(
      join(build, "pom.xml"),
      `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.tse</groupId><artifactId>dynamodb-local-fetch</artifactId><version>1</version><packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>${DYNAMODB_LOCAL.groupId}</groupId><artifactId>${DYNAMODB_LOCAL.artifactId}</artifactId><version>${DYNAMODB_LOCAL.version}</version></dependency>
  </dependencies>
</project>
`,
    );
    await mustRun(
      "mvn dependency:copy-dependencies (DynamoDB Local)",
      "mvn",
      ["-B", "-q", `-Dmaven.repo.local=${p.mavenRepo}`, "dependency:copy-dependencies", `-DoutputDirectory=${lib}`],
      { cwd: build, logFile: p.provisionLog },
    );
    const files = readdirSync(lib);
    // sqlite4java asks for libsqlite4java-<os>-<arch>.so; Maven names them with the version suffix.
    for (const f of files) {
      const m = /^(libsqlite4java-[a-z0-9-]+?)-\d[\d.]*\.(so|dylib)$/.exec(f);
      if (m) writeFileSync(join(lib, `${m[1]}.${m[2]}`), readFileSync(join(lib, f)));
    }
    const jars = readdirSync(lib)
      .filter((f) => f.endsWith(".jar"))
      .sort();
    if (!jars.some((j) => j.startsWith("DynamoDBLocal-")))
      throw new Error(`Maven did not deliver DynamoDBLocal into ${lib}`);
    writeFileSync(
      join(build, "launcher.mf"),
      `Main-Class: ${DDB_MAIN_CLASS}\n${manifestLines("Class-Path", jars.map((j) => `DynamoDBLocal_lib/${j}`).join(" "))}`,
    );
    mkdirSync(join(build, "empty"));
    await mustRun(
      "jar (launcher)",
      "jar",
      ["cfm", join(stage, "DynamoDBLocal.jar"), "launcher.mf", "-C", "empty", "."],
      {
        cwd: build,
        logFile: p.provisionLog,
      },
    );
    mkdirSync(join(build, "agent-classes"));
    writeFileSync(
      join(build, "NoopAgent.java"),
      "public final class NoopAgent { public static void premain(String a, java.lang.instrument.Instrumentation i) {} }\n",
    );
    await mustRun("javac (no-op agent)", "javac", ["--release", "17", "-d", "agent-classes", "NoopAgent.java"], {
      cwd: build,
      logFile: p.provisionLog,
    });
    writeFileSync(join(build, "agent.mf"), "Premain-Class: NoopAgent\n");
    await mustRun(
      "jar (agent)",
      "jar",
      ["cfm", join(stage, "ddb-local-loader-0.1.jar"), "agent.mf", "-C", "agent-classes", "."],
      { cwd: build, logFile: p.provisionLog },
    );
    writeFileSync(join(stage, ".tse-stamp"), `${wanted}\n`);
    rmSync(p.ddbDir, { recursive: true, force: true });
    mkdirSync(join(p.ddbDir, ".."), { recursive: true });
    renameSync(stage, p.ddbDir);
    rmSync(build, { recursive: true, force: true });
  }
  // LocalStack's installer wants "its" Java 21 at lib/java/21 (bin/java is the marker) and would download
  // one otherwise; point it at the host JDK (17+ is enough for DynamoDB Local 3.x).
  const javaLink = join(p.fsRoot, "var/lib/localstack/lib/java/21");
  mkdirSync(join(javaLink, ".."), { recursive: true });
  rmSync(javaLink, { recursive: true, force: true });
  symlinkSync(javaHome, javaLink);
}

// ---------------------------------------------------------------- start

export interface StartedHost {
  pid: number;
}

export function hostEnv(p: HostPaths, port: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // Our own client settings must not leak into the runtime.
  for (const k of Object.keys(env)) if (k.startsWith("AWS_")) delete env[k];
  return {
    ...env,
    GATEWAY_LISTEN: `127.0.0.1:${port}`,
    LOCALSTACK_HOST: `127.0.0.1:${port}`,
    DNS_ADDRESS: "0",
    SKIP_SSL_CERT_DOWNLOAD: "1",
    DISABLE_EVENTS: "1",
    SQS_ENDPOINT_STRATEGY: "path",
    FILESYSTEM_ROOT: p.fsRoot,
    PROVIDER_OVERRIDE_DYNAMODB: "v2",
    DYNAMODB_IN_MEMORY: "1",
    // Inside a container LocalStack ignores FILESYSTEM_ROOT (it assumes its image layout); we are on a host.
    OVERRIDE_IN_DOCKER: "0",
    LOCALSTACK_AUTH_TOKEN: "",
    LOCALSTACK_API_KEY: "",
  };
}

/** Provisions (cached) and starts LocalStack on the host; returns once the process is spawned. */
export async function startHostLocalStack(p: HostPaths, port: number, log: (m: string) => void): Promise<StartedHost> {
  mkdirSync(p.cacheDir, { recursive: true });
  const { javaHome } = await checkPrerequisites(p);
  const python = await ensureVenv(p, log);
  await ensureDynamoDbLocal(p, javaHome, log);
  log(`starting LocalStack ${LOCALSTACK_VERSION} on 127.0.0.1:${port} (log: ${p.logFile})`);
  const out = openSync(p.logFile, "w");
  const child = spawn(python, ["-m", "localstack.runtime.main"], {
    cwd: p.cacheDir,
    env: hostEnv(p, port),
    detached: true, // own process group: stop() kills the runtime and its DynamoDB Local JVM together
    stdio: ["ignore", out, out],
  });
  closeSync(out);
  if (child.pid === undefined) throw new Error(`could not start LocalStack (${python})`);
  child.unref();
  return { pid: child.pid };
}

export function readLogTail(p: HostPaths, lines = 25): string {
  try {
    return tail(readFileSync(p.logFile, "utf8"), lines);
  } catch {
    return "(no log)";
  }
}
