// The embedded matcher and LocalStack's TestEventPattern must agree on every sample (and on the expected verdict).
import { EventBridgeClient, TestEventPatternCommand } from "@aws-sdk/client-eventbridge";
import { afterAll, describe, expect, it } from "vitest";
import { matchEventPattern } from "../../lib/routing/matchEventPattern";
import { ROUTES } from "../../lib/routing/routes";
import { PATTERN_CASES } from "../fixtures/patternCases";
import { localstackClientConfig } from "../support/aws";

const eb = new EventBridgeClient({
  ...localstackClientConfig(),
  maxAttempts: 2,
  requestHandler: { requestTimeout: 5_000 },
});
afterAll(() => eb.destroy());

async function localstackVerdict(pattern: object, event: object): Promise<boolean> {
  const out = await eb.send(
    new TestEventPatternCommand({ EventPattern: JSON.stringify(pattern), Event: JSON.stringify(event) }),
  );
  if (typeof out.Result !== "boolean") throw new Error("TestEventPattern returned no Result");
  return out.Result;
}

describe("routing agreement: embedded matcher vs LocalStack TestEventPattern", () => {
  it("covers every route", () => {
    for (const r of ROUTES) expect(PATTERN_CASES.map((c) => c.name)).toContain(`route ${r.functionName}`);
  });

  for (const c of PATTERN_CASES) {
    it(c.name, { timeout: 30_000 }, async () => {
      const rows = await Promise.all(
        c.samples.map(async (s) => ({
          sample: s.name,
          expected: s.expected,
          localstack: await localstackVerdict(c.pattern, s.event),
          embedded: matchEventPattern(c.pattern, s.event),
        })),
      );
      // One assertion over all rows so a failure prints the whole table for the case.
      const disagreements = rows.filter((r) => r.localstack !== r.embedded || r.embedded !== r.expected);
      expect(disagreements).toEqual([]);
      expect(rows.length).toBe(c.samples.length);
      // Each case has at least one matching and one non-matching sample, so a constant matcher cannot pass.
      expect(rows.some((r) => r.expected)).toBe(true);
      expect(rows.some((r) => !r.expected)).toBe(true);
    });
  }
});
