// Issue 2 acceptance: EventBridge (LocalStack) → rule → SQS tap → FunctionHost → handler → DynamoDB,
// and a throwing handler's event ends in the DLQ after the configured attempts with nothing written.
import { randomUUID } from "node:crypto";
import {
  CreateTableCommand,
  DeleteTableCommand,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
} from "@aws-sdk/client-dynamodb";
import { DeleteRuleCommand, PutEventsCommand, RemoveTargetsCommand } from "@aws-sdk/client-eventbridge";
import { DeleteQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import type { EventBridgeEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildEvent, type EventDetail } from "../../lib/events";
import { FunctionHost, type HostedHandler } from "../../lib/local-aws";
import { routeFor } from "../../lib/routing/routes";
import { eventually, localClients } from "./awsClients";

const { ddb, eventBridge, sqs } = localClients();
const run = `fh-${randomUUID().slice(0, 8)}`;
const table = `${run}-snapshots`;
// The MarketSnapshot route of the routing table (the pattern the signal function is triggered by).
const snapshotPattern = routeFor("signal").eventPattern;

function snapshotEvent(bus: string, sequence: number) {
  const now = Date.now();
  return buildEvent(
    "tse.market",
    "MarketSnapshot",
    {
      venue: "venue-a",
      symbol: "BTC-USD",
      bid: "64000.50",
      ask: "64001.25",
      bidSize: "1.5",
      askSize: "2",
      sequence,
      ts: new Date(now).toISOString(),
    },
    { now, eventBusName: bus },
  );
}

/** A real handler: records the snapshot it received, keyed by the envelope's event id. */
const recordSnapshot: HostedHandler = async (event, context) => {
  const e = event as EventBridgeEvent<"MarketSnapshot", EventDetail<"MarketSnapshot">>;
  await ddb.send(
    new PutItemCommand({
      TableName: table,
      Item: {
        pk: { S: `SNAP#${e.detail.meta.eventId}` },
        source: { S: e.source },
        detailType: { S: e["detail-type"] },
        envelopeId: { S: e.id },
        bid: { S: e.detail.data.bid },
        ask: { S: e.detail.data.ask },
        requestId: { S: context.awsRequestId },
        functionName: { S: context.functionName },
      },
    }),
  );
};

beforeAll(async () => {
  await ddb.send(
    new CreateTableCommand({
      TableName: table,
      KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
      AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
      BillingMode: "PAY_PER_REQUEST",
    }),
  );
});

afterAll(async () => {
  await ddb.send(new DeleteTableCommand({ TableName: table })).catch(() => {});
});

describe("FunctionHost on LocalStack", () => {
  it("delivers a MarketSnapshot put on the bus to the routed handler within 5 s, which writes to DynamoDB", async () => {
    const bus = `${run}-ok`;
    const host = new FunctionHost({
      routes: [{ functionName: "snapshot-recorder", eventPattern: snapshotPattern }],
      handlers: { "snapshot-recorder": recordSnapshot },
      eventBridge,
      sqs,
      eventBusName: bus,
      resourcePrefix: `${run}-ok`,
      waitTimeSeconds: 1,
      deleteResourcesOnStop: true,
    });
    await host.start();
    try {
      const entry = snapshotEvent(bus, 1);
      const eventId = (JSON.parse(entry.Detail) as EventDetail<"MarketSnapshot">).meta.eventId;
      const put = await eventBridge.send(new PutEventsCommand({ Entries: [entry] }));
      expect(put.FailedEntryCount).toBe(0);
      const t0 = Date.now();
      const item = await eventually(
        async () =>
          (await ddb.send(new GetItemCommand({ TableName: table, Key: { pk: { S: `SNAP#${eventId}` } } }))).Item,
        5000,
        "the handler's DynamoDB item",
      );
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(item.source?.S).toBe("tse.market");
      expect(item.detailType?.S).toBe("MarketSnapshot");
      expect(item.bid?.S).toBe("64000.50");
      expect(item.ask?.S).toBe("64001.25");
      // The envelope id is EventBridge's own event id: the handler got the full envelope, not just the detail.
      expect(item.envelopeId?.S).toMatch(/^[0-9a-f-]{36}$/);
      expect(item.functionName?.S).toBe("snapshot-recorder");
      expect(host.getStats()["snapshot-recorder"]).toMatchObject({ invocations: 1, successes: 1, failures: 0 });
    } finally {
      await host.stop();
      await host.deleteBus();
    }
  });

  it("does not deliver an event the route's pattern does not match", async () => {
    const bus = `${run}-nomatch`;
    const seen: string[] = [];
    const host = new FunctionHost({
      routes: [{ functionName: "snapshot-recorder", eventPattern: snapshotPattern }],
      handlers: {
        "snapshot-recorder": async (e) => {
          seen.push(e["detail-type"]);
        },
      },
      eventBridge,
      sqs,
      eventBusName: bus,
      resourcePrefix: `${run}-nm`,
      waitTimeSeconds: 1,
      deleteResourcesOnStop: true,
    });
    await host.start();
    try {
      const wrongSource = { ...snapshotEvent(bus, 2), Source: "tse.engine" };
      const matching = snapshotEvent(bus, 3);
      await eventBridge.send(new PutEventsCommand({ Entries: [wrongSource, matching] }));
      await eventually(async () => (seen.length > 0 ? true : undefined), 5000, "the matching event");
      // Give a wrongly routed event time to show up as well.
      await new Promise((r) => setTimeout(r, 1500));
      expect(seen).toEqual(["MarketSnapshot"]);
    } finally {
      await host.stop();
      await host.deleteBus();
    }
  });

  it("leaves a throwing handler's event in the DLQ after maxReceiveCount attempts and writes nothing", async () => {
    const bus = `${run}-dlq`;
    const maxReceiveCount = 2;
    let attempts = 0;
    const host = new FunctionHost({
      routes: [{ functionName: "always-fails", eventPattern: snapshotPattern }],
      handlers: {
        "always-fails": async (event, context) => {
          attempts++;
          // It would write, but fails validation first: nothing may be half-written.
          if (event.source === "tse.market") throw new Error(`rejected by ${context.functionName}`);
          await recordSnapshot(event, context);
        },
      },
      eventBridge,
      sqs,
      eventBusName: bus,
      resourcePrefix: `${run}-dlq`,
      maxReceiveCount,
      visibilityTimeoutSeconds: 2,
      retryDelaySeconds: 0,
      waitTimeSeconds: 1,
      deleteResourcesOnStop: true,
    });
    await host.start();
    try {
      const before = (await ddb.send(new ScanCommand({ TableName: table, Select: "COUNT" }))).Count ?? 0;
      const entry = snapshotEvent(bus, 4);
      const eventId = (JSON.parse(entry.Detail) as EventDetail<"MarketSnapshot">).meta.eventId;
      await eventBridge.send(new PutEventsCommand({ Entries: [entry] }));
      const { dlqUrl } = host.resources("always-fails");
      const dead = await eventually(
        async () => {
          const r = await sqs.send(
            new ReceiveMessageCommand({ QueueUrl: dlqUrl, WaitTimeSeconds: 1, MaxNumberOfMessages: 1 }),
          );
          return r.Messages?.[0];
        },
        20_000,
        "the event in the DLQ",
      );
      const body = JSON.parse(dead.Body ?? "{}") as EventBridgeEvent<string, EventDetail<"MarketSnapshot">>;
      expect(body.source).toBe("tse.market");
      expect(body["detail-type"]).toBe("MarketSnapshot");
      expect(body.detail.meta.eventId).toBe(eventId);
      expect(attempts).toBe(maxReceiveCount);
      expect(host.getStats()["always-fails"]).toMatchObject({ invocations: maxReceiveCount, successes: 0 });
      const after = (await ddb.send(new ScanCommand({ TableName: table, Select: "COUNT" }))).Count ?? 0;
      expect(after).toBe(before);
      expect(
        (await ddb.send(new GetItemCommand({ TableName: table, Key: { pk: { S: `SNAP#${eventId}` } } }))).Item,
      ).toBeUndefined();
    } finally {
      await host.stop();
      await host.deleteBus();
    }
  });

  it("defaults to maxReceiveCount 3: the tap's redrive policy says 3 and a throwing handler is tried 3 times", async () => {
    const bus = `${run}-dlq3`;
    let attempts = 0;
    const host = new FunctionHost({
      routes: [{ functionName: "fails-thrice", eventPattern: snapshotPattern }],
      handlers: {
        "fails-thrice": async () => {
          attempts++;
          throw new Error("always fails");
        },
      },
      eventBridge,
      sqs,
      eventBusName: bus,
      resourcePrefix: `${run}-dlq3`,
      visibilityTimeoutSeconds: 1,
      retryDelaySeconds: 0,
      waitTimeSeconds: 1,
      deleteResourcesOnStop: true,
    });
    await host.start();
    try {
      const { queueUrl, dlqUrl, dlqArn } = host.resources("fails-thrice");
      const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["All"] }));
      const redrive = JSON.parse(attrs.Attributes?.RedrivePolicy ?? "{}") as Record<string, unknown>;
      expect(Number(redrive.maxReceiveCount)).toBe(3);
      expect(redrive.deadLetterTargetArn).toBe(dlqArn);
      await eventBridge.send(new PutEventsCommand({ Entries: [snapshotEvent(bus, 5)] }));
      await eventually(
        async () => {
          const r = await sqs.send(
            new ReceiveMessageCommand({ QueueUrl: dlqUrl, WaitTimeSeconds: 1, MaxNumberOfMessages: 1 }),
          );
          return r.Messages?.[0];
        },
        20_000,
        "the event in the DLQ",
      );
      expect(attempts).toBe(3);
    } finally {
      await host.stop();
      await host.deleteBus();
    }
  });

  it("stop() lets an in-flight handler finish and acknowledges its message, then stops polling", async () => {
    const bus = `${run}-stop`;
    let started = false;
    let finished = false;
    const host = new FunctionHost({
      routes: [{ functionName: "slow", eventPattern: snapshotPattern }],
      handlers: {
        slow: async () => {
          started = true;
          await new Promise((r) => setTimeout(r, 1500));
          finished = true;
        },
      },
      eventBridge,
      sqs,
      eventBusName: bus,
      resourcePrefix: `${run}-stop`,
      waitTimeSeconds: 1,
      deleteResourcesOnStop: false,
    });
    await host.start();
    const { queueUrl, dlqUrl, ruleName } = host.resources("slow");
    try {
      await eventBridge.send(new PutEventsCommand({ Entries: [snapshotEvent(bus, 6)] }));
      await eventually(async () => (started ? true : undefined), 5000, "the handler to start");
      const t0 = Date.now();
      await host.stop();
      const stopMs = Date.now() - t0;
      expect(finished).toBe(true);
      expect(stopMs).toBeLessThan(5000);
      expect(host.getStats().slow).toMatchObject({ invocations: 1, successes: 1, failures: 0 });
      // Acknowledged: nothing left visible or in flight on the tap, nothing dead-lettered.
      const attrs = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        }),
      );
      expect(attrs.Attributes).toMatchObject({
        ApproximateNumberOfMessages: "0",
        ApproximateNumberOfMessagesNotVisible: "0",
      });
      // Stopped means stopped: a later event is not handled by this host.
      await eventBridge.send(new PutEventsCommand({ Entries: [snapshotEvent(bus, 7)] }));
      await new Promise((r) => setTimeout(r, 1500));
      expect(host.getStats().slow?.invocations).toBe(1);
    } finally {
      await host.stop();
      await eventBridge
        .send(new RemoveTargetsCommand({ Rule: ruleName, EventBusName: bus, Ids: ["tap"] }))
        .catch(() => {});
      await eventBridge.send(new DeleteRuleCommand({ Name: ruleName, EventBusName: bus })).catch(() => {});
      await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl })).catch(() => {});
      await sqs.send(new DeleteQueueCommand({ QueueUrl: dlqUrl })).catch(() => {});
      await host.deleteBus();
    }
  });

  it("refuses a routed function without a handler, naming it", () => {
    expect(
      () =>
        new FunctionHost({
          routes: [{ functionName: "orphan", eventPattern: snapshotPattern }],
          handlers: {},
          eventBridge,
          sqs,
        }),
    ).toThrow(/no handler for routed function 'orphan'/);
  });
});
