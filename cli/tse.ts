// tse: the engine's command line. Subcommands register themselves from cli/commands/.
import { readFileSync } from "node:fs";
import { Command } from "commander";
import { registerBacktestCommand } from "./commands/backtest";
import { registerCdkCommands } from "./commands/cdk";
import { registerConfigCommand } from "./commands/config";
import { registerMarketDataCommand } from "./commands/marketData";
import { registerReportCommand } from "./commands/report";
import { registerSimCommand } from "./commands/sim";
import { registerStartCommand } from "./commands/start";

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };

const program = new Command("tse")
  .version(pkg.version)
  .description("trading-system-engine: local sessions, backtests, reports, simulators, config checks, CDK")
  .showHelpAfterError()
  .addHelpText(
    "after",
    `
Examples:
  $ tse start --duration 60 --scenario DIVERGENCE   # the local session (npm start)
  $ tse backtest --data data/sample-l1.csv --strategy market-making
  $ tse report reports/<run-id>/report.json
  $ tse sim all
  $ tse market-data tail --endpoint 127.0.0.1:50055 --seconds 30
  $ tse config validate config/defaults.yaml
  $ tse synth --env prod`,
  );
registerStartCommand(program);
registerBacktestCommand(program);
registerReportCommand(program);
registerSimCommand(program);
registerMarketDataCommand(program);
registerConfigCommand(program);
registerCdkCommands(program);

// Examples for commands registered elsewhere without them.
program.commands
  .find((c) => c.name() === "sim")
  ?.addHelpText(
    "after",
    `
Examples:
  $ tse sim all                                   # every simulator on its DESIGN port
  $ tse sim exchange --port 0 --seed 7            # one simulator on an ephemeral port
  $ tse sim market-data --scenario DIVERGENCE --tick-ms 50
Docs: docs/simulators.md`,
  );
program.commands
  .find((c) => c.name() === "config")
  ?.addHelpText(
    "after",
    `
Examples:
  $ tse config validate config/defaults.yaml`,
  );

try {
  await program.parseAsync(process.argv);
} catch (err) {
  console.error(`tse: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
