// Installs npm dependencies when node_modules is missing or older than the lockfile, so every npm script
// (each has it as its pre-script) works on a fresh clone. Plain Node: it runs before deps exist.
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
  // `npm ci` installs exactly the lockfile and never rewrites it, so a first install leaves `git status` clean.
  // The lockfile lists every platform's optional packages (biome, buf, esbuild), which `npm ci` needs; if
  // package.json and the lockfile disagree it stops and says so (run `npm install` to update the lockfile).
  const cmd = "npm ci --no-audit --no-fund";
  console.error(`[deps] node_modules is ${have ? "stale" : "missing"}; running: ${cmd}`);
  execSync(cmd, {
    cwd: root,
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, npm_config_update_notifier: "false" },
  });
  writeFileSync(stamp, `${wanted}\n`);
}
