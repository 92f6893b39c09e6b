// A REAL local session against an external market-data service that speaks only upstream's contract (here: the
// bytes captured from upstream, replayed on loopback; no tse.marketdata.QuoteService). The engine synthesizes L1
// around the price, trades on it, and the report says the quotes were synthetic.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LocalSession } from "../../session/LocalSession";
import { parseSessionFlags } from "../../session/options";
import { startUpstreamReplay } from "../support/upstreamReplay";

describe("tse start --market-data (external, price-only feed)", () => {
  const out = mkdtempSync(join(tmpdir(), "tse-external-md-"));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it("runs the session on synthetic L1 and says so in the report", async () => {
    const up = await startUpstreamReplay({ intervalMs: 50 });
    try {
      const opts = parseSessionFlags({
        marketData: up.address,
        syntheticHalfSpreadBps: "4",
        strategy: ["market-making"],
      });
      expect(opts.marketData).toEqual({ endpoint: up.address, halfSpreadBps: 4 });
      const session = await LocalSession.start({ ...opts, ephemeralPorts: true, outDir: out, log: () => {} });
      expect(session.endpoints.simulators["market-data"]).toBeUndefined(); // ours is not started
      await new Promise((r) => setTimeout(r, 6_000));
      const r = await session.stop("test");
      const md = r.report.meta!.marketData!;
      expect(md).toMatchObject({
        source: "external",
        endpoint: up.address,
        method: "marketdata.MarketDataService/StreamPrices",
        syntheticQuotes: true,
        halfSpreadBps: 4,
        malformed: 0,
        dropped: 0,
      });
      expect(md.received).toBeGreaterThan(50);
      expect(r.report.meta!.scenario).toBe("external");
      expect(r.counts.ordersAtExchange).toBeGreaterThan(0); // the quoter quoted around upstream's ~100 prices
      expect(r.counts.ordersWithoutRiskCheck).toBe(0);
    } finally {
      await up.stop();
    }
  }, 90_000);

  it("rejects a bad --market-data or a half-spread without it, naming the option", () => {
    expect(() => parseSessionFlags({ marketData: "nohost" })).toThrow(
      'invalid --market-data "nohost": expected HOST:PORT',
    );
    expect(() => parseSessionFlags({ marketData: "127.0.0.1:1", syntheticHalfSpreadBps: "-1" })).toThrow(
      /invalid --synthetic-half-spread-bps "-1"/,
    );
    expect(() => parseSessionFlags({ syntheticHalfSpreadBps: "5" })).toThrow(/only with --market-data/);
  });
});
