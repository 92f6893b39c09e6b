// Market data CSV: L1 quotes `ts,venue,symbol,bid,ask,bid_size,ask_size`, trade prints
// `ts,venue,symbol,price,qty,side`, or both in one file with a `type` column (header required, columns
// in any order; gzip read directly). ts is ISO-8601 (with a date and a zone) or epoch milliseconds.
// A malformed row is an error naming its line and column — never skipped. Streamed line by line.
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { createInterface } from "node:readline";
import { createGunzip } from "node:zlib";
import { Decimal } from "../domain/decimal";
import { type FastL1Quote, withNums } from "../domain/strategies/quoteMath";
import { type BacktestEvent, isTradePrint, tradePrint } from "./engine/marketEvents";

export const CSV_COLUMNS = ["ts", "venue", "symbol", "bid", "ask", "bid_size", "ask_size"] as const;
export type CsvColumn = (typeof CSV_COLUMNS)[number];
/** A trades file: `side` is the aggressor (buy = lifted the ask, sell = hit the bid). */
export const TRADE_COLUMNS = ["ts", "venue", "symbol", "price", "qty", "side"] as const;
const QUOTE_ONLY = CSV_COLUMNS.slice(3);
const TRADE_ONLY = TRADE_COLUMNS.slice(3);
const KNOWN: readonly string[] = [...CSV_COLUMNS, ...TRADE_ONLY, "type"];
const LAYOUTS = `${CSV_COLUMNS.join(",")} (quotes), ${TRADE_COLUMNS.join(",")} (trades), or both with a type column`;

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
  /** 0-based index of each column present. */
  index: Record<string, number>;
  width: number;
  /** quotes: L1 rows; trades: prints; mixed: a `type` column says which each row is. */
  layout: "quotes" | "trades" | "mixed";
}

export function parseHeader(file: string, line: string): CsvHeader {
  const cols = line
    .replace(/^\uFEFF/, "")
    .split(",")
    .map((c) => c.trim());
  const index: Record<string, number> = {};
  for (const [i, c] of cols.entries()) {
    if (!KNOWN.includes(c)) throw new CsvFormatError(file, 1, i + 1, c, c, `unknown column; expected ${LAYOUTS}`);
    if (c in index) throw new CsvFormatError(file, 1, i + 1, c, c, "duplicate column");
    index[c] = i;
  }
  const layout = "type" in index ? "mixed" : TRADE_ONLY.some((c) => c in index) ? "trades" : "quotes";
  const need: readonly string[] =
    layout === "quotes" ? CSV_COLUMNS : layout === "trades" ? TRADE_COLUMNS : [...CSV_COLUMNS, ...TRADE_ONLY];
  for (const c of need)
    if (!(c in index)) {
      const expected = layout === "quotes" ? CSV_COLUMNS.join(",") : LAYOUTS;
      throw new CsvFormatError(file, 1, 0, c, line, `missing column "${c}"; expected header ${expected}`);
    }
  if (layout === "trades")
    for (const c of QUOTE_ONLY)
      if (c in index)
        throw new CsvFormatError(file, 1, index[c]! + 1, c, c, "quote column in a trades file without a type column");
  return { index, width: cols.length, layout };
}

export function parseTimestamp(raw: string): number | undefined {
  if (EPOCH_MS.test(raw)) return Number(raw);
  if (ISO.test(raw)) {
    const t = Date.parse(raw);
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}

/** Parse one data row (1-based line number for errors) into a quote or a trade print. */
export function parseRow(file: string, lineNo: number, line: string, h: CsvHeader): BacktestEvent {
  const cells = line.split(",");
  if (cells.length !== h.width)
    throw new CsvFormatError(file, lineNo, 0, "", line, `expected ${h.width} columns, found ${cells.length}`);
  const cell = (c: string): string => cells[h.index[c]!]!.trim();
  const fail = (c: string, reason: string): never => {
    throw new CsvFormatError(file, lineNo, h.index[c]! + 1, c, cell(c), reason);
  };
  const tsRaw = cell("ts");
  const ts = parseTimestamp(tsRaw);
  if (ts === undefined) fail("ts", "expected ISO-8601 with zone (2026-01-05T12:00:00Z) or epoch milliseconds");
  const venue = cell("venue");
  if (venue === "") fail("venue", "empty venue");
  const symbol = cell("symbol");
  if (!SYMBOL.test(symbol)) fail("symbol", "expected a symbol like BTC-USD");
  const num = (c: string, positive: boolean): Decimal => {
    const v = cell(c);
    if (!DECIMAL.test(v)) fail(c, "expected a non-negative decimal number");
    const d = new Decimal(v);
    if (positive && !d.gt(0)) fail(c, "must be > 0");
    return d;
  };
  let trade = h.layout === "trades";
  if (h.layout === "mixed") {
    const t = cell("type").toLowerCase();
    if (t !== "quote" && t !== "trade") fail("type", 'expected "quote" or "trade"');
    trade = t === "trade";
  }
  if (trade) {
    const price = num("price", true);
    const qty = num("qty", false);
    const side = cell("side").toLowerCase();
    if (side !== "buy" && side !== "sell") fail("side", 'expected the aggressor side "buy" or "sell"');
    return tradePrint({ ts: ts!, venue, symbol, price, qty, side: side === "buy" ? "BUY" : "SELL" });
  }
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

export interface MarketCsvOptions {
  onProgress?: (p: CsvReadProgress) => void;
  totalBytes?: number;
  /**
   * Called for every parsed row; false drops the row (e.g. out of order, counted by data quality).
   * Without it, a row earlier than the previous one is an error.
   */
  check?: (ev: BacktestEvent, line: number, h: CsvHeader, raw: string) => boolean;
}

/**
 * Stream quotes and trade prints from a CSV file (gzip-compressed when it starts with the gzip magic
 * bytes), in file order. Blank lines are allowed only at the end of the file.
 */
export async function* readMarketCsv(
  file: string,
  opts: MarketCsvOptions = {},
): AsyncGenerator<{ event: BacktestEvent; line: number }> {
  const raw = createReadStream(file, { highWaterMark: 1 << 20 });
  const input = (await isGzip(file)) ? raw.pipe(createGunzip()) : raw;
  input.setEncoding("utf8");
  raw.on("error", (e) => input.destroy(e));
  const rl = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  const { onProgress, totalBytes = 0, check } = opts;
  let lineNo = 0;
  let header: CsvHeader | undefined;
  let blankAt = 0;
  let lastTs = Number.NEGATIVE_INFINITY;
  let rows = 0;
  try {
    for await (const rawLine of rl) {
      lineNo++;
      const line = rawLine.trimEnd();
      if (line === "") {
        if (blankAt === 0) blankAt = lineNo;
        continue;
      }
      if (blankAt !== 0) throw new CsvFormatError(file, blankAt, 0, "", "", "blank line inside the data");
      if (!header) {
        header = parseHeader(file, line);
        continue;
      }
      const event = parseRow(file, lineNo, line, header);
      rows++;
      if (onProgress && (rows & 0x3ff) === 0) onProgress({ bytesRead: raw.bytesRead, totalBytes, rows });
      if (check) {
        if (!check(event, lineNo, header, line)) continue;
      } else if (event.ts < lastTs)
        throw new CsvFormatError(
          file,
          lineNo,
          header.index.ts! + 1,
          "ts",
          line.split(",")[header.index.ts!]!,
          `earlier than the previous row (${new Date(lastTs).toISOString()}); rows must be in time order`,
        );
      lastTs = event.ts;
      yield { event, line: lineNo };
    }
  } finally {
    rl.close();
    input.destroy();
    raw.destroy();
  }
  if (!header) throw new CsvFormatError(file, 1, 0, "", "", "empty file: expected a header line");
  onProgress?.({ bytesRead: raw.bytesRead, totalBytes, rows });
}

async function isGzip(file: string): Promise<boolean> {
  const fh = await open(file, "r");
  try {
    const b = Buffer.alloc(2);
    const { bytesRead } = await fh.read(b, 0, 2, 0);
    return bytesRead === 2 && b[0] === 0x1f && b[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/** Stream L1 quotes only (a file with trade rows is refused at its first trade). Rows must be in time order. */
export async function* readQuotesCsv(
  file: string,
  onProgress?: (p: CsvReadProgress) => void,
  totalBytes = 0,
): AsyncGenerator<{ quote: FastL1Quote; line: number }> {
  for await (const { event, line } of readMarketCsv(file, { ...(onProgress ? { onProgress } : {}), totalBytes })) {
    if (isTradePrint(event)) throw new CsvFormatError(file, line, 0, "", "", "a trade row in a quotes-only read");
    yield { quote: event, line };
  }
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

/** Serialise quotes and trade prints to one file with a type column (ts as epoch ms). */
export function eventsToCsv(events: Iterable<BacktestEvent>): string {
  const out: string[] = ["ts,venue,symbol,type,bid,ask,bid_size,ask_size,price,qty,side"];
  for (const e of events) {
    const head = `${e.ts},${e.venue},${e.symbol}`;
    if (isTradePrint(e)) out.push(`${head},trade,,,,,${e.price.toFixed()},${e.qty.toFixed()},${e.side.toLowerCase()}`);
    else
      out.push(`${head},quote,${e.bid.toFixed()},${e.ask.toFixed()},${e.bidSize.toFixed()},${e.askSize.toFixed()},,,`);
  }
  return `${out.join("\n")}\n`;
}
