// Makes sure Debian's `chromium` package is installed for the browser tests (playwright-core
// drives it via executablePath; playwright's own browser download is not used).
// Usage: `node scripts/ensure-chromium.mjs` or `import { ensureChromium } from "./ensure-chromium.mjs"`.
// Installs with apt-get when missing and running as root; otherwise fails with one clear line.
import { execFileSync, spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, statSync, unlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || "/usr/bin/chromium";

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Returns the chromium executable path, installing the Debian package first if needed. */
export function ensureChromium() {
  if (existsSync(CHROMIUM_PATH)) return CHROMIUM_PATH;
  if (typeof process.getuid === "function" && process.getuid() !== 0) {
    throw new Error(
      `chromium not found at ${CHROMIUM_PATH}: install the Debian package 'chromium' (sudo apt-get install -y chromium) or set CHROMIUM_PATH`,
    );
  }
  // Several test workers may call this at once: take a lock file (O_EXCL) so only one runs apt.
  const root = join(dirname(fileURLToPath(import.meta.url)), "..");
  const lockDir = join(root, ".cache");
  mkdirSync(lockDir, { recursive: true });
  const lockPath = join(lockDir, "chromium-install.lock");
  const deadline = Date.now() + 10 * 60_000;
  let fd = -1;
  while (fd < 0) {
    if (existsSync(CHROMIUM_PATH)) return CHROMIUM_PATH;
    try {
      fd = openSync(lockPath, "wx");
    } catch {
      // A lock left behind by a killed run (older than the longest install) is removed, not waited on.
      try {
        if (Date.now() - statSync(lockPath).mtimeMs > 15 * 60_000) unlinkSync(lockPath);
      } catch {
        // lock vanished meanwhile: retry
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lockPath} (another chromium install?)`);
      sleep(1000);
    }
  }
  try {
    if (!existsSync(CHROMIUM_PATH)) {
      console.error("[chromium] /usr/bin/chromium missing; running: apt-get update && apt-get install -y chromium");
      const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
      // apt's output goes to stderr: stdout carries only the resulting path.
      const opts = { stdio: ["ignore", 2, 2], env };
      // Wait for a dpkg/apt lock held by another apt run instead of failing at once.
      const wait = ["-o", "DPkg::Lock::Timeout=300"];
      execFileSync("apt-get", [...wait, "update"], opts);
      execFileSync(
        "apt-get",
        [...wait, "install", "-y", "--no-install-recommends", "chromium", "fonts-dejavu-core"],
        opts,
      );
    }
  } finally {
    closeSync(fd);
    try {
      unlinkSync(lockPath);
    } catch {
      // best effort
    }
  }
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`apt-get install chromium finished but ${CHROMIUM_PATH} is still missing`);
  }
  return CHROMIUM_PATH;
}

/**
 * Same, without blocking the caller's event loop (a test worker must keep answering its runner
 * during a minutes-long apt install): runs this script as a child process.
 */
export async function ensureChromiumAsync() {
  if (existsSync(CHROMIUM_PATH)) return CHROMIUM_PATH;
  const self = fileURLToPath(import.meta.url);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [self], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (c) => {
      out += c;
    });
    child.stderr.on("data", (c) => {
      err += c;
      process.stderr.write(c);
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0 && existsSync(CHROMIUM_PATH)) resolve(out.trim().split("\n").pop() || CHROMIUM_PATH);
      else reject(new Error(err.trim().split("\n").pop() || `ensure-chromium exited with ${code}`));
    });
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    console.log(ensureChromium());
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  }
}
