// Makes sure Debian's `chromium` package is installed for the browser tests (playwright-core
// drives it via executablePath; playwright's own browser download is not used).
// Usage: `node scripts/ensure-chromium.mjs` or `import { ensureChromium } from "./ensure-chromium.mjs"`.
// Installs with apt-get when missing and running as root; otherwise fails with one clear line.
import { execFileSync } from "node:child_process";
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
      const opts = { stdio: ["ignore", "inherit", "inherit"], env };
      execFileSync("apt-get", ["update"], opts);
      execFileSync("apt-get", ["install", "-y", "--no-install-recommends", "chromium", "fonts-dejavu-core"], opts);
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

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    console.log(ensureChromium());
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  }
}
