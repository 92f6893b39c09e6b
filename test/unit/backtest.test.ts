import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CsvFormatError, readQuotesCsv } from "../../lib/backtest/csv";
import { BacktestEngine } from "../../lib/backtest/engine/BacktestEngine";
import { BacktestDataError, loadBacktestConfig, runBacktestFile } from "../../lib/backtest/runBacktestFile";
import { Decimal } from "../../lib/domain/decimal";
import { createStrategy } from "../../lib/domain/strategies";
import type { Strategy } from "../../lib/domain/strategies/Strategy";
import type { L1Quote, OrderIntent } from "../../lib/domain/types";
import { ReportSchema } from "../../lib/report/reportSchema";
import { quote } from "./support/strategyContext";

const tmp = () => mkdtempSync(join(tmpdir(), "tse-bt-"));

describe("backtest of the sample data with market making", () => {
  it("writes a schema-valid report with trades and every metric", async () => {
    const out = tmp();
    const { report, reportPath } = await runBacktestFile({
      dataFile: "data/sample-l1.csv",
      strategy: "market-making",
      outDir: out,
      runId: "test-run",
    });
    const onDisk = ReportSchema.parse(JSON.parse(readFileSync(reportPath, "utf8")));
    expect(onDisk).toEqual(report);
    expect(report.strategy).toBe("market-making");
    expect(report.meta).toMatchObject({ runId: "test-run", mode: "backtest", ticks: 4000 });
    expect(report.startedAt).toBe("2026-01-05T12:00:00.000Z");
    expect(report.endedAt).toBe("2026-01-05T12:16:39.000Z");
    expect(report.trades.length).toBeGreaterThan(10);
    expect(report.metrics.tradeCount).toBe(report.trades.length);
    for (const k of [
      "totalPnl",
      "realizedPnl",
      "unrealizedPnl",
      "fees",
      "sharpe",
      "sharpeConvention",
      "sortino",
      "maxDrawdown",
      "maxDrawdownPct",
      "calmar",
      "winRate",
      "profitFactor",
      "expectancy",
      "tradeCount",
      "turnover",
    ])
      expect(report.metrics).toHaveProperty(k);
    // 16 min 39 s of 1 s samples: too short to annualise, so the per-period Sharpe and its standard error instead.
    expect(report.metrics.sharpe).toBeNull();
    expect(report.metrics.annualisedNullReason).toBe("not annualised: the sample spans 16.6 min (< 1 day)");
    expect(typeof report.metrics.perPeriodSharpe?.sharpe).toBe("number");
    expect(report.metrics.perPeriodSharpe?.periods).toBe(999);
    expect(report.metrics.perPeriodSharpe?.standardError).toBeCloseTo(
      Math.sqrt((1 + report.metrics.perPeriodSharpe!.sharpe! ** 2 / 2) / 999),
      12,
    );
    expect(report.metrics.sharpeConvention).toContain("sampled every 1s");
    expect(report.equityCurve.length).toBe(1000);
    expect(report.drawdownCurve?.length).toBe(1000);
    expect(report.positionCurve?.length).toBeGreaterThan(0);
    // Accounting identity: equity change = realized + unrealized - fees = totalPnl (exact decimals).
    const m = report.metrics;
    const eq0 = new Decimal(report.equityCurve[0]!.equity);
    const eqN = new Decimal(report.equityCurve[report.equityCurve.length - 1]!.equity);
    expect(eqN.minus(eq0).toFixed()).toBe(new Decimal(m.totalPnl).toFixed());
    expect(new Decimal(m.realizedPnl).plus(m.unrealizedPnl).minus(m.fees).toFixed()).toBe(
      new Decimal(m.totalPnl).toFixed(),
    );
    // Fees match the trades; maker fee 2 bps on every resting fill.
    const fees = report.trades.reduce((a, t) => a.plus(t.fee), new Decimal(0));
    expect(fees.toFixed()).toBe(new Decimal(m.fees).toFixed());
    const t0 = report.trades[0]!;
    expect(t0.liquidity).toBe("MAKER");
    expect(new Decimal(t0.qty).times(t0.price).times("0.0002").toFixed()).toBe(new Decimal(t0.fee).toFixed());
  });

  it("is deterministic", async () => {
    const a = await runBacktestFile({
      dataFile: "data/sample-l1.csv",
      strategy: "arbitrage",
      outDir: tmp(),
      runId: "x",
    });
    const b = await runBacktestFile({
      dataFile: "data/sample-l1.csv",
      strategy: "arbitrage",
      outDir: tmp(),
      runId: "x",
    });
    expect(a.report.trades).toEqual(b.report.trades);
    expect(a.report.metrics).toEqual(b.report.metrics);
    expect(a.report.trades.length).toBeGreaterThan(0);
    expect(a.report.trades.every((t) => t.liquidity === "TAKER")).toBe(true);
  });

  it("applies a config file and rejects a bad one naming the field", async () => {
    const dir = tmp();
    const good = join(dir, "good.json");
    writeFileSync(good, JSON.stringify({ strategy: { spreadBps: 20, levels: 2 }, equitySampleMs: 10_000 }));
    const cfg = await loadBacktestConfig(good);
    const { report } = await runBacktestFile({
      dataFile: "data/sample-l1.csv",
      strategy: "market-making",
      config: cfg,
      outDir: dir,
    });
    expect(report.equityCurve.length).toBe(101); // every 10 s over 999 s + the final point
    expect(report.config).toMatchObject({ strategy: { levels: 2 } });
    const bad = join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify({ equitySampleMs: -5 }));
    await expect(loadBacktestConfig(bad)).rejects.toThrow(/config\.equitySampleMs=-5/);
    writeFileSync(bad, JSON.stringify({ strategy: { spreadBps: "wide" } }));
    await expect(
      runBacktestFile({
        dataFile: "data/sample-l1.csv",
        strategy: "market-making",
        config: await loadBacktestConfig(bad),
        outDir: dir,
      }),
    ).rejects.toThrow(/spreadBps="wide"/);
  });
});

describe("CSV input", () => {
  const header = "ts,venue,symbol,bid,ask,bid_size,ask_size";
  const row = "2026-01-05T12:00:00Z,venue-a,BTC-USD,30000,30001,1,1";
  async function readAll(content: string) {
    const f = join(tmp(), "q.csv");
    writeFileSync(f, content);
    const out: L1Quote[] = [];
    for await (const { quote } of readQuotesCsv(f)) out.push(quote);
    return out;
  }
  async function errorOf(content: string): Promise<CsvFormatError> {
    try {
      await readAll(content);
    } catch (e) {
      expect(e).toBeInstanceOf(CsvFormatError);
      return e as CsvFormatError;
    }
    throw new Error("expected a CsvFormatError");
  }

  it("reads ISO and epoch-ms timestamps, any column order", async () => {
    const qs = await readAll(
      `ask,bid,ts,venue,symbol,bid_size,ask_size\n30001,30000,1767614400000,venue-a,BTC-USD,1.5,2\n30002,30001,2026-01-05T12:00:01.500+00:00,venue-b,BTC-USD,1,1\n`,
    );
    expect(qs).toHaveLength(2);
    expect(qs[0]).toMatchObject({ ts: 1767614400000, venue: "venue-a", symbol: "BTC-USD" });
    expect(qs[0]!.bidSize.toFixed()).toBe("1.5");
    expect(qs[1]!.ts).toBe(1767614401500);
  });

  it.each([
    [`${header}\n${row}\n2026-01-05T12:00:01Z,venue-a,BTC-USD,abc,30001,1,1\n`, 3, 4, "bid"],
    [`${header}\n2026-13-45 noon,venue-a,BTC-USD,30000,30001,1,1\n`, 2, 1, "ts"],
    [`${header}\n2026-01-05T12:00:00,venue-a,BTC-USD,30000,30001,1,1\n`, 2, 1, "ts"], // no zone
    [`${header}\n${row}\n2026-01-05T12:00:01Z,venue-a,btc,30000,30001,1,1\n`, 3, 3, "symbol"],
    [`${header}\n2026-01-05T12:00:00Z,venue-a,BTC-USD,30002,30001,1,1\n`, 2, 5, "ask"], // crossed
    [`${header}\n2026-01-05T12:00:00Z,venue-a,BTC-USD,30000,30001,-1,1\n`, 2, 6, "bid_size"],
    [`${header}\n2026-01-05T12:00:00Z,venue-a,BTC-USD,0,30001,1,1\n`, 2, 4, "bid"],
    [`${header}\n2026-01-05T12:00:05Z,venue-a,BTC-USD,30000,30001,1,1\n${row}\n`, 3, 1, "ts"], // out of order
  ])("rejects a malformed row with its line and column (%#)", async (content, line, column, name) => {
    const e = await errorOf(content);
    expect(e.line).toBe(line);
    expect(e.column).toBe(column);
    expect(e.columnName).toBe(name);
    expect(e.message).toContain(`line ${line}, column ${column} (${name})`);
  });

  it("rejects wrong column counts, bad headers, blank lines inside, empty files", async () => {
    expect((await errorOf(`${header}\n${row}\n2026-01-05T12:00:01Z,venue-a,BTC-USD,1,2\n`)).line).toBe(3);
    const h = await errorOf(`ts,venue,symbol,bid,ask,bid_size\n${row}\n`);
    expect(h.line).toBe(1);
    expect(h.message).toContain('missing column "ask_size"');
    expect((await errorOf(`${header},extra\n`)).column).toBe(8);
    expect((await errorOf(`${header}\n${row}\n\n${row}\n`)).line).toBe(3);
    expect((await errorOf("")).message).toContain("empty file");
    expect(await readAll(`${header}\n${row}\n\n\n`)).toHaveLength(1); // trailing blank lines are fine
  });

  it("a row the engine refuses (unknown venue) fails with its line", async () => {
    const f = join(tmp(), "q.csv");
    writeFileSync(f, `${header}\n${row}\n2026-01-05T12:00:01Z,venue-zz,BTC-USD,30000,30001,1,1\n`);
    await expect(runBacktestFile({ dataFile: f, strategy: "market-making", outDir: tmp() })).rejects.toSatisfy(
      (e: unknown) => e instanceof BacktestDataError && e.line === 3 && /venue-zz/.test(e.message),
    );
  });
});

/** A scripted strategy: emits given intents on the n-th market callback and records callbacks. */
function scripted(plan: Record<number, Omit<OrderIntent, "strategyId">[]>) {
  let n = 0;
  const log: string[] = [];
  const s: Strategy = {
    id: "s1",
    name: "scripted",
    onMarket: () => (plan[n++] ?? []).map((i) => ({ ...i, strategyId: "s1" })),
    onFill: (f) => {
      log.push(
        `fill ${f.side} ${f.quantity.toFixed()}@${f.price.toFixed()} ${f.liquidity} rem ${f.remainingQuantity.toFixed()}`,
      );
      return [];
    },
    onTimer: () => [],
    onOrderEvent: (e) => {
      log.push(`${e.kind} ${e.side} filled ${e.filledQuantity.toFixed()}${e.reason ? ` (${e.reason})` : ""}`);
      return [];
    },
  };
  return { s, log };
}
const D = (x: string) => new Decimal(x);
const limit = (side: "BUY" | "SELL", qty: string, px: string, extra: Partial<OrderIntent> = {}) => ({
  venue: "venue-a",
  symbol: "BTC-USD",
  side,
  type: "LIMIT" as const,
  timeInForce: "GTC" as const,
  postOnly: false,
  quantity: D(qty),
  limitPrice: D(px),
  ...extra,
});

describe("simulated matching", () => {
  it("a resting bid fills at its price when the ask crosses it, partially by displayed size, maker fee", () => {
    const { s, log } = scripted({ 0: [limit("BUY", "1", "29990", { postOnly: true })] });
    const e = new BacktestEngine({ strategies: [s] });
    e.onQuote(quote("venue-a", "BTC-USD", "30000", "30001", 0, 5));
    e.onQuote(quote("venue-a", "BTC-USD", "29985", "29989", 1000, "0.4")); // ask 29989 <= 29990, 0.4 shown
    e.onQuote(quote("venue-a", "BTC-USD", "29985", "29989", 2000, "2"));
    const r = e.finish();
    expect(log).toEqual(["fill BUY 0.4@29990 MAKER rem 0.6", "fill BUY 0.6@29990 MAKER rem 0"]);
    expect(r.trades.map((t) => t.fee.toFixed())).toEqual(["2.39920", "3.59880"].map((x) => D(x).toFixed())); // 0.0002 x notional
    expect(e.portfolio.position("s1", "BTC-USD")!.quantity.toFixed()).toBe("1");
  });

  it("post-only that would cross is rejected; IOC takes the displayed size and the rest expires; taker fee", () => {
    const { s, log } = scripted({
      1: [limit("BUY", "1", "30001", { postOnly: true }), limit("BUY", "1", "30001", { timeInForce: "IOC" })],
    });
    const e = new BacktestEngine({ strategies: [s] });
    e.onQuote(quote("venue-a", "BTC-USD", "30000", "30001", 0, "0.3"));
    e.onQuote(quote("venue-a", "BTC-USD", "30000", "30001", 1, "0.3"));
    const r = e.finish();
    expect(log[0]).toMatch(/^REJECTED BUY filled 0/);
    expect(log[1]).toBe("fill BUY 0.3@30001 TAKER rem 0.7");
    expect(log[2]).toMatch(/^EXPIRED BUY filled 0.3/);
    expect(r.trades[0]!.fee.toFixed()).toBe(D("0.3").times("30001").times("0.0005").toFixed());
    expect(r.ordersRejected).toBe(1);
  });

  it("a strategy may cancel its other resting orders from onFill while the book is being matched", () => {
    const fills: string[] = [];
    const s: Strategy = {
      id: "s1",
      name: "cancel-on-fill",
      onMarket: (q) =>
        q.ts === 0
          ? [
              { ...limit("BUY", "1", "29990"), strategyId: "s1", tag: "a" },
              { ...limit("BUY", "1", "29980"), strategyId: "s1", tag: "b" },
            ]
          : [],
      onFill: (f, ctx) => {
        fills.push(f.tag!);
        return ctx
          .openOrders()
          .filter((o) => o.tag !== f.tag)
          .map((o) => ({ ...limit(o.side, "1", "1"), strategyId: "s1", cancelOrderId: o.orderId }));
      },
      onTimer: () => [],
    };
    const e = new BacktestEngine({ strategies: [s] });
    e.onQuote(quote("venue-a", "BTC-USD", "30000", "30001", 0, 5));
    e.onQuote(quote("venue-a", "BTC-USD", "29970", "29975", 1000, 5)); // crosses both
    expect(fills).toEqual(["a"]); // "b" was cancelled by the first fill, so it never fills
    expect(e.book("venue-a", "BTC-USD")!.buys).toHaveLength(0);
  });

  it("risk denials reach the strategy and are counted by rule", () => {
    const { s, log } = scripted({ 0: [limit("BUY", "50", "30000")] }); // BTC max order qty 5
    const e = new BacktestEngine({ strategies: [s] });
    e.onQuote(quote("venue-a", "BTC-USD", "30000", "30001", 0));
    const r = e.finish();
    expect(log[0]).toMatch(/^DENIED BUY filled 0 \(max-order-qty: limit 5, value 50\)/);
    expect(r.risk.denials).toEqual({ "max-order-qty": 1 });
  });

  it("the runaway chaos strategy is HALTED by the risk engine and its open orders are cancelled", () => {
    const e = new BacktestEngine({ strategies: [createStrategy("chaos-runaway", "runaway")] });
    e.onQuote(quote("venue-a", "BTC-USD", "30000", "30001", 0));
    e.onQuote(quote("venue-a", "BTC-USD", "30000", "30001", 100));
    const r = e.finish();
    expect(r.risk.finalState).toBe("HALTED");
    expect(e.risk.strategyState("runaway")).toBe("HALTED");
    expect(r.risk.events[0]!.kind).toBe("state:runaway:ACTIVE->HALTED");
    expect(r.risk.denials["order-rate"]).toBe(10);
    expect(r.ordersPlaced).toBe(20);
    // all 20 accepted resting orders were cancelled when the strategy was halted
    expect(e.book("venue-a", "BTC-USD")!.buys).toHaveLength(0);
  });
});
