// LocalStack rig for the functions: a fresh table, a private bus, the FunctionHost (rules → SQS taps → the
// real handlers), EventBridge + DynamoDB adapters, the execution forwarder, and the simulators on loopback.

import { randomUUID } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from "@aws-sdk/client-eventbridge";
import { GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { createTable, deleteTable } from "../../lib/adapters/aws/createTable";
import { DynamoDbStateStore } from "../../lib/adapters/aws/DynamoDbStateStore";
import { EventBridgeEventBus } from "../../lib/adapters/aws/EventBridgeEventBus";
import { instrumentAwsClient } from "../../lib/adapters/aws/requestRecorder";
import { GrpcExchange } from "../../lib/adapters/GrpcExchange";
import type { EngineDependencies } from "../../lib/app/dependencies";
import type { LambdaHandler } from "../../lib/app/functionRuntime";
import { createFunctionHandlers, type FunctionName } from "../../lib/app/handlers";
import type { EngineSettingsInput } from "../../lib/app/settings";
import { ExecutionForwarder } from "../../lib/bridges/ExecutionForwarder";
import { InstrumentRegistry } from "../../lib/domain/instruments";
import { toPutEventsEntry } from "../../lib/events";
import { FunctionHost, type HostedHandler } from "../../lib/local-aws";
import type { BusEvent, EventBus, PublishResult } from "../../lib/ports/EventBus";
import { ROUTES } from "../../lib/routing/routes";
import { type Book, type EngineRig, startEngineRig } from "../support/engineRig";

const cfg = () => {
  const endpoint = process.env.AWS_ENDPOINT_URL;
  if (!endpoint) throw new Error("AWS_ENDPOINT_URL is not set: the localstack global setup did not run");
  return {
    endpoint,
    region: process.env.AWS_REGION ?? "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  };
};

/** Publishes every batch twice: as given, then again in reverse order (every event delivered twice, out of order). */
export class DuplicatingEventBus implements EventBus {
  constructor(private readonly inner: EventBus) {}
  async publish(events: readonly BusEvent[]): Promise<PublishResult> {
    const first = await this.inner.publish(events);
    const again = await this.inner.publish([...events].reverse());
    return { published: first.published, failed: [...first.failed, ...again.failed] };
  }
}

/** Runs one invocation at a time: how a function with reserved concurrency 1 behaves. */
function serial(h: HostedHandler): HostedHandler {
  let tail: Promise<unknown> = Promise.resolve();
  return (event, context) => {
    const run = tail.then(() => h(event, context));
    tail = run.catch(() => undefined);
    return run;
  };
}

export interface FunctionsRig {
  run: string;
  tableName: string;
  busName: string;
  store: DynamoDbStateStore;
  bus: EventBus;
  host: FunctionHost;
  sims: EngineRig;
  forwarder: ExecutionForwarder;
  handlers: Record<FunctionName, LambdaHandler>;
  /** Per hosted function: results of successful invocations and the most invocations seen in flight at once. */
  observed: Record<string, { results: unknown[]; errors: unknown[]; inFlight: number; maxInFlight: number }>;
  eventBridge: EventBridgeClient;
  sqs: SQSClient;
  /** PutEvents on the rig's bus (raw entries: malformed ones included). */
  putRaw(entries: PutEventsRequestEntry[]): Promise<void>;
  putEvents(events: readonly BusEvent[]): Promise<void>;
  dlqMessages(functionName: FunctionName, max: number, waitMs: number): Promise<unknown[]>;
  queueDepth(functionName: FunctionName): Promise<number>;
  stop(): Promise<void>;
}

export interface FunctionsRigOptions {
  now: number;
  books?: readonly Book[];
  settings?: EngineSettingsInput;
  functions?: readonly FunctionName[];
  duplicateEverything?: boolean;
  /** fill-handling one invocation at a time (reserved concurrency 1, as deployed). Default true. */
  serialFills?: boolean;
  maxReceiveCount?: number;
  retryDelaySeconds?: number;
}

export async function startFunctionsRig(opts: FunctionsRigOptions): Promise<FunctionsRig> {
  const run = `fn-${randomUUID().slice(0, 8)}`;
  const tableName = `${run}-state`;
  const busName = `${run}-bus`;
  const ddb = instrumentAwsClient(new DynamoDBClient({ ...cfg(), maxAttempts: 5 }));
  const eventBridge = instrumentAwsClient(new EventBridgeClient(cfg()));
  const sqs = instrumentAwsClient(new SQSClient(cfg()));
  await createTable(ddb, tableName);
  const store = new DynamoDbStateStore({ client: ddb, tableName });
  const real = new EventBridgeEventBus({ eventBusName: busName, client: eventBridge });
  const bus: EventBus = opts.duplicateEverything ? new DuplicatingEventBus(real) : real;
  const sims = await startEngineRig({
    now: opts.now,
    ...(opts.books ? { books: opts.books } : {}),
    ...(opts.settings ? { settings: opts.settings } : {}),
  });
  const deps: EngineDependencies = {
    store,
    bus,
    settings: sims.settings,
    exchange: new GrpcExchange(sims.peers.exchange),
    riskMonitor: sims.peers.risk,
    instruments: new InstrumentRegistry(),
    clock: Date.now,
  };
  const handlers = createFunctionHandlers(deps);
  const wanted = new Set<string>(opts.functions ?? ["signal", "order-placement", "fill-handling", "reporting"]);
  const hosted: Record<string, HostedHandler> = {};
  const observed: FunctionsRig["observed"] = {};
  for (const [name, h] of Object.entries(handlers)) {
    if (!wanted.has(name)) continue;
    const o = { results: [] as unknown[], errors: [] as unknown[], inFlight: 0, maxInFlight: 0 };
    observed[name] = o;
    const watched: HostedHandler = async (event, context) => {
      o.maxInFlight = Math.max(o.maxInFlight, ++o.inFlight);
      try {
        const r = await h(event, context);
        o.results.push(r);
        return r;
      } catch (e) {
        o.errors.push(e);
        throw e;
      } finally {
        o.inFlight--;
      }
    };
    hosted[name] = name === "fill-handling" && (opts.serialFills ?? true) ? serial(watched) : watched;
  }
  const host = new FunctionHost({
    routes: ROUTES,
    handlers: hosted,
    eventBridge,
    sqs,
    eventBusName: busName,
    resourcePrefix: run,
    missingHandler: "skip",
    maxReceiveCount: opts.maxReceiveCount ?? 3,
    // Failures retry at once (retryDelaySeconds); this only bounds a slow successful handler, so keep it
    // well above the worst loaded-machine latency to avoid spurious redelivery.
    visibilityTimeoutSeconds: 30,
    retryDelaySeconds: opts.retryDelaySeconds ?? 0,
    waitTimeSeconds: 1,
    deleteResourcesOnStop: true,
  });
  await host.start();
  // The forwarder stands in for the quoter's bridge: its own client, recorded as the quoter's requests.
  const quoterBus = new EventBridgeEventBus({
    eventBusName: busName,
    client: instrumentAwsClient(new EventBridgeClient(cfg()), { principal: "quoter" }),
  });
  const forwarder = new ExecutionForwarder({
    exchange: new GrpcExchange(sims.peers.exchange),
    bus: opts.duplicateEverything ? new DuplicatingEventBus(quoterBus) : quoterBus,
  });
  forwarder.start();
  const rig: FunctionsRig = {
    run,
    tableName,
    busName,
    store,
    bus,
    host,
    sims,
    forwarder,
    handlers,
    observed,
    eventBridge,
    sqs,
    async putRaw(entries) {
      for (let i = 0; i < entries.length; i += 10) {
        const r = await eventBridge.send(
          new PutEventsCommand({ Entries: entries.slice(i, i + 10).map((e) => ({ ...e, EventBusName: busName })) }),
        );
        if (r.FailedEntryCount) throw new Error(`PutEvents failed: ${JSON.stringify(r.Entries)}`);
      }
    },
    async putEvents(events) {
      await rig.putRaw(events.map((e) => toPutEventsEntry(e, busName)));
    },
    async dlqMessages(functionName, max, waitMs) {
      const { dlqUrl } = host.resources(functionName);
      const out: unknown[] = [];
      const deadline = Date.now() + waitMs;
      while (out.length < max && Date.now() < deadline) {
        const r = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
        );
        for (const m of r.Messages ?? []) out.push(JSON.parse(m.Body ?? "null"));
      }
      return out;
    },
    async queueDepth(functionName) {
      const { queueUrl } = host.resources(functionName);
      const a = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        }),
      );
      return (
        Number(a.Attributes?.ApproximateNumberOfMessages ?? 0) +
        Number(a.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
      );
    },
    async stop() {
      await forwarder.stop().catch(() => {});
      quoterBus.client.destroy();
      await host.stop();
      await host.deleteBus();
      await sims.stop();
      await deleteTable(ddb, tableName).catch(() => {});
    },
  };
  return rig;
}

export async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Wait until every hosted tap queue is empty (nothing visible or in flight) for a moment. */
export async function settled(
  rig: FunctionsRig,
  functions: readonly FunctionName[],
  timeoutMs = 20_000,
): Promise<void> {
  let quietSince = 0;
  await until(
    async () => {
      let depth = 0;
      for (const f of functions) depth += await rig.queueDepth(f);
      if (depth > 0) {
        quietSince = 0;
        return undefined;
      }
      quietSince ||= Date.now();
      return Date.now() - quietSince >= 1500 ? true : undefined;
    },
    "the tap queues to drain",
    timeoutMs,
  );
}
