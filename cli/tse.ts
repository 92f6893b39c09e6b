// tse: the engine's command line. Subcommands register themselves from cli/commands/.
import { Command } from "commander";
import { registerSimCommand } from "./commands/sim";

const program = new Command("tse").description("trading-system-engine").showHelpAfterError();
registerSimCommand(program);

await program.parseAsync(process.argv);
