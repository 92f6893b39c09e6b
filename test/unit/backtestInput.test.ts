// Backtest input: trade prints (a type column or a trades file), gzip read directly, the data-quality
// section and --strict, and the report recording the fill and latency models.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { CsvFormatError, eventsToCsv, readMarketCsv } from "../../lib/backtest/csv";
import { isTradePrint } from "../../lib/backtest/engine/marketEvents";
import { BacktestConfigError, loadBacktestConfig, runBacktestFile } from "../../lib/backtest/runBacktestFile";
import { syntheticTape } from "../../lib/backtest/syntheticTape";
import { renderReportHtml } from "../../lib/report/renderHtml";
import { ReportSchema } from "../../lib/report/reportSchema";

const tmp = () => mkdtempSync(join(tmpdir(), "tse-bt-in-"));
const write = (name: string, content: string | Buffer) => {
  const f = join(tmp(), name);
  writeFileSync(f, content);
  return f;
};
const TAPE = [...syntheticTape({ events: 20_000 })];
const MIXED = eventsToCsv(TAPE);

describe("trades input and gzip", () => {
  it("a file with a type column replays quotes and trades; the report records models and data quality", async () => {
    const { report, reportPath } = await runBacktestFile({
      dataFile: write("tape.csv", MIXED),
      strategy: "avellaneda-stoikov",
      outDir: tmp(),
      runId: "mixed",
    });
    expect(ReportSchema.parse(JSON.parse(readFileSync(reportPath, "utf8")))).toEqual(report);
    const prints = TAPE.filter(isTradePrint).length;
    expect(prints).toBeGreaterThan(1000);
    expect(report.meta).toMatchObject({ ticks: 20_000, tradePrints: prints });
    expect(report.fillModel).toEqual({ kind: "queue-risk-averse" }); // the default is a queue model
    expect(report.latencyModel).toEqual({ feed: 0, order: 0, ack: 0 });
    expect(report.dataQuality).toMatchObject({ rows: 20_000, gapMs: 60_000 });
    expect(report.valuation).toMatchObject({ currency: "USD" });
    expect(report.risk?.events).toEqual([]); // no breaker
    const html = renderReportHtml(report);
    expect(html).toContain("<h2>Simulation</h2>");
    expect(html).toContain("<td>queue-risk-averse</td>");
    expect(html).toMatch(/Data quality \(20000 rows, gaps over 60000 ms\)/);
  });

  it("gzip is read directly and a separate trades file merges by time to the same run", async () => {
    const quotes = TAPE.filter((e) => !isTradePrint(e));
    const trades = TAPE.filter(isTradePrint);
    const quotesCsv = eventsToCsv(quotes)
      .split("\n")
      .map((l) => l.split(",").slice(0, 3).concat(l.split(",").slice(4, 8)).join(","))
      .join("\n")
      .replace(/^ts,venue,symbol,bid,ask,bid_size,ask_size/, "ts,venue,symbol,bid,ask,bid_size,ask_size");
    const tradesCsv = eventsToCsv(trades)
      .split("\n")
      .map((l) => (l === "" ? l : [...l.split(",").slice(0, 3), ...l.split(",").slice(8)].join(",")))
      .join("\n");
    expect(tradesCsv.split("\n")[0]).toBe("ts,venue,symbol,price,qty,side");
    const cfg = { strategy: { spreadBps: 1, minSpreadBps: 0 } };
    const run = (dataFile: string, tradesFile?: string) =>
      runBacktestFile({
        dataFile,
        ...(tradesFile ? { tradesFile } : {}),
        strategy: "market-making",
        config: cfg,
        outDir: tmp(),
        runId: "x",
      }).then((r) => r.report);
    const plain = await run(write("tape.csv", MIXED));
    const gz = await run(write("tape.csv.gz", gzipSync(MIXED)));
    const split = await run(write("q.csv.gz", gzipSync(quotesCsv)), write("t.csv", tradesCsv));
    expect(plain.trades.length).toBeGreaterThan(0);
    expect(gz.trades).toEqual(plain.trades);
    expect(gz.equityCurve).toEqual(plain.equityCurve);
    expect(split.trades).toEqual(plain.trades);
    expect(split.meta?.tradePrints).toBe(trades.length);
  });

  it("a bad trade row names its line and column; a corrupt gzip is an error", async () => {
    const bad = write("t.csv", "ts,venue,symbol,price,qty,side\n1767614401000,venue-a,BTC-USD,30000,0.1,up\n");
    const e = await collect(bad).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CsvFormatError);
    expect((e as CsvFormatError).message).toContain("line 2, column 6 (side)");
    const corrupt = write("c.csv.gz", Buffer.concat([gzipSync(MIXED).subarray(0, 200), Buffer.from("garbage")]));
    await expect(collect(corrupt)).rejects.toThrow();
  });
});

describe("committed sample tape", () => {
  it("data/sample-tape.csv.gz is exactly what its seeded generator makes", () => {
    const committed = gunzipSync(readFileSync("data/sample-tape.csv.gz")).toString("utf8");
    expect(committed).toBe(eventsToCsv(syntheticTape({ seed: 11, events: 60_000 })));
  });
});

async function collect(file: string) {
  const out = [];
  for await (const x of readMarketCsv(file)) out.push(x);
  return out;
}

describe("data quality", () => {
  const header = "ts,venue,symbol,bid,ask,bid_size,ask_size";
  const rows = [
    "1767614401000,venue-a,BTC-USD,30000,30001,1,1",
    "1767614401000,venue-a,BTC-USD,30000,30001,1,1", // duplicate (line 3)
    "1767614402000,venue-a,BTC-USD,30001,30001,1,1", // locked (line 4, ask = column 5)
    "1767614403000,venue-a,BTC-USD,30000,30001,0,1", // zero size (line 5, bid_size = column 6)
    "1767614409000,venue-a,BTC-USD,30000,30001,1,1", // gap of 6000 ms over 5000 (line 6, ts)
    "1767614408000,venue-a,BTC-USD,30000,30001,1,1", // out of order (line 7, ts): dropped
    "1767614410000,venue-a,BTC-USD,30000,30002,1,1",
  ];
  const file = () => write("dq.csv", `${header}\n${rows.join("\n")}\n`);
  const cfg = { dataQuality: { gapMs: 5000 } };

  it("counts each issue with its line and column, and drops the out-of-order row", async () => {
    const { report } = await runBacktestFile({
      dataFile: file(),
      strategy: "market-making",
      config: cfg,
      outDir: tmp(),
    });
    expect(report.dataQuality?.counts).toEqual({
      lockedQuotes: 1,
      duplicates: 1,
      zeroSizes: 1,
      gaps: 1,
      outOfOrder: 1,
    });
    expect(report.dataQuality?.examples.map((x) => [x.issue, x.line, x.column, x.columnName])).toEqual([
      ["duplicates", 3, 0, ""],
      ["lockedQuotes", 4, 5, "ask"],
      ["zeroSizes", 5, 6, "bid_size"],
      ["gaps", 6, 1, "ts"],
      ["outOfOrder", 7, 1, "ts"],
    ]);
    expect(report.meta?.ticks).toBe(6);
  });

  it.each([
    [[0, 1], 3, 0, /duplicate/],
    [[0, 2], 3, 5, /locked quote/],
    [[0, 3], 3, 6, /zero size/],
    [[0, 4], 3, 1, /gap of 8000 ms over 5000 ms/],
    [[4, 5], 3, 1, /earlier than the previous row/],
  ])("--strict makes each one an error with its line and column (%#)", async (pick, line, column, reason) => {
    // A clean row and the one under test, so each case fails on its own issue.
    const f = write("dq.csv", `${header}\n${pick.map((k) => rows[k]).join("\n")}\n`);
    const e = await runBacktestFile({
      dataFile: f,
      strategy: "market-making",
      config: cfg,
      outDir: tmp(),
      strict: true,
    }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CsvFormatError);
    expect((e as CsvFormatError).line).toBe(line);
    expect((e as CsvFormatError).column).toBe(column);
    expect((e as Error).message).toMatch(reason);
    expect((e as Error).message).toContain("--strict");
  });
});

describe("config file", () => {
  it("validates fillModel, latency and valuation naming the field; a missing rate is refused naming it", async () => {
    const bad = write("c.json", JSON.stringify({ fillModel: { kind: "queue-magic" } }));
    await expect(loadBacktestConfig(bad)).rejects.toSatisfy(
      (e: unknown) => e instanceof BacktestConfigError && /config\.fillModel\.kind/.test((e as Error).message),
    );
    const lat = write("l.json", JSON.stringify({ latency: { order: { kind: "uniform", minMs: 1 } } }));
    await expect(loadBacktestConfig(lat)).rejects.toThrow(/config\.latency\.order/);
    const ok = await loadBacktestConfig(
      write(
        "ok.json",
        JSON.stringify({
          fillModel: { kind: "queue-probabilistic", function: "log" },
          latency: { feed: 5, order: { kind: "lognormal", medianMs: 20, sigma: 0.4 }, seed: 3 },
        }),
      ),
    );
    const { report } = await runBacktestFile({
      dataFile: write("t.csv", MIXED),
      strategy: "market-making",
      config: ok,
      outDir: tmp(),
    });
    expect(report.fillModel).toEqual({ kind: "queue-probabilistic", function: "log", n: 2 });
    expect(report.latencyModel).toEqual({
      feed: 5,
      order: { kind: "lognormal", medianMs: 20, sigma: 0.4 },
      ack: 0,
      seed: 3,
    });
    const usdt = {
      instruments: [{ symbol: "BTC-USDT", tickSize: "0.01", lotSize: "0.0001" }],
      initialCash: { USDT: "100000" },
    };
    await expect(
      runBacktestFile({ dataFile: write("t.csv", MIXED), strategy: "market-making", config: usdt, outDir: tmp() }),
    ).rejects.toThrow(/no conversion rate into USD for USDT/);
  });
});
