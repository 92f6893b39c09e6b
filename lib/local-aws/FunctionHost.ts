// Local stand-in for "EventBridge rule → Lambda": Lambda execution inside LocalStack needs Docker, so each
// route's rule targets an SQS tap queue (with a DLQ), and this host long-polls the taps and invokes the
// same handlers in-process with the exact EventBridge envelope Lambda would receive.
import { randomUUID } from "node:crypto";
import {
  CreateEventBusCommand,
  DeleteEventBusCommand,
  DeleteRuleCommand,
  type EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
  ResourceAlreadyExistsException,
} from "@aws-sdk/client-eventbridge";
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { Context, EventBridgeEvent } from "aws-lambda";
import { runAsPrincipal } from "../adapters/aws/requestRecorder";
import type { DeliveredContext } from "../app/functionSpan";

/** The part of a routing-table entry the host needs (lib/routing/routes.ts `Route` satisfies it). */
export interface HostedRoute {
  functionName: string;
  eventPattern: object;
}

export type HostedHandler = (event: EventBridgeEvent<string, unknown>, context: Context) => Promise<unknown>;

export interface FunctionHostOptions {
  routes: readonly HostedRoute[];
  handlers: Readonly<Record<string, HostedHandler>>;
  eventBridge: EventBridgeClient;
  sqs: SQSClient;
  /** Bus name; created if missing. Default "tse-local". */
  eventBusName?: string;
  /** Prefix for rule and queue names so parallel runs do not clash. Default "tse". */
  resourcePrefix?: string;
  /** Receives before a message moves to the DLQ. Default 3. */
  maxReceiveCount?: number;
  /** Tap queue visibility timeout in seconds (how long a handler may run before redelivery). Default 30. */
  visibilityTimeoutSeconds?: number;
  /** Visibility after a failed invocation, in seconds; 0 retries at once. Default 0. */
  retryDelaySeconds?: number;
  /** Long-poll wait per receive, 1..5 s (kept short so stop() is quick). Default 2. */
  waitTimeSeconds?: number;
  /** Function timeout reported by context.getRemainingTimeInMillis. Default 30 000 ms. */
  functionTimeoutMs?: number;
  /** Routes whose function has no handler: "error" (default) refuses to start, "skip" creates nothing for them. */
  missingHandler?: "error" | "skip";
  /** Delete rules and queues on stop (the bus is kept). Default false. */
  deleteResourcesOnStop?: boolean;
  log?: (m: string) => void;
}

export interface FunctionStats {
  invocations: number;
  successes: number;
  failures: number;
}

export interface HostedFunction {
  functionName: string;
  ruleName: string;
  queueUrl: string;
  queueArn: string;
  dlqUrl: string;
  dlqArn: string;
}

export class FunctionHostError extends Error {
  override name = "FunctionHostError";
}

const SAFE_NAME = /[^A-Za-z0-9_-]/g;

export class FunctionHost {
  readonly eventBusName: string;
  private readonly prefix: string;
  private readonly functions = new Map<string, HostedFunction>();
  private readonly stats = new Map<string, FunctionStats>();
  private readonly inFlight = new Set<Promise<void>>();
  private abort = new AbortController();
  private pollers: Promise<void>[] = [];
  private running = false;

  constructor(private readonly opts: FunctionHostOptions) {
    this.eventBusName = opts.eventBusName ?? "tse-local";
    this.prefix = (opts.resourcePrefix ?? "tse").replace(SAFE_NAME, "-");
    const wait = opts.waitTimeSeconds ?? 2;
    if (!Number.isInteger(wait) || wait < 1 || wait > 5) {
      throw new FunctionHostError(`waitTimeSeconds must be an integer 1..5, got ${wait}`);
    }
    const mrc = opts.maxReceiveCount ?? 3;
    if (!Number.isInteger(mrc) || mrc < 1 || mrc > 1000) {
      throw new FunctionHostError(`maxReceiveCount must be an integer 1..1000, got ${mrc}`);
    }
    const names = new Set<string>();
    for (const r of opts.routes) {
      if (names.has(r.functionName)) throw new FunctionHostError(`duplicate route functionName '${r.functionName}'`);
      names.add(r.functionName);
      if (!opts.handlers[r.functionName] && (opts.missingHandler ?? "error") === "error") {
        throw new FunctionHostError(`no handler for routed function '${r.functionName}'`);
      }
    }
  }

  /** Creates bus, DLQs, tap queues, rules and targets (idempotent), then starts polling. */
  async start(): Promise<void> {
    if (this.running) return;
    const { eventBridge: eb, sqs } = this.opts;
    try {
      await eb.send(new CreateEventBusCommand({ Name: this.eventBusName }));
    } catch (err) {
      if (!(err instanceof ResourceAlreadyExistsException)) throw err;
    }
    const visibility = this.opts.visibilityTimeoutSeconds ?? 30;
    for (const route of this.opts.routes) {
      if (!this.opts.handlers[route.functionName]) continue;
      const base = `${this.prefix}-${route.functionName}`.replace(SAFE_NAME, "-").slice(0, 70);
      const dlq = await this.createQueue(`${base}-dlq`, { MessageRetentionPeriod: "1209600" });
      const ruleName = base.slice(0, 64);
      const ruleArn = (
        await eb.send(
          new PutRuleCommand({
            Name: ruleName,
            EventBusName: this.eventBusName,
            EventPattern: JSON.stringify(route.eventPattern),
            State: "ENABLED",
            Description: `local function host tap for ${route.functionName}`,
          }),
        )
      ).RuleArn;
      const tap = await this.createQueue(`${base}-tap`, {
        VisibilityTimeout: String(visibility),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: dlq.arn,
          maxReceiveCount: this.opts.maxReceiveCount ?? 3,
        }),
      });
      await sqs.send(
        new SetQueueAttributesCommand({
          QueueUrl: tap.url,
          Attributes: {
            Policy: JSON.stringify({
              Version: "2012-10-17",
              Statement: [
                {
                  Effect: "Allow",
                  Principal: { Service: "events.amazonaws.com" },
                  Action: "sqs:SendMessage",
                  Resource: tap.arn,
                  ...(ruleArn ? { Condition: { ArnEquals: { "aws:SourceArn": ruleArn } } } : {}),
                },
              ],
            }),
          },
        }),
      );
      await eb.send(
        new PutTargetsCommand({
          Rule: ruleName,
          EventBusName: this.eventBusName,
          Targets: [{ Id: "tap", Arn: tap.arn }],
        }),
      );
      this.functions.set(route.functionName, {
        functionName: route.functionName,
        ruleName,
        queueUrl: tap.url,
        queueArn: tap.arn,
        dlqUrl: dlq.url,
        dlqArn: dlq.arn,
      });
      this.stats.set(route.functionName, { invocations: 0, successes: 0, failures: 0 });
    }
    this.abort = new AbortController();
    this.running = true;
    this.pollers = [...this.functions.values()].map((f) => this.poll(f));
    this.opts.log?.(`function host polling ${this.functions.size} tap queue(s) on bus ${this.eventBusName}`);
  }

  /** Stops polling (aborting long polls), waits for in-flight handlers, optionally deletes rules and queues. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.abort.abort();
    await Promise.allSettled(this.pollers);
    await Promise.allSettled([...this.inFlight]);
    this.pollers = [];
    if (this.opts.deleteResourcesOnStop) await this.deleteResources();
  }

  /** Resources of one hosted function (queue URLs for tests and diagnostics). */
  resources(functionName: string): HostedFunction {
    const f = this.functions.get(functionName);
    if (!f) throw new FunctionHostError(`function '${functionName}' is not hosted (started? handler given?)`);
    return f;
  }

  getStats(): Record<string, FunctionStats> {
    return Object.fromEntries([...this.stats].map(([k, v]) => [k, { ...v }]));
  }

  private async createQueue(name: string, attributes: Record<string, string>): Promise<{ url: string; arn: string }> {
    const { sqs } = this.opts;
    const url = (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl;
    if (!url) throw new FunctionHostError(`CreateQueue ${name} returned no URL`);
    // Set attributes separately so re-running against existing queues (possibly with other values) is idempotent.
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: attributes }));
    const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] })))
      .Attributes?.QueueArn;
    if (!arn) throw new FunctionHostError(`GetQueueAttributes ${name} returned no QueueArn`);
    return { url, arn };
  }

  private async poll(f: HostedFunction): Promise<void> {
    const { sqs } = this.opts;
    const signal = this.abort.signal;
    while (this.running) {
      let messages: { ReceiptHandle?: string; Body?: string; MessageId?: string }[] = [];
      try {
        const res = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: f.queueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: this.opts.waitTimeSeconds ?? 2,
          }),
          { abortSignal: signal },
        );
        messages = res.Messages ?? [];
      } catch (err) {
        if (signal.aborted) return;
        this.opts.log?.(`receive from ${f.queueUrl} failed: ${String(err)}`);
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      // Handlers of one batch run concurrently; each message is acknowledged on its own.
      const work = messages.map((m) => this.track(this.invoke(f, m)));
      await Promise.allSettled(work);
    }
  }

  private track(p: Promise<void>): Promise<void> {
    this.inFlight.add(p);
    return p.finally(() => this.inFlight.delete(p));
  }

  private async invoke(f: HostedFunction, m: { ReceiptHandle?: string; Body?: string; MessageId?: string }) {
    const { sqs } = this.opts;
    const handler = this.opts.handlers[f.functionName];
    const stats = this.stats.get(f.functionName);
    if (!handler || !stats || !m.ReceiptHandle) return;
    stats.invocations++;
    const timeoutMs = this.opts.functionTimeoutMs ?? 30_000;
    const deadline = Date.now() + timeoutMs;
    const context = {
      callbackWaitsForEmptyEventLoop: false,
      functionName: f.functionName,
      functionVersion: "$LATEST",
      invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${f.functionName}`,
      memoryLimitInMB: "1024",
      awsRequestId: randomUUID(),
      logGroupName: `/aws/lambda/${f.functionName}`,
      logStreamName: `local/${m.MessageId ?? "unknown"}`,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      done: () => {},
      fail: () => {},
      succeed: () => {},
      tseDelivery: { system: "aws_sqs", destination: f.queueUrl.slice(f.queueUrl.lastIndexOf("/") + 1) },
    } satisfies DeliveredContext;
    try {
      // EventBridge delivers the full event envelope as the SQS message body.
      const event = JSON.parse(m.Body ?? "") as EventBridgeEvent<string, unknown>;
      // Every AWS request the handler makes is recorded as this function's (IAM evaluation).
      await runAsPrincipal(f.functionName, () => handler(event, context));
      stats.successes++;
      await sqs.send(new DeleteMessageCommand({ QueueUrl: f.queueUrl, ReceiptHandle: m.ReceiptHandle }));
    } catch (err) {
      stats.failures++;
      this.opts.log?.(`${f.functionName} failed on message ${m.MessageId}: ${String(err)}`);
      // Leave the message for redelivery; after maxReceiveCount receives SQS moves it to the DLQ.
      try {
        await sqs.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: f.queueUrl,
            ReceiptHandle: m.ReceiptHandle,
            VisibilityTimeout: this.opts.retryDelaySeconds ?? 0,
          }),
        );
      } catch {
        // visibility timeout will expire on its own
      }
    }
  }

  private async deleteResources(): Promise<void> {
    const { eventBridge: eb, sqs } = this.opts;
    for (const f of this.functions.values()) {
      await eb
        .send(new RemoveTargetsCommand({ Rule: f.ruleName, EventBusName: this.eventBusName, Ids: ["tap"] }))
        .catch(() => {});
      await eb.send(new DeleteRuleCommand({ Name: f.ruleName, EventBusName: this.eventBusName })).catch(() => {});
      await sqs.send(new DeleteQueueCommand({ QueueUrl: f.queueUrl })).catch(() => {});
      await sqs.send(new DeleteQueueCommand({ QueueUrl: f.dlqUrl })).catch(() => {});
    }
    this.functions.clear();
  }

  /** Deletes the bus too (for tests that created a private bus). Call after stop(). */
  async deleteBus(): Promise<void> {
    await this.opts.eventBridge.send(new DeleteEventBusCommand({ Name: this.eventBusName })).catch(() => {});
  }
}
