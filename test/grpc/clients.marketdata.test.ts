// MarketDataClient against the real market-data simulator on loopback: unary, L1 stream reconnect, gap detection.
import { afterEach, describe, expect, it } from "vitest";
import { ClientManager } from "../../lib/grpc/ClientManager";
import { Discovery } from "../../lib/grpc/discovery";
import { InvalidArgumentError } from "../../lib/grpc/errors";
import { MarketDataClient, type SequenceGap, toDomainQuote } from "../../lib/grpc/MarketDataClient";
import { MarketDataSimulator } from "../../sim/market-data/MarketDataSimulator";

const quiet = { info() {}, warn() {}, debug() {} };
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function setup() {
  // A slow ticker: the stream itself advances the simulation, so sequences are contiguous unless we skip.
  const sim = new MarketDataSimulator({ quiet: true, seed: 7, tickMs: 60_000, shutdownTimeoutMs: 300 });
  const port = await sim.start(0);
  cleanup.push(() => sim.stop());
  const manager = new ClientManager({
    discovery: new Discovery({ explicit: { "market-data": `127.0.0.1:${port}` }, env: {} }),
    logger: quiet,
  });
  cleanup.push(() => manager.close());
  return { sim, port, manager, md: new MarketDataClient(manager) };
}

describe("MarketDataClient", () => {
  it("gets prices and L1 quotes; unknown symbols are typed InvalidArgument errors", async () => {
    const { md } = await setup();
    const p = await md.getPrice("BTC-USD");
    expect(p?.symbol).toBe("BTC-USD");
    expect(Number(p?.price)).toBeGreaterThan(0);
    const health = await md.healthCheck();
    expect(health.venues.length).toBeGreaterThanOrEqual(2);
    const q = await md.getQuote("BTC-USD", health.venues[0] ?? "");
    const dq = toDomainQuote(q);
    expect(dq.ask.gt(dq.bid)).toBe(true);
    const err = await md.getPrice("NOPE-USD").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(err).toMatchObject({ service: "market-data", method: "GetPrice" });
  });

  it("streams L1, reconnects after the simulator restarts, and reports the sequence gap", async () => {
    const { sim, port, md } = await setup();
    const gaps: SequenceGap[] = [];
    const stream = md.streamQuotes({
      symbols: ["BTC-USD"],
      updateIntervalMs: 5,
      initialDelayMs: 50,
      maxDelayMs: 200,
      onGap: (g) => gaps.push(g),
    });
    cleanup.push(() => stream.close());
    const seen = new Map<string, number[]>();
    let restarted = false;
    const deadline = Date.now() + 15_000;
    for await (const q of stream) {
      const key = `${q.venue}|${q.symbol}`;
      const list = seen.get(key) ?? [];
      list.push(q.sequence);
      seen.set(key, list);
      const total = [...seen.values()].reduce((n, l) => n + l.length, 0);
      if (!restarted && total >= 20) {
        restarted = true;
        await sim.stop();
        // Updates the client cannot see while it is disconnected.
        for (let i = 1; i <= 5; i++) sim.simulation.advanceTo(Date.now() + i * 5);
        await sim.start(port);
      }
      if (restarted && stream.stats.reconnects >= 1 && gaps.length > 0 && total >= 60) break;
      if (Date.now() > deadline) break;
    }
    expect(stream.stats.reconnects).toBeGreaterThanOrEqual(1);
    expect(gaps.length).toBeGreaterThan(0);
    expect(gaps[0]?.missed).toBeGreaterThan(0);
    // Delivered sequences are strictly increasing per venue+symbol, across the reconnect.
    expect(seen.size).toBeGreaterThanOrEqual(2); // BTC-USD on at least two venues
    for (const list of seen.values()) {
      for (let i = 1; i < list.length; i++) expect(list[i]).toBeGreaterThan(list[i - 1] ?? 0);
    }
  });

  it("run(callback): the same stream pushed to a callback reconnects after a restart and reports the gap", async () => {
    const { sim, port, md } = await setup();
    const gaps: SequenceGap[] = [];
    const stream = md.streamQuotes({
      symbols: ["BTC-USD"],
      updateIntervalMs: 5,
      initialDelayMs: 50,
      maxDelayMs: 200,
      onGap: (g) => gaps.push(g),
    });
    cleanup.push(() => stream.close());
    const seen = new Map<string, number[]>();
    let total = 0;
    let restart: Promise<void> | undefined;
    const ran = stream.run((q) => {
      const list = seen.get(`${q.venue}|${q.symbol}`) ?? [];
      list.push(q.sequence);
      seen.set(`${q.venue}|${q.symbol}`, list);
      total++;
      if (!restart && total >= 20)
        restart = (async () => {
          await sim.stop();
          for (let i = 1; i <= 5; i++) sim.simulation.advanceTo(Date.now() + i * 5);
          await sim.start(port);
        })();
      if (restart && stream.stats.reconnects >= 1 && gaps.length > 0 && total >= 60) stream.close();
    });
    const deadline = setTimeout(() => stream.close(), 15_000);
    await ran;
    clearTimeout(deadline);
    expect(stream.stats.reconnects).toBeGreaterThanOrEqual(1);
    expect(gaps.length).toBeGreaterThan(0);
    expect(gaps[0]?.missed).toBeGreaterThan(0);
    expect(stream.stats.delivered).toBe(total);
    expect(seen.size).toBeGreaterThanOrEqual(2);
    for (const list of seen.values()) {
      for (let i = 1; i < list.length; i++) expect(list[i]).toBeGreaterThan(list[i - 1] ?? 0);
    }
  });

  it("run(callback): what the callback throws ends the run with that error and cancels the stream", async () => {
    const { md } = await setup();
    const stream = md.streamQuotes({ symbols: ["BTC-USD"], updateIntervalMs: 5 });
    cleanup.push(() => stream.close());
    const boom = new Error("consumer bug");
    await expect(
      stream.run(() => {
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(stream.isClosed).toBe(true);
  });
});
