// `tse` as a user runs it: option validation (one clear line naming the option and value, non-zero exit),
// `tse config validate` (field path + value), help with examples on every subcommand.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { validateConfigDocument } from "../../lib/config/configFile";
import type { Report } from "../../lib/report/reportSchema";
import { parseSessionFlags, SessionOptionError } from "../../session/options";

const run = promisify(execFile);
const TSE = join(process.cwd(), "bin", "tse.mjs");

async function tse(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [TSE, ...args], { timeout: 60_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === "number" ? x.code : -1, stdout: x.stdout ?? "", stderr: x.stderr ?? "" };
  }
}

describe("tse start options", () => {
  it("defaults: DIVERGENCE, seed 1, market making + arbitrage, embedded, until Ctrl-C", () => {
    expect(parseSessionFlags({})).toEqual({
      mode: "embedded",
      scenario: "DIVERGENCE",
      seed: 1,
      strategies: ["market-making", "arbitrage"],
    });
  });

  it("parses every option", () => {
    expect(
      parseSessionFlags({
        duration: "60",
        scenario: "volatility_spike",
        seed: "42",
        strategy: ["market-making", "avellaneda_stoikov", "market-making"],
        aws: "local",
        out: "reports/x",
      }),
    ).toEqual({
      mode: "localstack",
      durationS: 60,
      scenario: "VOLATILITY_SPIKE",
      seed: 42,
      strategies: ["market-making", "avellaneda-stoikov"],
      outDir: "reports/x",
    });
  });

  it.each([
    [{ duration: "0" }, "--duration", "0"],
    [{ duration: "soon" }, "--duration", "soon"],
    [{ scenario: "BOGUS" }, "--scenario", "BOGUS"],
    [{ seed: "1.5" }, "--seed", "1.5"],
    [{ seed: "-1" }, "--seed", "-1"],
    [{ strategy: ["market-making", "yolo"] }, "--strategy", "yolo"],
    [{ aws: "prod" }, "--aws", "prod"],
    [{ out: " " }, "--out", " "],
  ])("rejects %j naming the option and the value", (flags, option, value) => {
    let err: unknown;
    try {
      parseSessionFlags(flags);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SessionOptionError);
    expect((err as SessionOptionError).option).toBe(option);
    expect((err as SessionOptionError).message).toContain(`${option} ${JSON.stringify(value)}`);
  });

  it("the CLI prints one line and exits 2 on a bad option", async () => {
    const r = await tse("start", "--scenario", "BOGUS");
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^tse start: invalid --scenario "BOGUS": expected one of RALLY, CRASH, DIVERGENCE/);
  }, 60_000);
});

describe("tse config validate", () => {
  const base = () => ({
    environments: {
      default: {
        risk: { limits: { max_order_size: 1, max_position_size: 2 } },
        strategies: {
          market_making: { type: "json", value: { symbols: ["BTC-USD"], venues: ["venue-a"], spread_bps: 10 } },
        },
      },
    },
  });

  it("accepts config/defaults.yaml", async () => {
    const r = await tse("config", "validate", "config/defaults.yaml");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /config\/defaults\.yaml: valid as a session\/deployment seed and as a backtest config \(3 environment\(s\): default, local, test; \d+ keys; strategies: market-making, arbitrage\)/,
    );
  }, 60_000);

  it("explains a key: meaning, who reads it, default and the file that set it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tse-cfg-"));
    const file = join(dir, "mine.yaml");
    writeFileSync(file, "environments:\n  default:\n    risk:\n      limits:\n        max_daily_loss: 750\n");
    const r = await tse("config", "explain", "risk.limits.max_daily_loss", "--config", file);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("meaning: risk monitor: daily loss that breaches, quote units");
    expect(r.stdout).toContain("default: 5000 (config/defaults.yaml)");
    expect(r.stdout).toContain(`value:   750 (set by ${file})`);
    const bad = await tse("config", "explain", "risk.nope");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('unknown key "risk.nope"');
  }, 60_000);

  it("names the field path and value of a bad limit, exit 1, one line", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tse-cfg-"));
    const file = join(dir, "bad.yaml");
    writeFileSync(file, "environments:\n  default:\n    risk:\n      limits:\n        max_order_size: -1\n");
    const r = await tse("config", "validate", file);
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("environments.default.risk.limits.max_order_size=-1: must be > 0");
  }, 60_000);

  it("rejects a typo'd key, a bad symbol inside a typed JSON value, and a one-venue arbitrage", () => {
    const typo = base();
    (typo.environments.default.risk.limits as Record<string, unknown>).max_ordr_size = 1;
    expect(() => validateConfigDocument(typo, "c.yaml")).toThrow(
      "c.yaml: environments.default.risk.limits.max_ordr_size=1: unknown key",
    );
    const sym = base();
    sym.environments.default.strategies.market_making.value.symbols = ["btcusd"];
    expect(() => validateConfigDocument(sym, "c.yaml")).toThrow(
      /environments\.default\.strategies\.market_making\.symbols\.0="btcusd": symbol must look like BASE-QUOTE/,
    );
    const arb = {
      environments: { default: { strategies: { arbitrage: { type: "json", value: { venues: ["venue-a"] } } } } },
    };
    expect(() => validateConfigDocument(arb, "c.yaml")).toThrow(/arbitrage needs at least two venues/);
  });

  it("a missing file is one clear error", async () => {
    const r = await tse("config", "validate", "/nonexistent/x.yaml");
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('tse config validate: /nonexistent/x.yaml: file="/nonexistent/x.yaml": no such file');
  }, 60_000);
});

describe("tse help", () => {
  it("lists every subcommand, and each has examples", async () => {
    const top = await tse("--help");
    expect(top.code).toBe(0);
    for (const c of ["start", "backtest", "report", "sim", "config", "synth", "deploy"])
      expect(top.stdout).toContain(c);
    for (const sub of [
      ["start"],
      ["backtest"],
      ["report"],
      ["sim"],
      ["config"],
      ["config", "validate"],
      ["synth"],
      ["deploy"],
    ]) {
      const r = await tse(...sub, "--help");
      expect(r.code, sub.join(" ")).toBe(0);
      expect(r.stdout, sub.join(" ")).toContain("Examples:");
    }
  }, 120_000);
});

describe("tse start as a process", () => {
  it("SIGTERM stops it gracefully: report written, its path printed, exit 0", async () => {
    const { spawn } = await import("node:child_process");
    const { existsSync } = await import("node:fs");
    const out = mkdtempSync(join(tmpdir(), "tse-start-"));
    const child = spawn(process.execPath, [TSE, "start", "--ephemeral-ports", "--duration", "600", "--out", out], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    const ready = new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no dashboard line in 40 s: ${stderr}`)), 40_000);
      child.stderr.on("data", (d: Buffer) => {
        stderr += d.toString();
        if (/^dashboard: http:\/\/127\.0\.0\.1:\d+\//m.test(stderr)) {
          clearTimeout(t);
          resolve();
        }
      });
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    try {
      await ready;
      await new Promise((r) => setTimeout(r, 3_000)); // let it trade a little
      const t0 = Date.now();
      child.kill("SIGTERM");
      const code = await Promise.race([exited, new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 30_000))]);
      expect(code).toBe(0);
      expect(Date.now() - t0).toBeLessThan(30_000);
      expect(stderr).toContain("session: stopping (SIGTERM)");
      expect(stdout.trim().split("\n").at(-1)).toBe(join(out, "report.json"));
      expect(existsSync(join(out, "report.json"))).toBe(true);
      expect(existsSync(join(out, "report.html"))).toBe(true);
      // A few seconds of samples: no annualised ratio, the reason, and the per-period Sharpe in its place.
      const report = JSON.parse(readFileSync(join(out, "report.json"), "utf8")) as Report;
      expect(report.metrics.sharpe).toBeNull();
      expect(report.metrics.sortino).toBeNull();
      expect(report.metrics.annualisedNullReason).toMatch(/^not annualised: the sample spans [\d.]+ s \(< 1 day\)/);
      const pp = report.metrics.perPeriodSharpe!;
      expect(pp.periods).toBeGreaterThan(0);
      // Real timestamps: the mean spacing is measured, not assumed to be the nominal 1 s.
      expect(pp.meanPeriodMs).not.toBe(1000);
      const summary = stderr.split("\n").find((l) => l.startsWith("session: ") && l.includes("trades"))!;
      expect(summary).toMatch(/Sharpe (per period -?[\d.]+ \u00b1 [\d.]+ over \d+ periods \(not annualised\)|n\/a)/);
      expect(summary).not.toContain("(annualised)");
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  }, 90_000);
});
