// `tse config validate <file>`: zod-validate a configuration seed (YAML or JSON) before anything loads it.
import type { Command } from "commander";
import { validateConfigFile } from "../../lib/config/configFile";

export function registerConfigCommand(program: Command): Command {
  const config = program.command("config").description("configuration files");
  config
    .command("validate")
    .description("check a configuration seed (config/defaults.yaml format): risk limits, strategies, instruments")
    .argument("<file>", "YAML or JSON: { environments: { <env>: { trading, risk, strategies, ... } } }")
    .addHelpText(
      "after",
      `
Examples:
  $ tse config validate config/defaults.yaml
  $ tse config validate my-limits.json

Errors name the field path and the value, e.g.
  my.yaml: environments.default.risk.limits.max_order_size="-1": must be > 0
Keys: docs/session-and-cli.md#configuration-reference`,
    )
    .action(async (file: string) => {
      try {
        const s = await validateConfigFile(file);
        console.log(
          `${s.file}: valid (${s.environments.length} environment(s): ${s.environments.join(", ")}; ${s.keys} keys)`,
        );
      } catch (err) {
        console.error(`tse config validate: ${err instanceof Error ? err.message : String(err)}`);
        process.exitCode = 1;
      }
    });
  return config;
}
