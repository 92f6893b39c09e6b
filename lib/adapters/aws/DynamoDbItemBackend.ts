// DynamoDB implementation of the item backend (lib-dynamodb DocumentClient). Conditions become
// ConditionExpressions; failures carry the stored item via ReturnValuesOnConditionCheckFailure, so a
// duplicate costs no extra read.
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  TransactionCanceledException,
} from "@aws-sdk/client-dynamodb";
import {
  BatchGetCommand,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
} from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import {
  type CancellationCode,
  type ConditionalPut,
  ConditionFailedError,
  type Item,
  type ItemBackend,
  type ItemKey,
  type ItemQuery,
  keyOf,
  TransactionCancelledError,
  type WriteCondition,
} from "../state/itemBackend";
import { instrumentAwsClient } from "./requestRecorder";
import { TABLE_ATTRIBUTES, TABLE_DEFINITION } from "./tableDefinition";

interface Expression {
  ConditionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues?: Record<string, unknown>;
}

function conditionExpression(c: WriteCondition): Expression {
  const pk = { "#pk": TABLE_ATTRIBUTES.partitionKey };
  switch (c.kind) {
    case "notExists":
      return { ConditionExpression: "attribute_not_exists(#pk)", ExpressionAttributeNames: pk };
    case "versionIs":
      return {
        ConditionExpression: "#version = :version",
        ExpressionAttributeNames: { "#version": "version" },
        ExpressionAttributeValues: { ":version": c.version },
      };
    case "notExistsOrOlder":
      return {
        ConditionExpression: "attribute_not_exists(#pk) OR #attr < :value",
        ExpressionAttributeNames: { ...pk, "#attr": c.attribute },
        ExpressionAttributeValues: { ":value": c.value },
      };
    case "notExistsOrExpired":
      return {
        ConditionExpression: "attribute_not_exists(#pk) OR #attr <= :value",
        ExpressionAttributeNames: { ...pk, "#attr": c.attribute },
        ExpressionAttributeValues: { ":value": c.value },
      };
  }
}

function toCode(code: string | undefined): CancellationCode {
  if (code === "None" || code === "ConditionalCheckFailed" || code === "TransactionConflict") return code;
  return "Other";
}

// biome-ignore lint/suspicious/noExplicitAny: raw AttributeValue maps from error payloads
const fromRaw = (raw: any): Item | undefined => (raw ? (unmarshall(raw) as Item) : undefined);

export class DynamoDbItemBackend implements ItemBackend {
  readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    readonly tableName: string,
  ) {
    this.doc = DynamoDBDocumentClient.from(instrumentAwsClient(client), {
      marshallOptions: { removeUndefinedValues: true },
    });
  }

  async getMany(keys: readonly ItemKey[]): Promise<(Item | undefined)[]> {
    if (keys.length === 0) return [];
    if (keys.length > 100) throw new Error(`getMany: at most 100 keys, got ${keys.length}`);
    const found = new Map<string, Item>();
    let pending: Record<string, unknown>[] = keys.map((k) => ({ pk: k.pk, sk: k.sk }));
    // UnprocessedKeys only appear under throttling; re-request them (bounded).
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(200, 10 * 2 ** attempt)));
      if (attempt > 8) throw new Error(`getMany: ${pending.length} keys still unprocessed after ${attempt} attempts`);
      const out = await this.doc.send(
        new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: true } } }),
      );
      for (const item of out.Responses?.[this.tableName] ?? []) {
        const k = keyOf(item);
        found.set(`${k.pk}\u0000${k.sk}`, item);
      }
      pending = (out.UnprocessedKeys?.[this.tableName]?.Keys as Record<string, unknown>[] | undefined) ?? [];
    }
    return keys.map((k) => found.get(`${k.pk}\u0000${k.sk}`));
  }

  async get(key: ItemKey): Promise<Item | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: key.pk, sk: key.sk }, ConsistentRead: true }),
    );
    return out.Item;
  }

  async put(write: ConditionalPut): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: write.item,
          ...(write.condition ? conditionExpression(write.condition) : {}),
          ReturnValuesOnConditionCheckFailure: write.condition ? "ALL_OLD" : undefined,
        }),
      );
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) {
        const key = keyOf(write.item);
        // Older DynamoDB emulators omit the item; fall back to one read.
        const existing = fromRaw(err.Item) ?? (await this.get(key));
        throw new ConditionFailedError(key, existing);
      }
      throw err;
    }
  }

  async putMany(items: readonly Item[]): Promise<void> {
    // BatchWriteItem takes 25 items per request; UnprocessedItems appear only under throttling.
    for (let i = 0; i < items.length; i += 25) {
      let pending: { PutRequest: { Item: Item } }[] = items
        .slice(i, i + 25)
        .map((item) => ({ PutRequest: { Item: item } }));
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > 8)
          throw new Error(`putMany: ${pending.length} items still unprocessed after ${attempt} attempts`);
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(200, 10 * 2 ** attempt)));
        const out = await this.doc.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: pending } }));
        pending = (out.UnprocessedItems?.[this.tableName] as { PutRequest: { Item: Item } }[] | undefined) ?? [];
      }
    }
  }

  async transactWrite(writes: readonly ConditionalPut[]): Promise<void> {
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: writes.map((w) => ({
            Put: {
              TableName: this.tableName,
              Item: w.item,
              ...(w.condition ? conditionExpression(w.condition) : {}),
              ReturnValuesOnConditionCheckFailure: w.condition ? "ALL_OLD" : undefined,
            },
          })),
        }),
      );
    } catch (err) {
      if (err instanceof TransactionCanceledException) {
        const reasons = (err.CancellationReasons ?? []).map((r) => {
          const existing = fromRaw(r.Item);
          return { code: toCode(r.Code), ...(existing ? { existing } : {}) };
        });
        // Some emulators omit the reasons; without them we cannot tell which put failed.
        if (reasons.length !== writes.length) {
          throw new TransactionCancelledError(writes.map(() => ({ code: "Other" as CancellationCode })));
        }
        throw new TransactionCancelledError(reasons);
      }
      throw err;
    }
  }

  async query(q: ItemQuery): Promise<Item[]> {
    const index = q.index ? TABLE_DEFINITION.globalSecondaryIndexes.find((g) => g.indexName === q.index) : undefined;
    if (q.index && !index) throw new Error(`unknown index ${q.index}`);
    const pkAttr = index ? index.partitionKey : TABLE_ATTRIBUTES.partitionKey;
    const skAttr = index ? index.sortKey : TABLE_ATTRIBUTES.sortKey;
    const names: Record<string, string> = { "#p": pkAttr };
    const values: Record<string, unknown> = { ":p": q.partitionValue };
    let expr = "#p = :p";
    if (q.sortBeginsWith !== undefined) {
      names["#s"] = skAttr;
      values[":s"] = q.sortBeginsWith;
      expr += " AND begins_with(#s, :s)";
    } else if (q.sortBetween) {
      names["#s"] = skAttr;
      values[":a"] = q.sortBetween[0];
      values[":b"] = q.sortBetween[1];
      expr += " AND #s BETWEEN :a AND :b";
    }
    const items: Item[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: q.index,
          KeyConditionExpression: expr,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ScanIndexForward: q.ascending !== false,
          ExclusiveStartKey: startKey,
          Limit: q.limit !== undefined ? q.limit - items.length : undefined,
        }),
      );
      items.push(...(out.Items ?? []));
      startKey = out.LastEvaluatedKey;
    } while (startKey && (q.limit === undefined || items.length < q.limit));
    return items;
  }

  async scanAll(): Promise<Item[]> {
    const items: Item[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(new ScanCommand({ TableName: this.tableName, ExclusiveStartKey: startKey }));
      items.push(...(out.Items ?? []));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return items;
  }
}
