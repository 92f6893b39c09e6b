// The generated code in gen/proto is committed; this fails when it no longer matches proto/ (run `npm run proto`).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listFiles(p));
    else out.push(p);
  }
  return out.sort();
}

describe("gen/proto", () => {
  const tmp = mkdtempSync(join(tmpdir(), "tse-proto-"));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it("matches a fresh `buf generate` of proto/", () => {
    execFileSync(join(root, "node_modules", ".bin", "buf"), ["generate", "-o", tmp], { cwd: root, stdio: "pipe" });
    const freshDir = join(tmp, "gen", "proto");
    const committedDir = join(root, "gen", "proto");
    const fresh = listFiles(freshDir).map((f) => relative(freshDir, f));
    const committed = listFiles(committedDir).map((f) => relative(committedDir, f));
    expect(committed, "file list differs: run `npm run proto`").toEqual(fresh);
    for (const f of fresh) {
      const a = readFileSync(join(freshDir, f), "utf8");
      const b = readFileSync(join(committedDir, f), "utf8");
      expect(b === a, `gen/proto/${f} is stale: run \`npm run proto\``).toBe(true);
    }
  });
});
