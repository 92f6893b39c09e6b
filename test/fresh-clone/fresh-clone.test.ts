// A new user's first command: a fresh `git clone` of this checkout's HEAD runs the README's backtest command with
// no prior install (its pre-script installs with `npm ci`), and leaves `git status --porcelain` empty.
// Its own vitest project ("fresh-clone"): one real install takes about a minute, too slow for "fast".
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), "tse-fresh-"));
afterAll(() => rm(dir, { recursive: true, force: true }));

/** The README's backtest command, read from the README itself so the test follows it. */
function readmeBacktestCommand(): string[] {
  const readme = readFileSync("README.md", "utf8");
  const m = readme.match(/^npm run backtest -- (--data \S+ --strategy \S+ --out \S+)\s*$/m);
  if (!m) throw new Error("README has no `npm run backtest -- --data … --strategy … --out …` line");
  return m[1]!.split(/\s+/);
}

describe("fresh clone", () => {
  it("runs the README's backtest with no prior install and leaves git status clean", async () => {
    const head = (await run("git", ["rev-parse", "HEAD"])).stdout.trim();
    const clone = join(dir, "tse");
    await run("git", ["clone", "--quiet", "--no-hardlinks", process.cwd(), clone]);
    await run("git", ["checkout", "--quiet", head], { cwd: clone });
    expect(existsSync(join(clone, "node_modules"))).toBe(false);
    const args = readmeBacktestCommand();
    const r = await run("npm", ["run", "backtest", "--", ...args], {
      cwd: clone,
      timeout: 400_000,
      maxBuffer: 32 * 1024 * 1024,
      env: { ...process.env, npm_config_update_notifier: "false" },
    });
    expect(r.stderr).toContain("[deps] node_modules is missing; running: npm ci");
    const out = args[args.indexOf("--out") + 1]!;
    expect(r.stdout.trim().split("\n").at(-1)).toBe(join(out, "report.json"));
    expect(existsSync(join(clone, out, "report.json"))).toBe(true);
    expect((await run("git", ["status", "--porcelain"], { cwd: clone })).stdout).toBe("");
  }, 420_000);
});
