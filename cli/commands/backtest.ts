// `tse backtest --data <file.csv> --strategy <name> [--config <file>] [--strategy-module <file>] [--out <dir>] [--seed n]`
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import cliProgress from "cli-progress";
import { type Command, InvalidArgumentError } from "commander";
import type { CsvReadProgress } from "../../lib/backtest/csv";
import { runBacktestFile } from "../../lib/backtest/runBacktestFile";
import {
  backtestConfigFrom,
  type LoadedConfig,
  loadConfigFile,
  loadStrategyModules,
} from "../../lib/config/engineConfig";
import { listStrategies } from "../../lib/domain/strategies/registry";
import { formatSharpeSummary } from "../../lib/report/format";

function integer(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(`${name}=${JSON.stringify(v)}: expected an integer`);
    return n;
  };
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

interface BacktestFlags {
  data: string;
  trades?: string;
  strict?: boolean;
  strategy: string;
  config?: string;
  strategyModule?: string[];
  out?: string;
  seed?: number;
}

/** A bar on a terminal, a plain line per ~10 % otherwise. */
function progressReporter(): { update(p: CsvReadProgress): void; done(): void; stop(): void } {
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: "backtest [{bar}] {percentage}% | {rows} rows | {eta}s left", stream: process.stderr },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(p) {
        if (!started) {
          bar.start(Math.max(1, p.totalBytes), 0, { rows: 0 });
          started = true;
        }
        bar.update(Math.min(p.bytesRead, p.totalBytes), { rows: p.rows });
      },
      done() {
        if (started) bar.stop();
        started = false;
      },
      stop() {
        if (started) bar.stop();
      },
    };
  }
  let nextPct = 10;
  let last: CsvReadProgress | undefined;
  let printedRows = -1;
  const print = (p: CsvReadProgress, pct: number) => {
    console.error(`backtest: ${pct}% (${p.rows} rows)`);
    printedRows = p.rows;
  };
  return {
    update(p) {
      last = p;
      // Bytes are read ahead in 1 MB chunks, so the percentage leads the rows processed.
      const pct = p.totalBytes > 0 ? Math.min(99, Math.floor((p.bytesRead / p.totalBytes) * 100)) : 0;
      if (pct >= nextPct) {
        print(p, pct);
        nextPct = Math.floor(pct / 10) * 10 + 10;
      }
    },
    done() {
      if (last && last.rows !== printedRows) print(last, 100);
    },
    stop() {},
  };
}

export function registerBacktestCommand(program: Command): Command {
  const names = listStrategies()
    .map((s) => s.name)
    .join(", ");
  return program
    .command("backtest")
    .description(
      "replay L1 quotes and trade prints from CSV (or .csv.gz) through a strategy, the risk engine, simulated matching and accounting",
    )
    .requiredOption(
      "--data <file.csv>",
      "quotes (ts,venue,symbol,bid,ask,bid_size,ask_size), or quotes and trades with a type column; gzip is read directly",
    )
    .option("--trades <file.csv>", "trade prints ts,venue,symbol,price,qty,side (aggressor), merged by time")
    .option("--strict", "any data-quality issue (locked, duplicate, zero size, gap, out of order) is an error")
    .requiredOption("--strategy <name>", `strategy to run (${names})`)
    .option(
      "--config <file>",
      "configuration file, YAML or JSON (docs/configuration.md; the same file tse start and tse synth take)",
    )
    .option("--strategy-module <file>", "load a strategy plug-in from this file (repeatable)", collect)
    .option("--out <dir>", "directory for report.json (default reports/<run-id>)")
    .option("--seed <n>", "seed for strategies that use randomness (recorded in the report)", integer("--seed"))
    .addHelpText(
      "after",
      `
Examples:
  $ npm run backtest -- --data data/sample-l1.csv --strategy market-making
  $ npm run backtest -- --data quotes.csv.gz --trades trades.csv.gz --strategy market-making --strict
  $ npm run backtest -- --data data/sample-l1.csv --strategy arbitrage --out reports/arb
  $ npm run backtest -- --data quotes.csv --strategy avellaneda-stoikov --config as.yaml --seed 7
  $ npm run backtest -- --data data/sample-l1.csv --strategy spread-joiner \
      --strategy-module examples/strategies/spreadJoiner.ts
  $ tse report reports/arb/report.json     # render the HTML report

Docs: docs/backtest.md (CSV format, config file, report fields, metric conventions).`,
    )
    .action(async (flags: BacktestFlags) => {
      const runId = `bt-${new Date().toISOString().replace(/[:.]/g, "-")}-${randomUUID().slice(0, 8)}`;
      const outDir = flags.out ?? join("reports", runId);
      const progress = progressReporter();
      try {
        const file: LoadedConfig | undefined = flags.config
          ? loadConfigFile(flags.config, { strategy: flags.strategy })
          : undefined;
        if (file?.notice) console.error(`tse backtest: ${file.notice}`);
        await loadStrategyModules([...(flags.strategyModule ?? []), ...(file?.strategyModules ?? [])]);
        const config = file ? backtestConfigFrom(file, flags.strategy) : undefined;
        const { report, reportPath } = await runBacktestFile({
          dataFile: flags.data,
          ...(flags.trades !== undefined ? { tradesFile: flags.trades } : {}),
          ...(flags.strict ? { strict: true } : {}),
          strategy: flags.strategy,
          outDir,
          runId,
          onProgress: (p) => progress.update(p),
          ...(config ? { config } : {}),
          ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
        });
        progress.done();
        const m = report.metrics;
        console.log(
          `${report.strategy}: ${report.meta?.ticks ?? 0} ticks, ${m.tradeCount} trades, total PnL ${m.totalPnl} ` +
            `(realized ${m.realizedPnl}, unrealized ${m.unrealizedPnl}, fees ${m.fees}), ` +
            `${formatSharpeSummary(m)}, max drawdown ${m.maxDrawdownPct.toFixed(3)}%, ` +
            `risk ${report.risk?.finalState ?? "ACTIVE"}, fills ${report.fillModel?.kind ?? "?"}, ` +
            `data issues ${Object.values(report.dataQuality?.counts ?? {}).reduce((a, b) => a + b, 0)}`,
        );
        console.log(reportPath);
      } catch (err) {
        progress.stop();
        console.error(`tse backtest: ${err instanceof Error ? err.message : String(err)}`);
        process.exitCode = 1;
      }
    });
}
