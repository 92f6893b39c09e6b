// Installs npm dependencies when node_modules is missing or older than the lockfile,
// so `npm start` and `npm test` work on a fresh clone. Plain Node: it runs before deps exist.
import { execSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const lock = join(root, "package-lock.json");
const stamp = join(root, "node_modules", ".deps-stamp");
const wanted = createHash("sha256")
  .update(readFileSync(join(root, "package.json")))
  .update(existsSync(lock) ? readFileSync(lock) : "")
  .digest("hex");
const have = existsSync(stamp) ? readFileSync(stamp, "utf8").trim() : "";
if (have !== wanted) {
  // `npm install` honours the lockfile's pinned versions; `npm ci` is avoided because npm 11 lockfiles omit
  // other platforms' optional packages (biome, buf), which makes `npm ci` refuse to run.
  const cmd = "npm install --no-audit --no-fund";
  console.error(`[deps] node_modules is ${have ? "stale" : "missing"}; running: ${cmd}`);
  execSync(cmd, {
    cwd: root,
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, npm_config_update_notifier: "false" },
  });
  writeFileSync(stamp, `${wanted}\n`);
}
