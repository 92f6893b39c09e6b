// One configuration format (docs/configuration.md): the seed format in YAML or JSON for every use, old-style
// backtest JSON translated (or refused naming the new key), both uses validated, `explain` naming the file.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadBacktestConfig } from "../../lib/backtest/runBacktestFile";
import { CONFIG_KEY_DOCS, explainKey, explainSources } from "../../lib/config/configKeys";
import {
  backtestConfigFrom,
  checkUses,
  DEFAULTS_FILE,
  functionSettingsFrom,
  layeredDocument,
  loadConfigFile,
  loadStrategyModules,
  strategyConfigFromSeed,
  strategyConfigToSeed,
} from "../../lib/config/engineConfig";

const dir = mkdtempSync(join(tmpdir(), "tse-config-"));
const write = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

const YAML = `
environments:
  default:
    risk:
      engine_limits: { type: json, value: { maxOrdersPerSecond: 5, dailyLossLimit: -2000 } }
    strategies:
      market_making: { type: json, value: { spread_bps: 12, quote_size: "0.02", max_inventory: "0.4" } }
      arbitrage: { type: json, value: { venues: [venue-a, venue-b], min_edge_bps: 15, signal_ttl_ms: 3000 } }
    backtest:
      initial_cash: { type: json, value: { USD: "500000" } }
      equity_sample_ms: 2000
`;

describe("one configuration format", () => {
  it("YAML and the same document as JSON give the same backtest config", () => {
    const y = loadConfigFile(write("run.yaml", YAML));
    const asJson = JSON.stringify({
      environments: {
        default: {
          risk: { engine_limits: { type: "json", value: { maxOrdersPerSecond: 5, dailyLossLimit: -2000 } } },
          strategies: {
            market_making: { type: "json", value: { spread_bps: 12, quote_size: "0.02", max_inventory: "0.4" } },
            arbitrage: {
              type: "json",
              value: { venues: ["venue-a", "venue-b"], min_edge_bps: 15, signal_ttl_ms: 3000 },
            },
          },
          backtest: { initial_cash: { type: "json", value: { USD: "500000" } }, equity_sample_ms: 2000 },
        },
      },
    });
    const j = loadConfigFile(write("run.json", asJson));
    const bt = backtestConfigFrom(y, "market-making");
    expect(backtestConfigFrom(j, "market-making")).toEqual(bt);
    expect(bt).toEqual({
      strategy: { spreadBps: 12, orderQuantity: "0.02", maxPosition: "0.4" },
      risk: { maxOrdersPerSecond: 5, dailyLossLimit: -2000 },
      initialCash: { USD: "500000" },
      equitySampleMs: 2000,
    });
    // The functions read the same risk limits and the arbitrage section (seed spellings mapped).
    expect(functionSettingsFrom(y)).toMatchObject({
      riskLimits: { maxOrdersPerSecond: 5 },
      arbitrage: { venues: ["venue-a", "venue-b"], minSpreadBps: 15, signalTtlMs: 3000 },
    });
    expect(checkUses(y).strategies).toEqual(["market-making", "arbitrage"]);
  });

  it("an old-style backtest JSON keeps working: same backtest config as before, and a notice naming the new keys", async () => {
    const old = write(
      "old.json",
      JSON.stringify({
        strategy: { spreadBps: 12, orderQuantity: "0.02", levelSpacingBps: 3 },
        strategyId: "mm-x",
        risk: { maxOrdersPerSecond: 5 },
        initialCash: { USD: "500000" },
        equitySampleMs: 2000,
        timerMs: 500,
      }),
    );
    const cfg = loadConfigFile(old, { strategy: "market-making" });
    expect(cfg.notice).toContain("strategy -> environments.default.strategies.market_making");
    expect(cfg.notice).toContain("risk -> environments.default.risk.engine_limits");
    expect(cfg.notice).toContain("initialCash -> environments.default.backtest.initial_cash");
    expect(backtestConfigFrom(cfg, "market-making")).toEqual(await loadBacktestConfig(old));
  });

  it("an old-style file with a bad or unknown key fails naming it (and the new key)", () => {
    const bad = write("bad-old.json", JSON.stringify({ equitySampleMs: -5 }));
    expect(() => loadConfigFile(bad)).toThrow(
      /equitySampleMs=-5: .*the new key is environments\.default\.backtest\.equity_sample_ms/,
    );
    const typo = write("typo-old.json", JSON.stringify({ risks: {} }));
    expect(() => loadConfigFile(typo)).toThrow(
      /risks=\{\}: unknown key \(a configuration file has a top-level `environments`/,
    );
  });

  it("both uses are checked: engine limits, each strategy's own schema and keys, plug-ins need their module", async () => {
    const limits = write(
      "l.yaml",
      "environments:\n  default:\n    risk:\n      engine_limits: { type: json, value: { maxOrdersPerSecond: -1 } }\n",
    );
    expect(() => checkUses(loadConfigFile(limits))).toThrow(/risk\.engine_limits=.*maxOrdersPerSecond/);
    const key = write(
      "k.yaml",
      "environments:\n  default:\n    strategies:\n      avellaneda_stoikov: { type: json, value: { gama: 0.1 } }\n",
    );
    expect(() => checkUses(loadConfigFile(key))).toThrow(/strategies\.avellaneda_stoikov\.gama=0\.1: unknown key/);
    const plugin = write(
      "p.yaml",
      "environments:\n  default:\n    strategies:\n      spread_joiner: { type: json, value: { min_spread_bps: 1 } }\n",
    );
    expect(() => checkUses(loadConfigFile(plugin))).toThrow(
      /strategies\.spread_joiner=.*a plug-in needs strategyModules/,
    );
    const withModule = write(
      "pm.yaml",
      `strategyModules: [${join(process.cwd(), "examples/strategies/spreadJoiner.ts")}]\n` +
        "environments:\n  default:\n    strategies:\n      spread_joiner: { type: json, value: { min_spread_bps: -1 } }\n",
    );
    const cfg = loadConfigFile(withModule);
    await loadStrategyModules(cfg.strategyModules);
    expect(() => checkUses(cfg)).toThrow(/strategies\.spread_joiner=.*minSpreadBps/);
  });

  it("strategy sections: seed spellings and the strategy's own keys map both ways", () => {
    expect(
      strategyConfigFromSeed("market-making", { type: "json", value: '{"quote_size":"0.1","refresh_ms":250}' }),
    ).toEqual({
      orderQuantity: "0.1",
    });
    const own = { minSpreadBps: 9, maxQuantity: "0.2", cooldownMs: 5 };
    expect(strategyConfigToSeed("arbitrage", own)).toEqual({ min_edge_bps: 9, max_size: "0.2", cooldown_ms: 5 });
    expect(strategyConfigFromSeed("arbitrage", strategyConfigToSeed("arbitrage", own))).toEqual(own);
  });

  it("a session's seed is config/defaults.yaml with the file over it", () => {
    const cfg = loadConfigFile(write("s.yaml", YAML));
    const doc = layeredDocument([cfg]) as { environments: Record<string, Record<string, Record<string, unknown>>> };
    expect(doc.environments.default!.risk!.limits).toBeDefined(); // from config/defaults.yaml
    expect(doc.environments.default!.risk!.engine_limits).toEqual({
      type: "json",
      value: { maxOrdersPerSecond: 5, dailyLossLimit: -2000 },
    });
    expect(doc.environments.test).toBeDefined();
  });

  it("explain: meaning, default and the file that set it", () => {
    const file = write("e.yaml", YAML);
    const sources = explainSources(DEFAULTS_FILE, [loadConfigFile(file)], "config/defaults.yaml");
    const limit = explainKey("risk.limits.max_daily_loss", sources);
    expect(limit).toMatchObject({ defaultValue: 5000, value: 5000, setBy: "config/defaults.yaml" });
    const test = explainKey("risk.limits.max_daily_loss", sources, "test");
    expect(test).toMatchObject({ value: 500, setBy: "config/defaults.yaml" });
    const eng = explainKey("risk.engine_limits", sources);
    expect(eng).toMatchObject({ value: { maxOrdersPerSecond: 5, dailyLossLimit: -2000 }, setBy: file });
    expect(eng.doc.meaning).toContain("risk limits");
    const sub = explainKey("strategies.market_making.spread_bps", sources);
    expect(sub).toMatchObject({ documentedAs: "strategies.market_making", defaultValue: 10, value: 12, setBy: file });
    expect(explainKey("backtest.timer_ms", sources)).toMatchObject({ setBy: "built-in default" });
    expect(() => explainKey("risk.limitz", sources)).toThrow(/unknown key "risk.limitz"; keys under it: risk\.limits/);
  });

  it("docs/configuration.md documents every key explain knows", () => {
    const doc = readFileSync("docs/configuration.md", "utf8");
    for (const k of Object.keys(CONFIG_KEY_DOCS)) expect(doc, k).toContain(`\`${k}\``);
  });
});
