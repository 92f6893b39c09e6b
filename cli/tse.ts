// tse: the engine's command line. Subcommands register themselves from cli/commands/.
import { Command } from "commander";
import { registerBacktestCommand } from "./commands/backtest";
import { registerSimCommand } from "./commands/sim";

const program = new Command("tse").description("trading-system-engine").showHelpAfterError();
registerSimCommand(program);
registerBacktestCommand(program);

await program.parseAsync(process.argv);
