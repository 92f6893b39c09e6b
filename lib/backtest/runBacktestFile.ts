// I/O shell around the pure backtest engine: read the config file, stream the CSV through the engine,
// write <out>/report.json. Errors are typed and name the file, field/line and value.
import { randomUUID } from "node:crypto";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { BacktestEngine } from "../domain/backtest/BacktestEngine";
import { InvalidFieldError } from "../domain/errors";
import { DEFAULT_INSTRUMENTS, DEFAULT_VENUES, instrumentFromConfig, venueFromConfig } from "../domain/instruments";
import { parseRiskLimits } from "../domain/risk";
import { createStrategy, hasStrategy, listStrategies, parseConfigFor } from "../domain/strategies/registry";
import { seededRng } from "../domain/strategies/Strategy";
import type { Report } from "../report/reportSchema";
import { type CsvReadProgress, readQuotesCsv } from "./csv";
import { backtestToReport } from "./report";

/** `--config` file. Every key is optional; unknown keys are an error. */
export const BacktestConfigFileSchema = z
  .object({
    /** Config of the strategy named by --strategy (validated by its own schema). */
    strategy: z.record(z.string(), z.unknown()).optional(),
    /** Strategy id used for orders/positions (default: the strategy name). */
    strategyId: z.string().min(1).optional(),
    /** Risk limits (lib/domain/risk/limits.ts); defaults apply to what is omitted. */
    risk: z.record(z.string(), z.unknown()).optional(),
    instruments: z.array(z.unknown()).optional(),
    venues: z.array(z.unknown()).optional(),
    /** Starting balances, e.g. { "USD": "1000000" }. */
    initialCash: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
    /** Equity sampling period (ms of data time); also the Sharpe period. */
    equitySampleMs: z.number().int().positive().optional(),
    timerMs: z.number().int().positive().optional(),
  })
  .strict();
export type BacktestConfigFile = z.infer<typeof BacktestConfigFileSchema>;

export class BacktestConfigError extends InvalidFieldError {
  override name = "BacktestConfigError";
}

/** A data row the engine refused (unknown venue/symbol…), with its line. */
export class BacktestDataError extends Error {
  override name = "BacktestDataError";
  constructor(
    readonly file: string,
    readonly line: number,
    override readonly cause: unknown,
  ) {
    super(`${file}: line ${line}: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

export async function loadBacktestConfig(path: string): Promise<BacktestConfigFile> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, "utf8"));
  } catch (e) {
    throw new BacktestConfigError("config", path, e instanceof Error ? e.message : String(e));
  }
  const r = BacktestConfigFileSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    let value: unknown = raw;
    for (const k of issue.path) value = value == null ? undefined : (value as Record<PropertyKey, unknown>)[k];
    throw new BacktestConfigError(`config.${issue.path.join(".")}`, value, `${issue.message} (in ${path})`);
  }
  return r.data;
}

export interface BacktestRunOptions {
  dataFile: string;
  strategy: string;
  config?: BacktestConfigFile;
  outDir: string;
  seed?: number;
  runId?: string;
  onProgress?: (p: CsvReadProgress) => void;
}

export interface BacktestRunResult {
  report: Report;
  reportPath: string;
}

export async function runBacktestFile(opts: BacktestRunOptions): Promise<BacktestRunResult> {
  if (!hasStrategy(opts.strategy))
    throw new InvalidFieldError(
      "strategy",
      opts.strategy,
      `unknown strategy; one of: ${listStrategies()
        .map((s) => s.name)
        .join(", ")}`,
    );
  const cfg = opts.config ?? {};
  const size = (await stat(opts.dataFile).catch(() => undefined))?.size;
  if (size === undefined) throw new InvalidFieldError("data", opts.dataFile, "file not found");
  const strategyConfig = cfg.strategy ?? {};
  const strategy = createStrategy(
    opts.strategy,
    cfg.strategyId ?? opts.strategy,
    strategyConfig,
    opts.seed !== undefined ? { rng: seededRng(opts.seed) } : {},
  );
  const engine = new BacktestEngine({
    strategies: [strategy],
    instruments: cfg.instruments ? cfg.instruments.map(instrumentFromConfig) : DEFAULT_INSTRUMENTS,
    venues: cfg.venues ? cfg.venues.map(venueFromConfig) : DEFAULT_VENUES,
    riskLimits: parseRiskLimits(cfg.risk ?? {}),
    ...(cfg.initialCash ? { initialCash: cfg.initialCash } : {}),
    ...(cfg.equitySampleMs ? { equitySampleMs: cfg.equitySampleMs } : {}),
    ...(cfg.timerMs ? { timerMs: cfg.timerMs } : {}),
  });
  for await (const { quote, line } of readQuotesCsv(opts.dataFile, opts.onProgress, size)) {
    try {
      engine.onQuote(quote);
    } catch (e) {
      throw new BacktestDataError(opts.dataFile, line, e);
    }
  }
  const result = engine.finish();
  const report = backtestToReport(result, {
    strategy: opts.strategy,
    runId: opts.runId ?? `bt-${randomUUID()}`,
    dataFile: opts.dataFile,
    config: {
      strategy: jsonable(parseConfigFor(opts.strategy, strategyConfig)),
      ...(cfg.risk ? { risk: cfg.risk } : {}),
    },
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
  });
  await mkdir(opts.outDir, { recursive: true });
  const reportPath = join(opts.outDir, "report.json");
  await writeFile(reportPath, `${JSON.stringify(report, null, 2)}\n`);
  return { report, reportPath };
}

/** Decimals → strings (decimal.js toJSON) so the effective config can be recorded in the report. */
function jsonable(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v));
}
