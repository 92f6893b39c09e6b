// `tse config validate <file>`: the file checked as a configuration seed (session, deployment) and as a backtest
// config. `tse config explain <key>`: a key's meaning, default and the file that set it. See docs/configuration.md.
import type { Command } from "commander";
import { validateConfigFile } from "../../lib/config/configFile";
import { explainKey, explainSources, formatExplanation, UnknownConfigKeyError } from "../../lib/config/configKeys";
import { checkUses, DEFAULTS_FILE, loadConfigFile, loadStrategyModules } from "../../lib/config/engineConfig";

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function registerConfigCommand(program: Command): Command {
  const config = program.command("config").description("configuration files (docs/configuration.md)");
  config
    .command("validate")
    .description(
      "check a configuration file for both uses: as the session's/deployment's seed and as a backtest config",
    )
    .argument("<file>", "YAML or JSON: { environments: { <env>: { trading, risk, strategies, backtest, ... } } }")
    .option("--strategy <name>", "the strategy an old-style backtest config's `strategy` belongs to")
    .option(
      "--strategy-module <file>",
      "load a strategy plug-in first (repeatable; or the strategyModules key)",
      collect,
    )
    .addHelpText(
      "after",
      `
Examples:
  $ tse config validate config/defaults.yaml
  $ tse config validate my-run.yaml --strategy-module examples/strategies/spreadJoiner.ts
  $ tse config validate old-backtest.json --strategy market-making

Errors name the field path and the value, e.g.
  my.yaml: environments.default.risk.limits.max_order_size="-1": must be > 0
Keys: docs/configuration.md`,
    )
    .action(async (file: string, flags: { strategy?: string; strategyModule?: string[] }) => {
      try {
        const cfg = loadConfigFile(file, flags.strategy ? { strategy: flags.strategy } : {});
        if (cfg.notice) console.error(`tse config validate: ${cfg.notice}`);
        await loadStrategyModules([...(flags.strategyModule ?? []), ...cfg.strategyModules]);
        const s = cfg.notice ? undefined : await validateConfigFile(file);
        const uses = checkUses(cfg);
        const envs = s ? `${s.environments.length} environment(s): ${s.environments.join(", ")}; ${s.keys} keys; ` : "";
        console.log(
          `${file}: valid as a session/deployment seed and as a backtest config (${envs}strategies: ${
            uses.strategies.join(", ") || "none"
          })`,
        );
      } catch (err) {
        console.error(`tse config validate: ${err instanceof Error ? err.message : String(err)}`);
        process.exitCode = 1;
      }
    });
  config
    .command("explain")
    .description("print a key's meaning, who reads it, its default and the file that set it")
    .argument("<key>", "dotted key inside an environment, e.g. risk.engine_limits, or a top-level key (instruments)")
    .option("--config <file>", "configuration file(s) layered over config/defaults.yaml (repeatable)", collect)
    .option("--env <name>", "environment", "default")
    .addHelpText(
      "after",
      `
Examples:
  $ tse config explain risk.limits.max_daily_loss
  $ tse config explain risk.engine_limits --config my-run.yaml
  $ tse config explain strategies.market_making.spread_bps --config my-run.yaml --env test`,
    )
    .action((key: string, flags: { config?: string[]; env: string }) => {
      try {
        const configs = (flags.config ?? []).map((f) => loadConfigFile(f));
        const sources = explainSources(DEFAULTS_FILE, configs, "config/defaults.yaml");
        console.log(formatExplanation(explainKey(key, sources, flags.env), "config/defaults.yaml"));
      } catch (err) {
        const msg = err instanceof UnknownConfigKeyError || err instanceof Error ? err.message : String(err);
        console.error(`tse config explain: ${msg}`);
        process.exitCode = 1;
      }
    });
  return config;
}
