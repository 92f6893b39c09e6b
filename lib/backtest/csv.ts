// L1 quote CSV: `ts,venue,symbol,bid,ask,bid_size,ask_size` (header required, columns in any order).
// ts is ISO-8601 (with a date and a time zone or Z) or epoch milliseconds. A malformed row is an
// error naming its line and column — never skipped. The file is streamed line by line.
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { Decimal } from "../domain/decimal";
import { type FastL1Quote, withNums } from "../domain/strategies/quoteMath";

export const CSV_COLUMNS = ["ts", "venue", "symbol", "bid", "ask", "bid_size", "ask_size"] as const;
export type CsvColumn = (typeof CSV_COLUMNS)[number];

export class CsvFormatError extends Error {
  override name = "CsvFormatError";
  constructor(
    readonly file: string,
    readonly line: number,
    /** 1-based column index (0 when the whole line is at fault). */
    readonly column: number,
    readonly columnName: string,
    readonly value: string,
    readonly reason: string,
  ) {
    super(
      `${file}: line ${line}${column > 0 ? `, column ${column} (${columnName})` : ""}: ${reason}` +
        (value !== "" ? ` — got ${JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value)}` : ""),
    );
  }
}

const DECIMAL = /^\d+(\.\d+)?$/;
const EPOCH_MS = /^\d{10,16}$/;
// Date, time, optional fraction, and an explicit zone: ambiguous local times are rejected.
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;
const SYMBOL = /^[A-Z0-9]+-[A-Z0-9]+$/;

export interface CsvHeader {
  /** Index of each required column in a row. */
  index: Record<CsvColumn, number>;
  width: number;
}

export function parseHeader(file: string, line: string): CsvHeader {
  const cols = line
    .replace(/^\uFEFF/, "")
    .split(",")
    .map((c) => c.trim());
  const index = {} as Record<CsvColumn, number>;
  for (const [i, c] of cols.entries()) {
    if (!(CSV_COLUMNS as readonly string[]).includes(c))
      throw new CsvFormatError(file, 1, i + 1, c, c, `unknown column; expected header ${CSV_COLUMNS.join(",")}`);
    if ((c as CsvColumn) in index) throw new CsvFormatError(file, 1, i + 1, c, c, "duplicate column");
    index[c as CsvColumn] = i;
  }
  for (const c of CSV_COLUMNS)
    if (!(c in index))
      throw new CsvFormatError(file, 1, 0, c, line, `missing column "${c}"; expected header ${CSV_COLUMNS.join(",")}`);
  return { index, width: cols.length };
}

export function parseTimestamp(raw: string): number | undefined {
  if (EPOCH_MS.test(raw)) return Number(raw);
  if (ISO.test(raw)) {
    const t = Date.parse(raw);
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}

/** Parse one data row (1-based line number for errors). */
export function parseRow(file: string, lineNo: number, line: string, h: CsvHeader): FastL1Quote {
  const cells = line.split(",");
  if (cells.length !== h.width)
    throw new CsvFormatError(file, lineNo, 0, "", line, `expected ${h.width} columns, found ${cells.length}`);
  const cell = (c: CsvColumn): string => cells[h.index[c]]!.trim();
  const fail = (c: CsvColumn, reason: string): never => {
    throw new CsvFormatError(file, lineNo, h.index[c] + 1, c, cell(c), reason);
  };
  const tsRaw = cell("ts");
  const ts = parseTimestamp(tsRaw);
  if (ts === undefined) fail("ts", "expected ISO-8601 with zone (2026-01-05T12:00:00Z) or epoch milliseconds");
  const venue = cell("venue");
  if (venue === "") fail("venue", "empty venue");
  const symbol = cell("symbol");
  if (!SYMBOL.test(symbol)) fail("symbol", "expected a symbol like BTC-USD");
  const num = (c: CsvColumn, positive: boolean): Decimal => {
    const v = cell(c);
    if (!DECIMAL.test(v)) fail(c, "expected a non-negative decimal number");
    const d = new Decimal(v);
    if (positive && !d.gt(0)) fail(c, "must be > 0");
    return d;
  };
  const bid = num("bid", true);
  const ask = num("ask", true);
  if (ask.lt(bid)) fail("ask", `ask below bid ${bid.toFixed()} (crossed quote)`);
  const bidSize = num("bid_size", false);
  const askSize = num("ask_size", false);
  return withNums({ ts: ts!, venue, symbol, bid, ask, bidSize, askSize });
}

export interface CsvReadProgress {
  bytesRead: number;
  totalBytes: number;
  rows: number;
}

/**
 * Stream quotes from a CSV file in order. Rows must be in non-decreasing ts order; blank lines are
 * allowed only at the end of the file.
 */
export async function* readQuotesCsv(
  file: string,
  onProgress?: (p: CsvReadProgress) => void,
  totalBytes = 0,
): AsyncGenerator<{ quote: FastL1Quote; line: number }> {
  const stream = createReadStream(file, { encoding: "utf8", highWaterMark: 1 << 20 });
  const rl = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  let lineNo = 0;
  let header: CsvHeader | undefined;
  let blankAt = 0;
  let lastTs = Number.NEGATIVE_INFINITY;
  let rows = 0;
  try {
    for await (const raw of rl) {
      lineNo++;
      const line = raw.trimEnd();
      if (line === "") {
        if (blankAt === 0) blankAt = lineNo;
        continue;
      }
      if (blankAt !== 0) throw new CsvFormatError(file, blankAt, 0, "", "", "blank line inside the data");
      if (!header) {
        header = parseHeader(file, line);
        continue;
      }
      const quote = parseRow(file, lineNo, line, header);
      if (quote.ts < lastTs)
        throw new CsvFormatError(
          file,
          lineNo,
          header.index.ts + 1,
          "ts",
          line.split(",")[header.index.ts]!,
          `earlier than the previous row (${new Date(lastTs).toISOString()}); rows must be in time order`,
        );
      lastTs = quote.ts;
      rows++;
      if (onProgress && (rows & 0x3ff) === 0) onProgress({ bytesRead: stream.bytesRead, totalBytes, rows });
      yield { quote, line: lineNo };
    }
  } finally {
    rl.close();
    stream.destroy();
  }
  if (!header) throw new CsvFormatError(file, 1, 0, "", "", "empty file: expected a header line");
  onProgress?.({ bytesRead: stream.bytesRead, totalBytes, rows });
}

/** Serialise quotes to the CSV format (used by the sample-data generator). */
export function quotesToCsv(quotes: Iterable<FastL1Quote>, tsFormat: "iso" | "epoch" = "iso"): string {
  const out: string[] = [CSV_COLUMNS.join(",")];
  for (const q of quotes) {
    const ts = tsFormat === "iso" ? new Date(q.ts).toISOString() : String(q.ts);
    out.push(
      [ts, q.venue, q.symbol, q.bid.toFixed(), q.ask.toFixed(), q.bidSize.toFixed(), q.askSize.toFixed()].join(","),
    );
  }
  return `${out.join("\n")}\n`;
}
