// A session with a low order-rate limit (passed through the session's options, as a --config file will): the
// functions' order-placement denies the second leg of every arbitrage signal by order-rate, and the report
// (report.json and the summary) counts denials by rule, split by path: quoter and functions.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseReport } from "../../lib/report/reportSchema";
import { LocalSession } from "../../session/LocalSession";
import { denialSummary } from "../../session/sessionReport";
import { eventually } from "../support/tradingFlow";

let session: LocalSession | undefined;
afterAll(async () => {
  await session?.stop("afterAll").catch(() => undefined);
}, 60_000);

describe("session risk denials by path", () => {
  it("a 1 order/s limit: report.json counts the functions' order-rate denials (and the quoter's)", async () => {
    session = await LocalSession.start({
      mode: "embedded",
      scenario: "DIVERGENCE",
      seed: 7,
      strategies: ["market-making", "arbitrage"],
      ephemeralPorts: true,
      outDir: join(process.cwd(), "test-output", "session-risk-denials"),
      log: () => {},
      // Breakers stay out of the way: every denial is the rate rule itself.
      riskLimits: { maxOrdersPerSecond: 1, circuitBreakers: { rateLimitBreachesToHalt: 1_000_000 } },
      haltEngineOnStrategyBreaker: false,
    });
    const s = session;
    await eventually(
      "an arbitrage signal denied by order-rate",
      async () => (await s.store.listSignalsByStrategy("arb-1")).some((x) => x.rule === "order-rate"),
      40_000,
      200,
    );
    const r = await s.stop("test done");
    session = undefined;
    const denials = r.report.risk?.denials as { quoter: Record<string, number>; functions: Record<string, number> };
    expect(denials.functions["order-rate"]).toBeGreaterThanOrEqual(1);
    expect(denials.quoter["order-rate"]).toBeGreaterThanOrEqual(1);
    const onDisk = parseReport(JSON.parse(readFileSync(r.reportPath, "utf8")));
    expect(onDisk.risk?.denials).toEqual(denials);
    expect(denialSummary(denials)).toMatch(/^quoter .*order-rate \d+.*; functions .*order-rate \d+/);
    expect(r.report.risk?.finalState).toBe("ACTIVE");
  }, 90_000);
});
