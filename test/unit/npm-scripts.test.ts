// Every npm script that runs an installed tool (tsx, vitest, biome, tsc, buf, cdk) installs first, so it works
// on a fresh clone; the fresh-clone project proves it end to end for the README's backtest command.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { scripts: Record<string, string> };

describe("npm scripts on a fresh clone", () => {
  const scripts = Object.entries(pkg.scripts).filter(([name]) => !name.startsWith("pre"));
  const usesInstalledTool = (cmd: string) => {
    const words = cmd.split(/\s+/).filter((w) => !/^[A-Z_]+=/.test(w)); // skip leading VAR=value
    return existsSync(join("node_modules", ".bin", words[0]!));
  };

  it("each script that runs an installed tool has the ensure-deps pre-script", () => {
    const needing = scripts.filter(([, cmd]) => usesInstalledTool(cmd)).map(([name]) => name);
    expect(needing).toEqual(expect.arrayContaining(["start", "test", "backtest", "sim", "tse", "bench", "synth"]));
    for (const name of needing) expect(pkg.scripts[`pre${name}`], name).toBe("node scripts/ensure-deps.mjs");
  });

  it("the lockfile lists other platforms' optional packages, so npm ci works everywhere", () => {
    const lock = JSON.parse(readFileSync("package-lock.json", "utf8")) as { packages: Record<string, unknown> };
    for (const p of [
      "node_modules/@biomejs/cli-darwin-arm64",
      "node_modules/@biomejs/cli-win32-x64",
      "node_modules/@bufbuild/buf-darwin-arm64",
      "node_modules/@esbuild/darwin-arm64",
    ])
      expect(lock.packages, p).toHaveProperty([p]);
  });
});
