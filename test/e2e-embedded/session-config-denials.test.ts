// Issue #10's acceptance, as a user runs it: `tse start --duration 40 --config <file with a low order-rate limit>`.
// The file's limit reaches the functions' order-placement (the serverless path), which denies arbitrage legs by
// the same rule the quoter uses; report.json and the summary line count those denials under `functions`.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import type { DenialsByPath, Report } from "../../lib/report/reportSchema";

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), "tse-config-denials-"));
const CONFIG = join(dir, "low-rate.yaml");
// 1 order/s per strategy; the rate-limit breaker is pushed out of the way so every denial is the rule itself.
writeFileSync(
  CONFIG,
  `environments:
  default:
    risk:
      engine_limits:
        type: json
        value: { maxOrdersPerSecond: 1, circuitBreakers: { rateLimitBreachesToHalt: 1000000 } }
`,
);

describe("tse start --config with a low order-rate limit", () => {
  it("ends with risk.denials.functions counting order-rate", async () => {
    const out = join(dir, "session");
    const r = await run(
      process.execPath,
      [
        join(process.cwd(), "bin", "tse.mjs"),
        "start",
        "--duration",
        "40",
        "--ephemeral-ports",
        "--scenario",
        "DIVERGENCE",
        "--strategy",
        "market-making",
        "--strategy",
        "arbitrage",
        "--config",
        CONFIG,
        "--out",
        out,
      ],
      { timeout: 150_000, maxBuffer: 64 * 1024 * 1024 },
    );
    const report = JSON.parse(readFileSync(join(out, "report.json"), "utf8")) as Report;
    const denials = report.risk?.denials as DenialsByPath;
    expect(denials.functions["order-rate"]).toBeGreaterThanOrEqual(1);
    expect(r.stderr).toMatch(/denials quoter .*; functions .*order-rate \d+/);
  }, 180_000);
});
