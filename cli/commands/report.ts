// `tse report <report.json> [--out <file.html>] [--max-trades <n>]`: render the self-contained HTML
// report from a backtest or session report.json.
import { type Command, InvalidArgumentError } from "commander";
import { renderReportFile } from "../../lib/report/renderReportFile";

function positiveInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1)
      throw new InvalidArgumentError(`${name}=${JSON.stringify(v)}: expected an integer >= 1`);
    return n;
  };
}

export function registerReportCommand(program: Command): Command {
  return program
    .command("report")
    .description("render report.html (one self-contained file, works offline) from a report.json")
    .argument("<report.json>", "report written by `tse backtest` or `tse start`")
    .option("--out <file>", "HTML file to write (default: report.html next to the JSON)")
    .option("--max-trades <n>", "rows in the trades table (most recent first kept)", positiveInt("--max-trades"), 500)
    .addHelpText(
      "after",
      `
Examples:
  $ tse report reports/run-1/report.json
  $ tse report out/report.json --out /tmp/run.html --max-trades 2000`,
    )
    .action(async (jsonPath: string, flags: { out?: string; maxTrades: number }) => {
      try {
        const out = await renderReportFile(jsonPath, flags.out, { maxTrades: flags.maxTrades });
        console.log(out);
      } catch (err) {
        console.error(`tse report: ${err instanceof Error ? err.message : String(err)}`);
        process.exitCode = 1;
      }
    });
}
