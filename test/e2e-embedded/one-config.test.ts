// One configuration file drives `tse backtest`, `tse start` and `tse synth`, and loads the README's worked plug-in
// (examples/strategies/spreadJoiner.ts) from outside the engine's tree, in a backtest and in a session, with
// nothing under lib/ naming it. The file's low order-rate limit reaches the backtester, the session's quoter and
// the deployed functions' settings.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { ConfigServiceSettingsSource } from "../../lib/app/settings";
import { layeredDocument, loadConfigFile, loadStrategyModules } from "../../lib/config/engineConfig";
import type { Report } from "../../lib/report/reportSchema";
import { LocalSession } from "../../session/LocalSession";

const run = promisify(execFile);
const TSE = join(process.cwd(), "bin", "tse.mjs");
const PLUGIN = join(process.cwd(), "examples", "strategies", "spreadJoiner.ts");
const dir = mkdtempSync(join(tmpdir(), "tse-one-config-"));
const CONFIG = join(dir, "run.yaml");
writeFileSync(
  CONFIG,
  `strategyModules: [${JSON.stringify(PLUGIN)}]
environments:
  default:
    risk:
      engine_limits: { type: json, value: { maxOrdersPerSecond: 5 } }
    strategies:
      spread_joiner: { type: json, value: { min_spread_bps: 0.5, order_quantity: "0.01" } }
      arbitrage: { type: json, value: { venues: [venue-a, venue-b], min_edge_bps: 12 } }
`,
);

// Without AWS credentials, as on a fresh machine: with the LocalStack endpoint the global setup exports, the CDK
// CLI would resolve an account, look up availability zones and write cdk.context.json into the checkout.
const offlineEnv = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !k.startsWith("AWS_") && !k.startsWith("CDK_DEFAULT_")),
);
async function tse(args: string[], timeout = 120_000) {
  const r = await run(process.execPath, [TSE, ...args], { timeout, maxBuffer: 64 * 1024 * 1024, env: offlineEnv });
  return r;
}
const readReport = (d: string) => JSON.parse(readFileSync(join(d, "report.json"), "utf8")) as Report;

describe("one configuration file for backtest, start and synth", () => {
  it("nothing under lib/ imports the plug-in: it is loaded from examples/ by path", () => {
    expect(readFileSync("lib/domain/strategies/index.ts", "utf8")).not.toMatch(/spreadJoiner|spread-joiner/);
  });

  it("tse backtest: the plug-in trades with the file's config and risk limits", async () => {
    const out = join(dir, "bt");
    const r = await tse([
      "backtest",
      "--data",
      "data/sample-l1.csv",
      "--strategy",
      "spread-joiner",
      "--config",
      CONFIG,
      "--out",
      out,
    ]);
    expect(r.stdout).toContain("spread-joiner: 4000 ticks");
    const report = readReport(out);
    expect(report.config).toMatchObject({ strategy: { minSpreadBps: 0.5 }, risk: { maxOrdersPerSecond: 5 } });
    expect(report.trades.length).toBeGreaterThan(0);
    expect(report.trades.every((t) => t.strategyId === "spread-joiner")).toBe(true);
  }, 120_000);

  it("tse backtest --strategy-module loads the plug-in without a config file", async () => {
    const out = join(dir, "bt2");
    await tse([
      "backtest",
      "--data",
      "data/sample-l1.csv",
      "--strategy",
      "spread-joiner",
      "--strategy-module",
      PLUGIN,
      "--out",
      out,
    ]);
    expect(readReport(out).strategy).toBe("spread-joiner");
  }, 120_000);

  it("tse start: the session runs the plug-in in its quoter, under the file's order-rate limit", async () => {
    const out = join(dir, "session");
    const r = await tse(
      [
        "start",
        "--duration",
        "8",
        "--ephemeral-ports",
        "--strategy",
        "spread-joiner",
        "--strategy",
        "arbitrage",
        "--config",
        CONFIG,
        "--out",
        out,
      ],
      120_000,
    );
    expect(r.stderr).toContain(`strategies spread-joiner, arbitrage, config ${CONFIG} over config/defaults.yaml`);
    const report = readReport(out);
    expect(report.strategy).toBe("spread-joiner,arbitrage");
    // spread-joiner re-quotes on every quote while its order is in flight: 5 orders/s (the file's limit, not the
    // session's default 50) is hit, and the rate-limit breaker halts it.
    const quoterDenials = (report.risk?.denials as { quoter?: Record<string, number> } | undefined)?.quoter ?? {};
    expect(Object.values(quoterDenials).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(JSON.stringify(report.risk?.events ?? [])).toContain("breaker-rate-limit");
  }, 120_000);

  it("in a session the file's risk limits reach the quoter and the functions' settings", async () => {
    const cfg = loadConfigFile(CONFIG);
    await loadStrategyModules(cfg.strategyModules);
    const seed = join(dir, "seed.json");
    writeFileSync(seed, JSON.stringify(layeredDocument([cfg])));
    const session = await LocalSession.start({
      mode: "embedded",
      scenario: "DIVERGENCE",
      seed: 1,
      strategies: ["spread-joiner", "arbitrage"],
      ephemeralPorts: true,
      configFile: seed,
      outDir: join(dir, "in-process"),
      log: () => {},
    });
    try {
      expect(session.quoter.risk.limits.maxOrdersPerSecond).toBe(5);
      // The functions read their settings from the session's configuration service, as the session's deps do.
      const settings = await new ConfigServiceSettingsSource(session.peers.config).get();
      expect(settings.riskLimits).toEqual({ maxOrdersPerSecond: 5 });
      expect(settings.arbitrage.minSpreadBps).toBe(12);
      expect(session.quoter.listStrategies().map((s) => s.id)).toContain("spread-joiner-1");
    } finally {
      await session.stop("test");
    }
  }, 120_000);

  it("tse start --strategy-module loads the plug-in without a config file", async () => {
    const out = join(dir, "session2");
    const r = await tse([
      "start",
      "--duration",
      "3",
      "--ephemeral-ports",
      "--strategy",
      "spread-joiner",
      "--strategy-module",
      PLUGIN,
      "--out",
      out,
    ]);
    expect(r.stdout.trim().split("\n").at(-1)).toBe(join(out, "report.json"));
    expect(readReport(out).strategy).toBe("spread-joiner");
  }, 120_000);

  it("tse synth: the plug-in is bundled into every function and the quoter image; the limits reach the functions", async () => {
    const out = join(dir, "cdk.out");
    await tse(["synth", "--config", CONFIG, "--out", out], 400_000);
    const template = JSON.parse(readFileSync(join(out, "TradingEngine-dev.template.json"), "utf8")) as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    };
    const fn = Object.values(template.Resources).find((r) => r.Type === "AWS::Lambda::Function")!;
    const vars = (fn.Properties.Environment as { Variables: Record<string, string> }).Variables;
    const settings = JSON.parse(vars.TSE_SETTINGS!);
    expect(settings.riskLimits).toEqual({ maxOrdersPerSecond: 5 });
    expect(settings.arbitrage).toMatchObject({ minSpreadBps: 12 });
    const assets = JSON.parse(readFileSync(join(out, "TradingEngine-dev.assets.json"), "utf8")) as {
      files: Record<string, { source: { path: string } }>;
      dockerImages: Record<string, { source: { directory: string; dockerBuildArgs?: Record<string, string> } }>;
    };
    const bundles = readdirSync(out)
      .map((d) => join(out, d, "index.mjs"))
      .filter((f) => existsSync(f));
    expect(bundles).toHaveLength(5);
    for (const b of bundles) expect(readFileSync(b, "utf8"), b).toContain("spread-joiner");
    const image = Object.values(assets.dockerImages)[0]!.source;
    expect(image.dockerBuildArgs).toEqual({ STRATEGY_MODULES: "examples/strategies/spreadJoiner.ts" });
    expect(existsSync(join(out, image.directory, "examples", "strategies", "spreadJoiner.ts"))).toBe(true);
  }, 400_000);
});
