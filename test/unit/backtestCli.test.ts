// `tse backtest` as a user runs it (a real child process; non-TTY, and on a pseudo-terminal via util-linux `script`).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ReportSchema } from "../../lib/report/reportSchema";

function tse(...args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", "cli/tse.ts", ...args], {
    encoding: "utf8",
    timeout: 90_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("tse backtest CLI", () => {
  it("runs the sample, prints plain progress lines and the report path", { timeout: 120_000 }, () => {
    const out = mkdtempSync(join(tmpdir(), "tse-cli-"));
    const r = tse(
      "backtest",
      "--data",
      "data/sample-l1.csv",
      "--strategy",
      "market-making",
      "--out",
      out,
      "--seed",
      "3",
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/backtest: 100% \(4000 rows\)/);
    const lines = r.stdout.trim().split("\n");
    expect(lines.at(-1)).toBe(join(out, "report.json"));
    expect(existsSync(join(out, "report.json"))).toBe(true);
    const report = ReportSchema.parse(JSON.parse(readFileSync(join(out, "report.json"), "utf8")));
    expect(report.meta?.seed).toBe(3);
  });

  it("draws a progress bar (not plain lines) on a terminal", { timeout: 120_000 }, () => {
    const out = mkdtempSync(join(tmpdir(), "tse-cli-"));
    const cmd = `${process.execPath} --import tsx cli/tse.ts backtest --data data/sample-l1.csv --strategy market-making --out ${out}`;
    // `script` gives the child a pseudo-terminal, so stderr.isTTY is true as in an interactive shell.
    const r = spawnSync("script", ["-qec", cmd, "/dev/null"], { encoding: "utf8", timeout: 90_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/backtest \[[^\]]+\] 100% \| 4000 rows/);
    expect(r.stdout).not.toMatch(/backtest: \d+% \(/);
    expect(existsSync(join(out, "report.json"))).toBe(true);
  });

  it("runs the gzip tape with trades; --strict turns a locked quote into an error with its line and column", {
    timeout: 120_000,
  }, () => {
    const out = mkdtempSync(join(tmpdir(), "tse-cli-"));
    const ok = tse("backtest", "--data", "data/sample-tape.csv.gz", "--strategy", "avellaneda-stoikov", "--out", out);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/60000 ticks, [1-9]\d* trades/); // fills through the default queue model
    const report = ReportSchema.parse(JSON.parse(readFileSync(join(out, "report.json"), "utf8")));
    expect(report.fillModel?.kind).toBe("queue-risk-averse");
    expect(report.risk?.events).toEqual([]);
    const dir = mkdtempSync(join(tmpdir(), "tse-cli-"));
    const quotes = join(dir, "q.csv");
    const trades = join(dir, "t.csv");
    writeFileSync(
      quotes,
      "ts,venue,symbol,bid,ask,bid_size,ask_size\n1767614400000,venue-a,BTC-USD,30000,30001,1,1\n1767614401000,venue-a,BTC-USD,30001,30001,1,1\n",
    );
    writeFileSync(trades, "ts,venue,symbol,price,qty,side\n1767614400500,venue-a,BTC-USD,30001,0.1,buy\n");
    const lax = tse("backtest", "--data", quotes, "--trades", trades, "--strategy", "market-making", "--out", dir);
    expect(lax.code).toBe(0);
    expect(lax.stdout).toMatch(/data issues 1/);
    const strict = tse("backtest", "--data", quotes, "--trades", trades, "--strategy", "market-making", "--strict");
    expect(strict.code).toBe(1);
    expect(strict.stderr.trim()).toMatch(/q\.csv: line 3, column 5 \(ask\): locked quote/);
  });

  it("bad input is one clear line on stderr and a non-zero exit", { timeout: 120_000 }, () => {
    const unknown = tse("backtest", "--data", "data/sample-l1.csv", "--strategy", "nope");
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr.trim().split("\n")).toHaveLength(1);
    expect(unknown.stderr).toContain('strategy="nope"');

    const dir = mkdtempSync(join(tmpdir(), "tse-cli-"));
    const bad = join(dir, "bad.csv");
    writeFileSync(bad, "ts,venue,symbol,bid,ask,bid_size,ask_size\n2026-01-05T12:00:00Z,venue-a,BTC-USD,x,1,1,1\n");
    const csv = tse("backtest", "--data", bad, "--strategy", "market-making", "--out", dir);
    expect(csv.code).not.toBe(0);
    expect(csv.stderr.trim().split("\n").at(-1)).toMatch(/line 2, column 4 \(bid\)/);

    const help = tse("backtest", "--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Examples:");
    expect(help.stdout).toContain("--strategy <name>");
  });
});
