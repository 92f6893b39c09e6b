// DynamoDB state store: one table (see tableDefinition.ts, docs/state.md), lib-dynamodb DocumentClient.
import { DynamoDBClient, type DynamoDBClientConfig } from "@aws-sdk/client-dynamodb";
import { ItemStateStore, type ItemStateStoreOptions } from "../state/ItemStateStore";
import { DynamoDbItemBackend } from "./DynamoDbItemBackend";
import { DEFAULT_TABLE_NAME } from "./tableDefinition";

export interface DynamoDbStateStoreOptions extends ItemStateStoreOptions {
  /** Default: env TSE_TABLE_NAME, else "tse-state". */
  tableName?: string;
  /** Reuse a client (e.g. one with a request counter attached); otherwise one is built from `clientConfig`. */
  client?: DynamoDBClient;
  clientConfig?: DynamoDBClientConfig;
}

export class DynamoDbStateStore extends ItemStateStore {
  override readonly backend: DynamoDbItemBackend;
  readonly client: DynamoDBClient;
  readonly tableName: string;

  constructor(options: DynamoDbStateStoreOptions = {}) {
    const client = options.client ?? new DynamoDBClient(options.clientConfig ?? {});
    const tableName = options.tableName ?? process.env.TSE_TABLE_NAME ?? DEFAULT_TABLE_NAME;
    const backend = new DynamoDbItemBackend(client, tableName);
    super(backend, options);
    this.backend = backend;
    this.client = client;
    this.tableName = tableName;
  }
}
