// EventBridgeEventBus against LocalStack: a rule with TAP_PATTERN on a fresh bus targets an SQS queue;
// deliveries are read back from the queue.
import { randomUUID } from "node:crypto";
import {
  CreateEventBusCommand,
  DeleteEventBusCommand,
  DeleteRuleCommand,
  EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
} from "@aws-sdk/client-eventbridge";
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { afterAll, describe, expect, it } from "vitest";
import { EventBridgeEventBus } from "../../lib/adapters/aws/EventBridgeEventBus";
import type { EventPattern } from "../../lib/routing/eventPattern";
import {
  type Delivered,
  type EventBusHarness,
  eventBusContract,
  sampleBusEvent,
  TAP_PATTERN,
} from "../contract/eventBus.contract";
import { localstackClientConfig } from "../support/aws";

const cfg = localstackClientConfig();
const clientOpts = { ...cfg, requestHandler: { requestTimeout: 10_000 } };

interface Tap {
  busName: string;
  queueUrl: string;
  eb: EventBridgeClient;
  sqs: SQSClient;
  cleanup(): Promise<void>;
}

async function createTap(pattern: EventPattern): Promise<Tap> {
  const eb = new EventBridgeClient(clientOpts);
  const sqs = new SQSClient(clientOpts);
  const suffix = randomUUID().slice(0, 8);
  const busName = `tse-contract-${suffix}`;
  const ruleName = `tap-${suffix}`;
  const queue = await sqs.send(new CreateQueueCommand({ QueueName: `tse-contract-tap-${suffix}` }));
  const queueUrl = queue.QueueUrl as string;
  const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }));
  const queueArn = attrs.Attributes?.QueueArn as string;
  await eb.send(new CreateEventBusCommand({ Name: busName }));
  const rule = await eb.send(
    new PutRuleCommand({ Name: ruleName, EventBusName: busName, EventPattern: JSON.stringify(pattern) }),
  );
  await sqs.send(
    new SetQueueAttributesCommand({
      QueueUrl: queueUrl,
      Attributes: {
        Policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { Service: "events.amazonaws.com" },
              Action: "sqs:SendMessage",
              Resource: queueArn,
              Condition: { ArnEquals: { "aws:SourceArn": rule.RuleArn } },
            },
          ],
        }),
      },
    }),
  );
  await eb.send(
    new PutTargetsCommand({ Rule: ruleName, EventBusName: busName, Targets: [{ Id: "tap", Arn: queueArn }] }),
  );
  return {
    busName,
    queueUrl,
    eb,
    sqs,
    async cleanup() {
      await eb.send(new RemoveTargetsCommand({ Rule: ruleName, EventBusName: busName, Ids: ["tap"] }));
      await eb.send(new DeleteRuleCommand({ Name: ruleName, EventBusName: busName }));
      await eb.send(new DeleteEventBusCommand({ Name: busName }));
      await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
      eb.destroy();
      sqs.destroy();
    },
  };
}

/** Long-poll the tap queue, deleting what it reads. */
async function drainQueue(tap: Tap, into: Delivered[], untilCount: number, deadline: number): Promise<void> {
  while (into.length < untilCount && Date.now() < deadline) {
    const waitSeconds = Math.max(0, Math.min(1, Math.floor((deadline - Date.now()) / 1000)));
    const out = await tap.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: tap.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: waitSeconds }),
    );
    const msgs = out.Messages ?? [];
    for (const m of msgs) into.push(JSON.parse(m.Body as string));
    if (msgs.length > 0)
      await tap.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: tap.queueUrl,
          Entries: msgs.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle as string })),
        }),
      );
    if (msgs.length === 0 && waitSeconds === 0) await new Promise((r) => setTimeout(r, 50));
  }
}

async function harness(): Promise<EventBusHarness> {
  const tap = await createTap(TAP_PATTERN);
  const bus = new EventBridgeEventBus({ eventBusName: tap.busName, client: tap.eb });
  const seen: Delivered[] = [];
  let consumed = 0;
  return {
    bus,
    async collect(count, timeoutMs) {
      await drainQueue(tap, seen, consumed + count, Date.now() + timeoutMs);
      if (seen.length - consumed < count)
        throw new Error(`only ${seen.length - consumed} of ${count} deliveries within ${timeoutMs} ms`);
      const out = seen.slice(consumed, consumed + count);
      consumed += count;
      return out;
    },
    async settle(quietMs) {
      await new Promise((r) => setTimeout(r, quietMs));
      await drainQueue(tap, seen, Number.POSITIVE_INFINITY, Date.now() + 1_000);
      return seen;
    },
    close: () => tap.cleanup(),
  };
}

eventBusContract("EventBridgeEventBus on LocalStack", harness, 15_000);

describe("EventBridgeEventBus specifics", () => {
  const taps: Tap[] = [];
  afterAll(async () => {
    for (const t of taps) await t.cleanup();
  });

  it("batches ≤ 10 entries per PutEvents call", async () => {
    const tap = await createTap(TAP_PATTERN);
    taps.push(tap);
    const calls: number[] = [];
    tap.eb.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== "PutEventsCommand") return next(args);
        calls.push(((args.input as { Entries?: unknown[] }).Entries ?? []).length);
        return next(args);
      },
      { step: "initialize", name: "countEntries" },
    );
    const bus = new EventBridgeEventBus({ eventBusName: tap.busName, client: tap.eb, concurrency: 1 });
    const result = await bus.publish(
      Array.from({ length: 23 }, (_, i) => sampleBusEvent("MarketSnapshot", { eventId: `b-${i}` })),
    );
    expect(result).toEqual({ published: 23, failed: [] });
    expect(calls).toEqual([10, 10, 3]);
    const got: Delivered[] = [];
    await drainQueue(tap, got, 23, Date.now() + 15_000);
    expect(got).toHaveLength(23);
  });

  it("retries ONLY the entries PutEvents reported as failed", async () => {
    const tap = await createTap(TAP_PATTERN);
    taps.push(tap);
    const sent: string[][] = [];
    let call = 0;
    // Fault injection on the real endpoint: on the first call, entries 1 and 3 are withheld from LocalStack and
    // reported back as InternalFailure, exactly as a partial PutEvents failure looks.
    tap.eb.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== "PutEventsCommand") return next(args);
        const input = args.input as { Entries: { Detail: string }[] };
        const ids = input.Entries.map((e) => JSON.parse(e.Detail).meta.eventId as string);
        sent.push(ids);
        if (call++ > 0) return next(args);
        const withheld = new Set([1, 3]);
        const forwarded = input.Entries.filter((_, i) => !withheld.has(i));
        const res = await next({ ...args, input: { ...args.input, Entries: forwarded } });
        const out = res.output as { Entries: object[]; FailedEntryCount: number };
        const real = [...out.Entries];
        out.Entries = input.Entries.map((_, i) =>
          withheld.has(i) ? { ErrorCode: "InternalFailure", ErrorMessage: "injected" } : (real.shift() as object),
        );
        out.FailedEntryCount = withheld.size;
        return res;
      },
      { step: "initialize", name: "partialFailure" },
    );
    const bus = new EventBridgeEventBus({ eventBusName: tap.busName, client: tap.eb, initialDelayMs: 5 });
    const events = Array.from({ length: 5 }, (_, i) => sampleBusEvent("ExecutionReported", { eventId: `r-${i}` }));
    expect(await bus.publish(events)).toEqual({ published: 5, failed: [] });
    expect(sent).toEqual([
      ["r-0", "r-1", "r-2", "r-3", "r-4"],
      ["r-1", "r-3"],
    ]);
    expect(bus.getStats()).toMatchObject({ putEventsCalls: 2, entriesSent: 7, entriesRetried: 2 });
    const got: Delivered[] = [];
    await drainQueue(tap, got, 5, Date.now() + 15_000);
    await drainQueue(tap, got, 6, Date.now() + 1_500); // nothing more may arrive: no duplicates
    expect(got.map((g) => g.detail.meta.eventId).sort()).toEqual(["r-0", "r-1", "r-2", "r-3", "r-4"]);
  });

  it("reports entries that keep failing after maxAttempts, and permanent codes without retrying", async () => {
    const tap = await createTap(TAP_PATTERN);
    taps.push(tap);
    const sent: string[][] = [];
    // Fault injection: p-perm is always refused as MalformedDetail, p-throttled always throttled; the rest reach LocalStack.
    const injected: Record<string, { ErrorCode: string; ErrorMessage: string }> = {
      "p-perm": { ErrorCode: "MalformedDetail", ErrorMessage: "injected permanent" },
      "p-throttled": { ErrorCode: "ThrottlingException", ErrorMessage: "injected throttle" },
    };
    tap.eb.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== "PutEventsCommand") return next(args);
        const input = args.input as { Entries: { Detail: string }[] };
        const ids = input.Entries.map((e) => JSON.parse(e.Detail).meta.eventId as string);
        sent.push(ids);
        const forwarded = input.Entries.filter((_, i) => !injected[ids[i] as string]);
        const real: object[] = [];
        if (forwarded.length > 0) {
          const res = await next({ ...args, input: { ...args.input, Entries: forwarded } });
          real.push(...((res.output as { Entries: object[] }).Entries ?? []));
        }
        const Entries = ids.map((id) => injected[id] ?? (real.shift() as object));
        return {
          output: { $metadata: {}, Entries, FailedEntryCount: ids.filter((id) => injected[id]).length },
          response: {},
        };
      },
      { step: "initialize", name: "alwaysFail" },
    );
    const bus = new EventBridgeEventBus({
      eventBusName: tap.busName,
      client: tap.eb,
      maxAttempts: 3,
      initialDelayMs: 5,
      maxDelayMs: 20,
    });
    const events = [
      sampleBusEvent("MarketSnapshot", { eventId: "p-ok" }),
      sampleBusEvent("MarketSnapshot", { eventId: "p-perm" }),
      sampleBusEvent("MarketSnapshot", { eventId: "p-throttled" }),
    ];
    const result = await bus.publish(events);
    expect(result.published).toBe(1);
    expect(result.failed.map((f) => [f.index, f.errorCode])).toEqual([
      [1, "MalformedDetail"],
      [2, "ThrottlingException"],
    ]);
    expect(result.failed[1]?.errorMessage).toContain("after 3 attempts");
    expect(sent).toEqual([["p-ok", "p-perm", "p-throttled"], ["p-throttled"], ["p-throttled"]]);
    const got: Delivered[] = [];
    await drainQueue(tap, got, 1, Date.now() + 15_000);
    expect(got.map((g) => g.detail.meta.eventId)).toEqual(["p-ok"]);
  });
});
