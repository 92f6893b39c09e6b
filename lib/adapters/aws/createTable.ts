// Creates the engine table from TABLE_DEFINITION (tests, the local session). The CDK stack declares the
// same table from the same definition, so local and deployed tables cannot drift.
import {
  CreateTableCommand,
  DeleteTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from "@aws-sdk/client-dynamodb";
import { TABLE_DEFINITION } from "./tableDefinition";

export interface CreateTableOptions {
  /** Seconds to wait for ACTIVE. Default 60. */
  maxWaitSeconds?: number;
}

/** Create the table (idempotent: an existing table is left as is) and enable TTL on the TTL attribute. */
export async function createTable(
  client: DynamoDBClient,
  tableName: string,
  options: CreateTableOptions = {},
): Promise<void> {
  const d = TABLE_DEFINITION;
  const keyAttributes = new Set<string>([d.partitionKey, d.sortKey]);
  for (const g of d.globalSecondaryIndexes) {
    keyAttributes.add(g.partitionKey);
    keyAttributes.add(g.sortKey);
  }
  let created = true;
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: d.billing,
        AttributeDefinitions: [...keyAttributes].map((name) => ({
          AttributeName: name,
          AttributeType: d.attributeType,
        })),
        KeySchema: [
          { AttributeName: d.partitionKey, KeyType: "HASH" },
          { AttributeName: d.sortKey, KeyType: "RANGE" },
        ],
        GlobalSecondaryIndexes: d.globalSecondaryIndexes.map((g) => ({
          IndexName: g.indexName,
          KeySchema: [
            { AttributeName: g.partitionKey, KeyType: "HASH" },
            { AttributeName: g.sortKey, KeyType: "RANGE" },
          ],
          Projection: { ProjectionType: g.projection },
        })),
      }),
    );
  } catch (err) {
    if (!(err instanceof ResourceInUseException)) throw err;
    created = false;
  }
  await waitUntilTableExists(
    { client, maxWaitTime: options.maxWaitSeconds ?? 60, minDelay: 1, maxDelay: 2 },
    { TableName: tableName },
  );
  if (created) {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: d.timeToLiveAttribute, Enabled: true },
      }),
    );
  }
}

/** Delete the table; a missing table is fine. */
export async function deleteTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(new DeleteTableCommand({ TableName: tableName }));
  } catch (err) {
    if (!(err instanceof ResourceNotFoundException)) throw err;
  }
}
