// Data quality of a replayed file: counts locked quotes, duplicated rows, zero sizes, gaps over a
// threshold and out-of-order rows, with the first examples' line and column. Out-of-order rows are
// dropped (the replay cannot go back in time); the others are replayed as they are. In strict mode the
// first of any is an error naming its line and column.
import type { FastL1Quote } from "../domain/strategies/quoteMath";
import { CsvFormatError, type CsvHeader } from "./csv";
import type { BacktestEvent, TradePrint } from "./engine/marketEvents";
import { isTradePrint } from "./engine/marketEvents";

export const DATA_ISSUES = ["lockedQuotes", "duplicates", "zeroSizes", "gaps", "outOfOrder"] as const;
export type DataIssue = (typeof DATA_ISSUES)[number];

export interface DataQualityExample {
  issue: DataIssue;
  file: string;
  line: number;
  /** 1-based; 0 = the whole row. */
  column: number;
  columnName: string;
  value: string;
}

export interface DataQualityReport {
  gapMs: number;
  rows: number;
  counts: Record<DataIssue, number>;
  examples: DataQualityExample[];
}

export interface DataQualityOptions {
  /** A quote stream (venue + symbol) silent for longer than this is a gap. Default 60,000 ms. */
  gapMs?: number;
  strict?: boolean;
  /** Examples kept per issue. Default 5. */
  examplesPerIssue?: number;
}

const REASON: Record<DataIssue, string> = {
  lockedQuotes: "locked quote (ask = bid)",
  duplicates: "duplicate of the previous row of this venue/symbol",
  zeroSizes: "zero size",
  gaps: "gap",
  outOfOrder: "earlier than the previous row",
};

export class DataQualityMonitor {
  readonly gapMs: number;
  private readonly strict: boolean;
  private readonly perIssue: number;
  private readonly counts: Record<DataIssue, number> = {
    lockedQuotes: 0,
    duplicates: 0,
    zeroSizes: 0,
    gaps: 0,
    outOfOrder: 0,
  };
  private readonly examples: DataQualityExample[] = [];
  private rows = 0;
  private lastTs = Number.NEGATIVE_INFINITY;
  /** Last quote / trade per venue → symbol. */
  private readonly lastQuote = new Map<string, Map<string, FastL1Quote>>();
  private readonly lastTrade = new Map<string, Map<string, TradePrint>>();

  constructor(opts: DataQualityOptions = {}) {
    this.gapMs = opts.gapMs ?? 60_000;
    if (!(this.gapMs > 0)) throw new RangeError(`dataQuality.gapMs must be > 0, got ${this.gapMs}`);
    this.strict = opts.strict ?? false;
    this.perIssue = opts.examplesPerIssue ?? 5;
  }

  /** Look at one parsed row; false = drop it (out of order). Throws in strict mode. */
  check(file: string, ev: BacktestEvent, line: number, h: CsvHeader, raw: string): boolean {
    this.rows++;
    const cells = raw.split(",");
    const note = (issue: DataIssue, col: string | undefined, detail = ""): void => {
      const column = col === undefined ? 0 : h.index[col]! + 1;
      const value = col === undefined ? raw : cells[h.index[col]!]!.trim();
      if (this.strict)
        throw new CsvFormatError(file, line, column, col ?? "", value, `${REASON[issue]}${detail} (--strict)`);
      this.counts[issue]++;
      if (this.counts[issue] <= this.perIssue)
        this.examples.push({ issue, file, line, column, columnName: col ?? "", value: value.slice(0, 64) });
    };
    if (ev.ts < this.lastTs) {
      note("outOfOrder", "ts", ` (${new Date(this.lastTs).toISOString()})`);
      return false;
    }
    this.lastTs = ev.ts;
    if (isTradePrint(ev)) {
      if (ev.size === 0) note("zeroSizes", "qty");
      const prev = swap(this.lastTrade, ev);
      if (prev && prev.ts === ev.ts && prev.px === ev.px && prev.size === ev.size && prev.side === ev.side)
        note("duplicates", undefined);
      return true;
    }
    const n = ev.n!;
    if (n.ask === n.bid) note("lockedQuotes", "ask");
    if (n.bidSize === 0) note("zeroSizes", "bid_size");
    if (n.askSize === 0) note("zeroSizes", "ask_size");
    const prev = swap(this.lastQuote, ev);
    if (prev) {
      const p = prev.n!;
      if (prev.ts === ev.ts && p.bid === n.bid && p.ask === n.ask && p.bidSize === n.bidSize && p.askSize === n.askSize)
        note("duplicates", undefined);
      if (ev.ts - prev.ts > this.gapMs) note("gaps", "ts", ` of ${ev.ts - prev.ts} ms over ${this.gapMs} ms`);
    }
    return true;
  }

  report(): DataQualityReport {
    return { gapMs: this.gapMs, rows: this.rows, counts: { ...this.counts }, examples: [...this.examples] };
  }
}

/** Store ev as the latest of its venue/symbol; return the one it replaces. */
function swap<T extends { venue: string; symbol: string }>(m: Map<string, Map<string, T>>, ev: T): T | undefined {
  let bySymbol = m.get(ev.venue);
  if (!bySymbol) {
    bySymbol = new Map();
    m.set(ev.venue, bySymbol);
  }
  const prev = bySymbol.get(ev.symbol);
  bySymbol.set(ev.symbol, ev);
  return prev;
}
