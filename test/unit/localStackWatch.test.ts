// LocalStackWatch's outage bound, against real SDK clients aimed at a loopback port nothing listens on: it rides out
// an outage shorter than unreachableLimitMs and then stops the session with LocalStackUnreachableError.
// (A resource gone after a restart, LocalStackStateLostError, is test/localstack/localstack-restart.test.ts.)
import { createServer } from "node:net";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { SQSClient } from "@aws-sdk/client-sqs";
import { expect, it } from "vitest";
import { LocalStackUnreachableError, LocalStackWatch } from "../../session/LocalStackWatch";

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

it("no answer for longer than unreachableLimitMs → one LocalStackUnreachableError naming the endpoint", async () => {
  const endpoint = `http://127.0.0.1:${await closedPort()}`;
  const cfg = { endpoint, region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" } };
  const clients = { ddb: new DynamoDBClient(cfg), eventBridge: new EventBridgeClient(cfg), sqs: new SQSClient(cfg) };
  const fatal: Error[] = [];
  const startedAt = Date.now();
  let firedAfterMs = 0;
  const watch = new LocalStackWatch({
    endpoint,
    ...clients,
    resources: { tableName: "t", eventBusName: "b", queues: { q: `${endpoint}/000000000000/q` } },
    intervalMs: 100,
    unreachableLimitMs: 1_500,
    onFatal: (e) => {
      firedAfterMs = Date.now() - startedAt;
      fatal.push(e);
    },
  });
  watch.start();
  try {
    while (fatal.length === 0 && Date.now() - startedAt < 20_000) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 500)); // and only once
  } finally {
    watch.stop();
    for (const c of Object.values(clients)) c.destroy();
  }
  expect(fatal).toHaveLength(1);
  expect(fatal[0]).toBeInstanceOf(LocalStackUnreachableError);
  expect(fatal[0]!.message).toContain(`LocalStack at ${endpoint} has not answered for`);
  expect(fatal[0]!.message).toContain("DynamoDB table t");
  expect(firedAfterMs).toBeGreaterThanOrEqual(1_500); // not before the bound
});
