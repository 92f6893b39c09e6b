// Issue 2 acceptance: the DynamoDB endpoint (LocalStack → DynamoDB Local) supports conditional transactions.
import { randomUUID } from "node:crypto";
import {
  CreateTableCommand,
  DeleteTableCommand,
  GetItemCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  type TransactWriteItemsCommandInput,
} from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, expect, it } from "vitest";
import { localClients } from "./awsClients";

const { ddb } = localClients();
const table = `tx-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  await ddb.send(
    new CreateTableCommand({
      TableName: table,
      KeySchema: [
        { AttributeName: "pk", KeyType: "HASH" },
        { AttributeName: "sk", KeyType: "RANGE" },
      ],
      AttributeDefinitions: [
        { AttributeName: "pk", AttributeType: "S" },
        { AttributeName: "sk", AttributeType: "S" },
      ],
      BillingMode: "PAY_PER_REQUEST",
    }),
  );
});

afterAll(async () => {
  await ddb.send(new DeleteTableCommand({ TableName: table })).catch(() => {});
});

it("applies a conditional TransactWriteItems once and rejects the identical second one with TransactionCanceledException", async () => {
  // The fill pattern from DESIGN.md: the fill record's absence is the condition; order and position move with it.
  const tx: TransactWriteItemsCommandInput = {
    TransactItems: [
      {
        Put: {
          TableName: table,
          Item: { pk: { S: "FILL#exec-1" }, sk: { S: "FILL" }, qty: { S: "0.5" }, price: { S: "64000.5" } },
          ConditionExpression: "attribute_not_exists(pk)",
        },
      },
      {
        Update: {
          TableName: table,
          Key: { pk: { S: "POS#BTC-USD" }, sk: { S: "POS" } },
          UpdateExpression: "SET version = if_not_exists(version, :zero) + :one, qty = :qty",
          ExpressionAttributeValues: { ":zero": { N: "0" }, ":one": { N: "1" }, ":qty": { S: "0.5" } },
        },
      },
    ],
  };
  await ddb.send(new TransactWriteItemsCommand(tx));
  const err = await ddb.send(new TransactWriteItemsCommand(tx)).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TransactionCanceledException);
  const reasons = (err as TransactionCanceledException).CancellationReasons?.map((r) => r.Code);
  expect(reasons).toEqual(["ConditionalCheckFailed", "None"]);
  // The rejected transaction changed nothing: the position was updated exactly once.
  const pos = await ddb.send(
    new GetItemCommand({ TableName: table, Key: { pk: { S: "POS#BTC-USD" }, sk: { S: "POS" } }, ConsistentRead: true }),
  );
  expect(pos.Item?.version?.N).toBe("1");
});
