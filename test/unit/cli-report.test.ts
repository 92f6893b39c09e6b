import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { afterEach, describe, expect, it, vi } from "vitest";
import { registerReportCommand } from "../../cli/commands/report";
import { generateSyntheticRun } from "../fixtures/syntheticTrading";

describe("tse report", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
    process.exitCode = undefined;
    vi.restoreAllMocks();
  });

  async function run(args: string[]): Promise<{ out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    vi.spyOn(console, "log").mockImplementation((m: unknown) => void out.push(String(m)));
    vi.spyOn(console, "error").mockImplementation((m: unknown) => void err.push(String(m)));
    const program = new Command("tse").exitOverride();
    registerReportCommand(program);
    await program.parseAsync(["node", "tse", "report", ...args]);
    return { out, err };
  }

  it("writes report.html next to report.json and prints its path", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tse-cli-report-"));
    dirs.push(dir);
    writeFileSync(join(dir, "report.json"), JSON.stringify(generateSyntheticRun({ minutes: 5 }).report));
    const { out } = await run([join(dir, "report.json"), "--max-trades", "10"]);
    expect(out).toEqual([join(dir, "report.html")]);
    const html = readFileSync(join(dir, "report.html"), "utf8");
    expect(html).toContain('data-rows="10"');
    expect(process.exitCode).toBeUndefined();
  });

  it("an invalid report is one clear line and a non-zero exit code, and nothing is written", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tse-cli-report-"));
    dirs.push(dir);
    writeFileSync(join(dir, "report.json"), JSON.stringify({ strategy: "x" }));
    const { err } = await run([join(dir, "report.json")]);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(/^tse report: .*report\.json: startedAt: /);
    expect(process.exitCode).toBe(1);
    expect(existsSync(join(dir, "report.html"))).toBe(false);
  });
});
