// The ONE definition of the engine's single DynamoDB table: key schema, GSIs, TTL attribute.
// Read by `createTable` (tests, local session) and by the CDK stack, so they cannot drift.
// Plain data on purpose: no aws-cdk-lib / SDK import, so Lambda bundles stay small.

export const TABLE_ATTRIBUTES = {
  partitionKey: "pk",
  sortKey: "sk",
  gsi1PartitionKey: "gsi1pk",
  gsi1SortKey: "gsi1sk",
  gsi2PartitionKey: "gsi2pk",
  gsi2SortKey: "gsi2sk",
  /** Epoch SECONDS. Only idempotency records carry it, so TTL never deletes trading state. */
  timeToLive: "expiresAt",
} as const;

export interface GlobalSecondaryIndexDefinition {
  indexName: string;
  partitionKey: string;
  sortKey: string;
  /** Every access pattern served by a GSI reads whole items, so project everything. */
  projection: "ALL";
}

export interface TableDefinition {
  partitionKey: string;
  sortKey: string;
  /** All key attributes are strings. */
  attributeType: "S";
  globalSecondaryIndexes: readonly GlobalSecondaryIndexDefinition[];
  timeToLiveAttribute: string;
  billing: "PAY_PER_REQUEST";
}

export const GSI1 = "gsi1";
export const GSI2 = "gsi2";

export const TABLE_DEFINITION: TableDefinition = {
  partitionKey: TABLE_ATTRIBUTES.partitionKey,
  sortKey: TABLE_ATTRIBUTES.sortKey,
  attributeType: "S",
  globalSecondaryIndexes: [
    // orders by strategy (+status), fills by order, positions (all / by strategy), signals by strategy, snapshots by symbol
    {
      indexName: GSI1,
      partitionKey: TABLE_ATTRIBUTES.gsi1PartitionKey,
      sortKey: TABLE_ATTRIBUTES.gsi1SortKey,
      projection: "ALL",
    },
    // open orders (sparse), fills by strategy
    {
      indexName: GSI2,
      partitionKey: TABLE_ATTRIBUTES.gsi2PartitionKey,
      sortKey: TABLE_ATTRIBUTES.gsi2SortKey,
      projection: "ALL",
    },
  ],
  timeToLiveAttribute: TABLE_ATTRIBUTES.timeToLive,
  billing: "PAY_PER_REQUEST",
};

/** Default table name; override with env `TSE_TABLE_NAME`. */
export const DEFAULT_TABLE_NAME = "tse-state";

/**
 * Settings for Powertools' DynamoDBPersistenceLayer so its records share this table:
 * pk = `idempotency#<function>`, sk = the hashed key, TTL on `expiresAt` (Powertools writes epoch seconds).
 */
export function powertoolsIdempotencyAttributes(): {
  keyAttr: string;
  sortKeyAttr: string;
  expiryAttr: string;
} {
  return {
    keyAttr: TABLE_ATTRIBUTES.partitionKey,
    sortKeyAttr: TABLE_ATTRIBUTES.sortKey,
    expiryAttr: TABLE_ATTRIBUTES.timeToLive,
  };
}
