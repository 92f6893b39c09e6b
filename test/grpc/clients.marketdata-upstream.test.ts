// MarketDataClient against servers that are not our simulator, on loopback: a replay of the upstream server's
// captured bytes (no QuoteService, like upstream), and a QuoteService that sends unusable quotes. Unusable
// updates are counted and logged, never silently dropped; UNIMPLEMENTED either falls back to upstream
// StreamPrices (synthetic L1) or ends the stream once.
import { Server, ServerCredentials, type ServerWritableStream, status } from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { type L1Quote, QuoteServiceService, type StreamQuotesRequest } from "../../gen/proto/tse/marketdata/quotes";
import { ClientManager } from "../../lib/grpc/ClientManager";
import { Discovery } from "../../lib/grpc/discovery";
import { decimalFromDouble, type MalformedUpdate, MarketDataClient } from "../../lib/grpc/MarketDataClient";
import { ExchangeSimulator } from "../../sim/exchange/ExchangeSimulator";
import { UPSTREAM_MESSAGES } from "../fixtures/upstream/layout";
import { encodeByLayout } from "../support/protoLayout";
import { startUpstreamReplay } from "../support/upstreamReplay";

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function client(address: string) {
  const warnings: { msg: string; attrs?: Record<string, unknown> }[] = [];
  const logger = {
    info() {},
    debug() {},
    warn: (msg: string, attrs?: Record<string, unknown>) => {
      warnings.push({ msg, attrs });
    },
  };
  const manager = new ClientManager({
    discovery: new Discovery({ explicit: { "market-data": address }, env: {} }),
    logger: logger as never,
  });
  cleanup.push(() => manager.close());
  return { md: new MarketDataClient(manager), warnings, logger };
}

// Built from upstream's field table: an update with price 0 and one without a symbol.
const zeroPrice = Buffer.from(
  encodeByLayout(UPSTREAM_MESSAGES, "PriceUpdate", { symbol: "BTC-USD", price: 0, volume: 1 }),
);
const noSymbol = Buffer.from(encodeByLayout(UPSTREAM_MESSAGES, "PriceUpdate", { price: 101.5 }));

describe("MarketDataClient against upstream's bytes (replayed on loopback)", () => {
  it("unary GetPrice and HealthCheck decode upstream's answers", async () => {
    const up = await startUpstreamReplay();
    cleanup.push(() => up.stop());
    const { md } = client(up.address);
    const p = await md.getPrice("BTC-USD");
    expect(p).toMatchObject({ symbol: "BTC-USD", price: "100", source: "market-data-simulator" });
    expect(p.timestampMs).toBeGreaterThan(1_700_000_000_000);
    const h = await md.healthCheck();
    expect(h.status).toBe("SERVING");
    expect(h.details.service_name).toBe("market-data-simulator");
    expect(h.venues).toEqual([]); // upstream lists none
  });

  it("without a fallback, streamQuotes ends once with a clear UNIMPLEMENTED error (no reconnect loop)", async () => {
    const up = await startUpstreamReplay();
    cleanup.push(() => up.stop());
    const { md, warnings } = client(up.address);
    const stream = md.streamQuotes({ symbols: ["BTC-USD"], initialDelayMs: 10, maxDelayMs: 20 });
    cleanup.push(() => stream.close());
    const err = await (async () => {
      for await (const _ of stream) return undefined;
      return undefined;
    })().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: status.UNIMPLEMENTED });
    expect(String((err as Error).message)).toContain("does not offer tse.marketdata.QuoteService");
    await new Promise((r) => setTimeout(r, 300)); // a loop would reconnect every 10-20 ms
    expect(stream.stats.connects).toBe(1);
    expect(stream.stats.reconnects).toBe(0);
    expect(stream.isClosed).toBe(true);
    expect(warnings.filter((w) => w.msg.includes("reconnecting"))).toHaveLength(0);
  });

  it("with a price-only fallback: synthetic L1 per venue around upstream's price; malformed updates counted and logged", async () => {
    const up = await startUpstreamReplay({ extraPerRound: [zeroPrice, noSymbol] });
    cleanup.push(() => up.stop());
    const { md, warnings, logger } = client(up.address);
    const bad: MalformedUpdate[] = [];
    const stream = md.streamQuotes({
      symbols: ["BTC-USD", "ETH-USD"],
      venues: ["venue-a", "venue-b"],
      priceOnlyFallback: { halfSpreadBps: 5, size: "0.5", tickSizes: { "BTC-USD": "0.01", "ETH-USD": "0.01" } },
      onMalformed: (m) => bad.push(m),
      logger,
      initialDelayMs: 10,
    });
    cleanup.push(() => stream.close());
    const got: L1Quote[] = [];
    for await (const q of stream) {
      got.push(q);
      if (got.length >= 48) break; // 2 venues × 24 updates = 4 rounds of 6 good ones
    }
    expect(stream.synthetic).toBe(true);
    expect(stream.method).toBe("StreamPrices");
    expect(stream.stats.reconnects).toBe(1); // the one switch to StreamPrices
    expect(up.streamCalls).toBe(1);
    for (const q of got) {
      expect(["venue-a", "venue-b"]).toContain(q.venue);
      const [bid, ask, last] = [Number(q.bid), Number(q.ask), Number(q.lastPrice)];
      expect(bid).toBeLessThan(last);
      expect(ask).toBeGreaterThan(last);
      // 2 × 5 bps, widened by at most one tick on each side (bid rounds down, ask up).
      expect(ask - bid).toBeGreaterThanOrEqual(last * 10e-4 - 1e-9);
      expect(ask - bid).toBeLessThanOrEqual(last * 10e-4 + 0.02 + 1e-9);
      expect(q.bidSize).toBe("0.5");
      expect(Number(decimalFromDouble(Number(q.lastPrice)))).toBe(Number(q.lastPrice));
    }
    for (const v of ["venue-a", "venue-b"])
      for (const s of ["BTC-USD", "ETH-USD"]) {
        const seqs = got.filter((q) => q.venue === v && q.symbol === s).map((q) => q.sequence);
        expect(seqs).toEqual(seqs.map((_, i) => i + 1));
      }
    // 3 full rounds passed, each with one zero price and one update without a symbol.
    expect(stream.stats.malformed).toBeGreaterThanOrEqual(6);
    expect(bad.length).toBe(stream.stats.malformed);
    expect(new Set(bad.map((b) => b.reason))).toEqual(new Set(["no price", "no symbol"]));
    expect(stream.stats.dropped).toBe(0);
    expect(stream.stats.received).toBe(stream.stats.delivered + stream.stats.malformed);
    expect(warnings.some((w) => w.msg.includes("counted as malformed"))).toBe(true);
    expect(warnings.some((w) => w.msg.includes("synthesized from StreamPrices"))).toBe(true);
  });

  it("streamPrices reads upstream updates as they come: nothing dropped, the unusable ones counted", async () => {
    const up = await startUpstreamReplay({ extraPerRound: [zeroPrice] });
    cleanup.push(() => up.stop());
    const { md } = client(up.address);
    const stream = md.streamPrices({ symbols: ["BTC-USD", "ETH-USD"] });
    cleanup.push(() => stream.close());
    let n = 0;
    for await (const u of stream) {
      expect(u.price).toBeGreaterThan(0);
      if (++n >= 18) break;
    }
    expect(stream.stats.malformed).toBe(2); // after rounds 1 and 2 of 6 good updates
    expect(stream.stats.dropped).toBe(0);
    expect(stream.stats.received).toBe(20);
  });
});

describe("the exchange simulator alone, following an upstream-only feed", () => {
  it("logs once that the feed has no QuoteService and stops asking (no retry loop)", async () => {
    const up = await startUpstreamReplay();
    cleanup.push(() => up.stop());
    const lines: { level: string; msg: string }[] = [];
    const log = (level: string) => (msg: string) => lines.push({ level, msg });
    const ex = new ExchangeSimulator({
      marketDataAddress: up.address,
      logger: { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") },
      shutdownTimeoutMs: 300,
    });
    await ex.start(0);
    cleanup.push(() => ex.stop());
    await new Promise((r) => setTimeout(r, 2_500)); // a retry loop would try again every second
    expect(lines.filter((l) => l.msg.includes("has no tse.marketdata.QuoteService"))).toHaveLength(1);
    expect(lines.filter((l) => l.msg.includes("retrying"))).toHaveLength(0);
  });
});

describe("MarketDataClient against a QuoteService that sends unusable quotes", () => {
  it("counts a quote with no sequence or no price as malformed and delivers the rest", async () => {
    const server = new Server();
    const q = (sequence: number, bid: string): L1Quote => ({
      venue: "venue-a",
      symbol: "BTC-USD",
      bid,
      ask: bid ? "101" : "",
      bidSize: "1",
      askSize: "1",
      sequence,
      timestamp: Date.now(),
      lastPrice: "100.5",
    });
    server.addService(QuoteServiceService, {
      streamQuotes: (call: ServerWritableStream<StreamQuotesRequest, L1Quote>) => {
        for (const x of [q(1, "100"), q(0, "100"), q(2, ""), q(3, "100"), q(0, "")]) call.write(x);
        call.end();
      },
    } as never);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    cleanup.push(() => server.forceShutdown());
    const { md } = client(`127.0.0.1:${port}`);
    const bad: MalformedUpdate[] = [];
    const stream = md.streamQuotes({ symbols: ["BTC-USD"], onMalformed: (m) => bad.push(m), initialDelayMs: 5_000 });
    cleanup.push(() => stream.close());
    const seqs: number[] = [];
    for await (const x of stream) {
      seqs.push(x.sequence);
      if (seqs.length === 2) break;
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(seqs).toEqual([1, 3]);
    expect(bad.map((b) => b.reason)).toEqual(["no sequence", "no price", "no sequence"].slice(0, bad.length));
    expect(stream.stats.malformed).toBeGreaterThanOrEqual(2);
    expect(stream.stats.dropped).toBe(0);
  });
});

describe("decimalFromDouble", () => {
  it("is the shortest decimal that reads back as the same double, without an exponent", () => {
    expect(decimalFromDouble(100)).toBe("100");
    expect(decimalFromDouble(0.1)).toBe("0.1");
    expect(decimalFromDouble(0.1 + 0.2)).toBe("0.30000000000000004");
    expect(decimalFromDouble(1e-7)).toBe("0.0000001");
    expect(decimalFromDouble(1.5e21)).toBe("1500000000000000000000");
    expect(decimalFromDouble(65_432.123456789)).toBe("65432.123456789");
    expect(decimalFromDouble(Number.NaN)).toBeUndefined();
    expect(decimalFromDouble(Number.POSITIVE_INFINITY)).toBeUndefined();
    for (const x of [99.8765432101234, 1 / 3, 2 ** -30, Math.PI * 1e5]) expect(Number(decimalFromDouble(x))).toBe(x);
  });
});
