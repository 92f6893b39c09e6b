// tse: the engine's command line. Subcommands register themselves from cli/commands/.
import { Command } from "commander";
import { registerBacktestCommand } from "./commands/backtest";
import { registerCdkCommands } from "./commands/cdk";
import { registerConfigCommand } from "./commands/config";
import { registerReportCommand } from "./commands/report";
import { registerSimCommand } from "./commands/sim";
import { registerStartCommand } from "./commands/start";

const program = new Command("tse")
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
  $ tse config validate config/defaults.yaml
  $ tse synth --env prod`,
  );
registerStartCommand(program);
registerBacktestCommand(program);
registerReportCommand(program);
registerSimCommand(program);
registerConfigCommand(program);
registerCdkCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  console.error(`tse: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
