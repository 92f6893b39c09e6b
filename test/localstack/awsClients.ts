// AWS SDK clients for LocalStack tests: endpoint and credentials come from the global setup's env.
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { SQSClient } from "@aws-sdk/client-sqs";
import { instrumentAwsClient } from "../../lib/adapters/aws/requestRecorder";

function endpoint(): string {
  const e = process.env.AWS_ENDPOINT_URL;
  if (!e) throw new Error("AWS_ENDPOINT_URL is not set: the localstack project's global setup did not run");
  return e;
}

const common = () => ({
  endpoint: endpoint(),
  region: process.env.AWS_REGION ?? "us-east-1",
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
});

/** The tests' own clients: their requests are recorded as "test-harness" unless a function or quoter sends them. */
export const localClients = () => ({
  ddb: instrumentAwsClient(new DynamoDBClient(common())),
  eventBridge: instrumentAwsClient(new EventBridgeClient(common())),
  sqs: instrumentAwsClient(new SQSClient(common())),
});

/** Polls `probe` until it returns a value, or throws after `timeoutMs`. */
export async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
