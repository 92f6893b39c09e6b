// Provisioning behaviour we can check honestly from inside a test run.
import { expect, it } from "vitest";
import { ensureLocalAws, fetchHealth, REQUIRED_SERVICES } from "../../lib/local-aws";

const endpoint = () => {
  const e = process.env.AWS_ENDPOINT_URL;
  if (!e) throw new Error("AWS_ENDPOINT_URL is not set: the localstack project's global setup did not run");
  return e;
};

it("exposes endpoint, region and dummy credentials to test workers", () => {
  expect(endpoint()).toMatch(/^https?:\/\//);
  expect(process.env.AWS_REGION).toBe("us-east-1");
  expect(process.env.AWS_ACCESS_KEY_ID).toBe("test");
  expect(process.env.AWS_SECRET_ACCESS_KEY).toBe("test");
});

it("reports every required service as available or running", async () => {
  const health = await fetchHealth(endpoint(), 5000);
  expect(health).toBeDefined();
  for (const s of REQUIRED_SERVICES)
    expect([s, health?.[s]]).toEqual([s, expect.stringMatching(/^(available|running)$/)]);
  // The global setup made a first DynamoDB call, so DynamoDB Local is already started behind it.
  expect(health?.dynamodb).toBe("running");
});

it("a second ensureLocalAws reuses the running LocalStack in well under 30 s and leaving it keeps it up", async () => {
  const url = new URL(endpoint());
  const saved = process.env.AWS_ENDPOINT_URL;
  delete process.env.AWS_ENDPOINT_URL; // exercise the reuse path, not the "external endpoint" shortcut
  const t0 = Date.now();
  let second: Awaited<ReturnType<typeof ensureLocalAws>> | undefined;
  try {
    second = await ensureLocalAws({ port: Number(url.port || 4566), log: () => {} });
  } finally {
    process.env.AWS_ENDPOINT_URL = saved;
  }
  const elapsed = Date.now() - t0;
  expect(second.endpoint).toBe(`http://127.0.0.1:${url.port || 4566}`);
  expect(elapsed).toBeLessThan(5000);
  await second.stop();
  // The global setup still holds its lease, so our stop() must not have stopped LocalStack.
  expect(await fetchHealth(endpoint(), 5000)).toBeDefined();
});
