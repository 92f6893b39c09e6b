// Counts DynamoDB HTTP requests (every attempt, SDK retries included) per command name.
// Used by the bench (`ddb.requests_per_fill`) and by tests that pin the request budget of a fill. Recording each
// request's principal, IAM action and resource (for the IAM evaluation) is requestRecorder.ts.
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";

export interface RequestCounter {
  /** Requests sent since creation or the last reset. */
  total(): number;
  /** Requests per command, e.g. { BatchGetItemCommand: 1, TransactWriteItemsCommand: 1 }. */
  byCommand(): Record<string, number>;
  /** Sequential rounds: a round starts when a request is sent while none is in flight (parallel ones share it). */
  rounds(): number;
  reset(): void;
  /** Remove the middleware from the client. */
  detach(): void;
}

let nextId = 0;

/**
 * Attach a counting middleware to a DynamoDB client (and so to any DynamoDBDocumentClient built on it,
 * which shares the client's middleware stack). It sits in the `deserialize` step, inside the SDK's retry
 * loop, so each HTTP attempt is counted once.
 */
export function attachRequestCounter(client: DynamoDBClient): RequestCounter {
  const counts = new Map<string, number>();
  let inFlight = 0;
  let rounds = 0;
  const name = `tseRequestCounter${nextId++}`;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? "unknown";
      counts.set(command, (counts.get(command) ?? 0) + 1);
      if (inFlight++ === 0) rounds++;
      try {
        return await next(args);
      } finally {
        inFlight--;
      }
    },
    { step: "deserialize", name, priority: "low" },
  );
  return {
    total: () => [...counts.values()].reduce((a, b) => a + b, 0),
    byCommand: () => Object.fromEntries(counts),
    rounds: () => rounds,
    reset: () => {
      counts.clear();
      rounds = 0;
    },
    detach: () => {
      client.middlewareStack.remove(name);
    },
  };
}
