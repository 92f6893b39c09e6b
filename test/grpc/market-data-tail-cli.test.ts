// `tse market-data tail` as a real process: against our simulator (upstream contract and --quotes) and against a
// replay of upstream's bytes with unusable updates mixed in; the final line counts what the stream saw.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MarketDataSimulator } from "../../sim/market-data/MarketDataSimulator";
import { UPSTREAM_MESSAGES } from "../fixtures/upstream/layout";
import { encodeByLayout } from "../support/protoLayout";
import { startUpstreamReplay } from "../support/upstreamReplay";

const root = join(import.meta.dirname, "..", "..");
const run = promisify(execFile);

async function tail(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(join(root, "node_modules", ".bin", "tsx"), ["cli/tse.ts", "market-data", "tail", ...args], {
      cwd: root,
      timeout: 30_000,
    });
    return { code: 0, ...r };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

function counts(stdout: string) {
  const last = stdout.trim().split("\n").at(-1)!;
  const m = /^received (\d+), malformed (\d+), dropped (\d+)/.exec(last);
  expect(m, last).not.toBeNull();
  return {
    received: Number(m![1]),
    malformed: Number(m![2]),
    dropped: Number(m![3]),
    lines: stdout.trim().split("\n").length - 1,
  };
}

describe("tse market-data tail", () => {
  let sim: MarketDataSimulator;
  let port: number;
  beforeAll(async () => {
    sim = new MarketDataSimulator({ quiet: true, seed: 4, shutdownTimeoutMs: 300 });
    port = await sim.start(0);
  });
  afterAll(() => sim.stop());

  it("prints every update of our simulator's StreamPrices, then received N, malformed 0, dropped 0", async () => {
    const r = await tail(["--endpoint", `127.0.0.1:${port}`, "--symbols", "BTC-USD", "--seconds", "2"]);
    expect(r.code, r.stderr).toBe(0);
    const c = counts(r.stdout);
    expect(c.received).toBeGreaterThanOrEqual(10); // every 100 ms for ~2 s
    expect(c.lines).toBe(c.received);
    expect(c).toMatchObject({ malformed: 0, dropped: 0 });
    expect(r.stdout).toMatch(/Z BTC-USD \d+(\.\d+)? volume /);
  });

  it("--quotes reads the sequenced L1 stream", async () => {
    const r = await tail([
      "--endpoint",
      `127.0.0.1:${port}`,
      "--symbols",
      "ETH-USD",
      "--seconds",
      "1",
      "--quotes",
      "--interval-ms",
      "20",
    ]);
    expect(r.code, r.stderr).toBe(0);
    const c = counts(r.stdout);
    expect(c.received).toBeGreaterThan(10);
    expect(c).toMatchObject({ malformed: 0, dropped: 0 });
    expect(r.stdout).toMatch(/venue-a ETH-USD bid [\d.]+ x [\d.]+ ask [\d.]+ x [\d.]+ seq \d+/);
  });

  it("counts (and does not print) upstream updates without a price", async () => {
    const zero = Buffer.from(encodeByLayout(UPSTREAM_MESSAGES, "PriceUpdate", { symbol: "BTC-USD", price: 0 }));
    const up = await startUpstreamReplay({ intervalMs: 20, extraPerRound: [zero] });
    try {
      const r = await tail(["--endpoint", up.address, "--seconds", "1.5"]);
      expect(r.code, r.stderr).toBe(0);
      const c = counts(r.stdout);
      expect(c.malformed).toBeGreaterThanOrEqual(1);
      expect(c.lines).toBe(c.received - c.malformed);
      expect(r.stderr).toContain("counted as malformed");
    } finally {
      await up.stop();
    }
  });

  it("a bad endpoint is a usage error naming the option", async () => {
    const r = await tail(["--endpoint", "localhost"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('invalid --endpoint "localhost": expected HOST:PORT');
  });
});
