// AWS SDK middleware that fails requests per a FaultPlan (tests only). It sits in the `initialize` step, outside
// the SDK's retry loop, so the injected fault reaches the caller as the SDK would report it after giving up.
import {
  DynamoDBServiceException,
  InternalServerError,
  ProvisionedThroughputExceededException,
} from "@aws-sdk/client-dynamodb";
import type { FaultKind, FaultPlan } from "./faultPlan";

interface MiddlewareClient {
  middlewareStack: {
    add(mw: unknown, opts: { step: "initialize"; name: string; priority?: "high" | "low" }): void;
    remove(name: string): boolean;
  };
}

let nextId = 0;
const meta = (status: number) => ({ httpStatusCode: status, requestId: "injected", attempts: 1 });

/** The error the SDK surfaces for each fault kind (same classes and names as the real ones). */
export function awsFaultError(fault: FaultKind, command: string, flip = false): Error {
  const why = `injected ${fault} on ${command}`;
  switch (fault) {
    case "throttle":
      // Both throttles DynamoDB answers with, alternating (table capacity; request rate).
      return flip
        ? new DynamoDBServiceException({
            name: "ThrottlingException",
            $fault: "client",
            $metadata: meta(400),
            message: why,
          })
        : new ProvisionedThroughputExceededException({ $metadata: meta(400), message: why });
    case "server-error":
    case "applied-500":
    case "partial-batch":
      return new InternalServerError({ $metadata: meta(500), message: why });
    case "timeout":
    case "applied-unheard": {
      const e = new Error(`${why}: socket timed out`);
      e.name = "TimeoutError";
      return e;
    }
  }
}

interface PutEventsArgs {
  input: { Entries?: unknown[] };
}
interface PutEventsOut {
  output: { FailedEntryCount?: number; Entries?: unknown[] };
}

/** Send every entry but the last; answer as EventBridge does when one entry failed (HTTP 200, FailedEntryCount 1). */
async function partialPutEvents(next: (a: unknown) => Promise<unknown>, args: unknown): Promise<unknown> {
  const a = args as PutEventsArgs;
  const entries = a.input.Entries ?? [];
  const failed = { ErrorCode: "InternalFailure", ErrorMessage: "injected partial-batch" };
  if (entries.length <= 1) return { output: { FailedEntryCount: entries.length, Entries: entries.map(() => failed) } };
  const res = (await next({ ...a, input: { ...a.input, Entries: entries.slice(0, -1) } })) as PutEventsOut;
  const out = res.output;
  return {
    ...res,
    output: { ...out, FailedEntryCount: (out.FailedEntryCount ?? 0) + 1, Entries: [...(out.Entries ?? []), failed] },
  };
}

/** Attach to any SDK v3 client (DynamoDB, EventBridge, …); requests are counted in the plan under `scope`. */
export function attachAwsFaults(client: MiddlewareClient, plan: FaultPlan, scope: string): () => void {
  const name = `tseFaults${nextId++}`;
  let calls = 0;
  client.middlewareStack.add(
    (next: (a: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
      const command = context.commandName ?? "unknown";
      const fault = plan.next(scope, `aws:${command}`);
      if (!fault) return next(args);
      calls++;
      if (fault === "partial-batch" && command === "PutEventsCommand") return partialPutEvents(next, args);
      if (fault.startsWith("applied-")) await next(args);
      throw awsFaultError(fault, command, calls % 2 === 0);
    },
    { step: "initialize", name, priority: "high" },
  );
  return () => {
    client.middlewareStack.remove(name);
  };
}
