// I/O shell around the pure backtest engine: read the config file, stream the CSV through the engine,
// write <out>/report.json. Errors are typed and name the file, field/line and value.
import { randomUUID } from "node:crypto";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import * as z from "zod";
import { InvalidFieldError } from "../domain/errors";
import { DEFAULT_INSTRUMENTS, DEFAULT_VENUES, instrumentFromConfig, venueFromConfig } from "../domain/instruments";
import { parseRiskLimits } from "../domain/risk";
import { createStrategy, hasStrategy, listStrategies, parseConfigFor } from "../domain/strategies/registry";
import { seededRng } from "../domain/strategies/Strategy";
import type { Report } from "../report/reportSchema";
import { type CsvReadProgress, readMarketCsv } from "./csv";
import { DataQualityMonitor, type DataQualityReport } from "./dataQuality";
import { BacktestEngine } from "./engine/BacktestEngine";
import { FillModelConfigSchema } from "./engine/fills/fillModel";
import { LatencyConfigSchema } from "./engine/latency";
import { type BacktestEvent, isTradePrint } from "./engine/marketEvents";
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
    /** Fill model of resting orders (default queue-risk-averse). */
    fillModel: FillModelConfigSchema.optional(),
    /** Feed / order / ack latency in ms, constant or { kind: "uniform" | "lognormal", … }. */
    latency: LatencyConfigSchema.optional(),
    /** Pace placements to risk.maxOrdersPerSecond before the risk engine (default true). */
    throttle: z.boolean().optional(),
    /** Valuation currency and a rate (fixed, or { series: "USDT-USD" } in the data) per other currency. */
    valuation: z
      .object({
        currency: z.string().min(1).optional(),
        rates: z
          .record(z.string(), z.union([z.string(), z.number(), z.object({ series: z.string().min(1) }).strict()]))
          .optional(),
      })
      .strict()
      .optional(),
    dataQuality: z.object({ gapMs: z.number().positive().optional() }).strict().optional(),
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
  /** A separate trades file (ts,venue,symbol,price,qty,side), merged with dataFile by time. */
  tradesFile?: string;
  /** Any data-quality issue is an error with its line and column. */
  strict?: boolean;
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
  if (opts.tradesFile !== undefined && !(await stat(opts.tradesFile).catch(() => undefined)))
    throw new InvalidFieldError("trades", opts.tradesFile, "file not found");
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
    ...(cfg.fillModel ? { fillModel: cfg.fillModel } : {}),
    ...(cfg.latency ? { latency: cfg.latency } : {}),
    ...(cfg.throttle !== undefined ? { throttle: cfg.throttle } : {}),
    ...(cfg.valuation ? { valuation: cfg.valuation } : {}),
  });
  const quality = { strict: opts.strict ?? false, ...cfg.dataQuality };
  const read = (file: string, monitor: DataQualityMonitor, progress: boolean) =>
    tagged(
      file,
      readMarketCsv(file, {
        ...(progress && opts.onProgress ? { onProgress: opts.onProgress, totalBytes: size } : {}),
        check: (ev, line, h, raw) => monitor.check(file, ev, line, h, raw),
      }),
    );
  const monitors = [new DataQualityMonitor(quality)];
  let events = read(opts.dataFile, monitors[0]!, true);
  if (opts.tradesFile !== undefined) {
    monitors.push(new DataQualityMonitor(quality));
    events = mergeByTime(events, read(opts.tradesFile, monitors[1]!, false));
  }
  for await (const { event, line, file } of events) {
    try {
      if (isTradePrint(event)) engine.onTrade(event);
      else engine.onQuote(event);
    } catch (e) {
      throw new BacktestDataError(file, line, e);
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
    ...(opts.tradesFile !== undefined ? { tradesFile: opts.tradesFile } : {}),
    dataQuality: combine(monitors.map((m) => m.report())),
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

interface FileEvent {
  event: BacktestEvent;
  line: number;
  file: string;
}

async function* tagged(file: string, it: AsyncIterable<{ event: BacktestEvent; line: number }>) {
  for await (const x of it) yield { ...x, file } as FileEvent;
}

/** Merge two time-ordered streams; on equal times the second (trades) goes first. */
async function* mergeByTime(a: AsyncGenerator<FileEvent>, b: AsyncGenerator<FileEvent>): AsyncGenerator<FileEvent> {
  let x = await a.next();
  let y = await b.next();
  while (!x.done || !y.done) {
    if (y.done || (!x.done && x.value.event.ts < y.value.event.ts)) {
      yield x.value as FileEvent;
      x = await a.next();
    } else {
      yield y.value as FileEvent;
      y = await b.next();
    }
  }
}

/** One data-quality section over several files. */
function combine(rs: DataQualityReport[]): DataQualityReport {
  const out: DataQualityReport = { ...rs[0]!, counts: { ...rs[0]!.counts }, examples: [...rs[0]!.examples] };
  for (const r of rs.slice(1)) {
    out.rows += r.rows;
    for (const k of Object.keys(out.counts) as (keyof DataQualityReport["counts"])[]) out.counts[k] += r.counts[k];
    out.examples.push(...r.examples);
  }
  return out;
}
