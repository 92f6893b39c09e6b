// `--aws local`: watches that the session's LocalStack resources (table, bus, tap queues) still exist. Host-mode
// LocalStack keeps everything in memory, so a restart forgets them; recreating them silently would lose the
// state and let events be acknowledged against books that are gone. So: a resource reported missing stops the
// session with LocalStackStateLostError naming it; LocalStack not answering for longer than the bound stops it
// with LocalStackUnreachableError; a shorter outage is ridden out (handlers fail, SQS redelivers).
import { DescribeTableCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DescribeEventBusCommand, type EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";

export class LocalStackStateLostError extends Error {
  override name = "LocalStackStateLostError";
  constructor(
    readonly endpoint: string,
    readonly resource: string,
    detail: string,
  ) {
    super(
      `LocalStack at ${endpoint} lost the session's ${resource} (${detail}): it restarted without persistence, so ` +
        "the session's state is gone; the session stops instead of recreating it empty",
    );
  }
}

export class LocalStackUnreachableError extends Error {
  override name = "LocalStackUnreachableError";
  constructor(
    readonly endpoint: string,
    readonly downForMs: number,
    detail: string,
  ) {
    super(`LocalStack at ${endpoint} has not answered for ${Math.round(downForMs / 1000)} s (${detail.slice(0, 200)})`);
  }
}

export interface WatchedResources {
  tableName: string;
  eventBusName: string;
  /** Queue name → URL (the function host's taps and DLQs). */
  queues: Record<string, string>;
}

export interface LocalStackWatchOptions {
  endpoint: string;
  ddb: DynamoDBClient;
  eventBridge: EventBridgeClient;
  sqs: SQSClient;
  resources: WatchedResources;
  onFatal: (err: LocalStackStateLostError | LocalStackUnreachableError) => void;
  /** Default 2000 ms. */
  intervalMs?: number;
  /** How long LocalStack may not answer before the session stops. Default 60 000 ms. */
  unreachableLimitMs?: number;
  log?: (m: string) => void;
}

const NOT_FOUND = new Set([
  "ResourceNotFoundException",
  "QueueDoesNotExist",
  "AWS.SimpleQueueService.NonExistentQueue",
]);

export class LocalStackWatch {
  private timer: NodeJS.Timeout | undefined;
  private downSince: number | undefined;
  private fired = false;
  private checking = false;
  checks = 0;

  constructor(private readonly opts: LocalStackWatchOptions) {}

  start(): void {
    this.timer ??= setInterval(() => void this.tick(), this.opts.intervalMs ?? 2_000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async tick(): Promise<void> {
    if (this.checking || this.fired) return;
    this.checking = true;
    try {
      const outcome = await this.check();
      if (outcome === "ok") {
        if (this.downSince !== undefined) this.opts.log?.("localstack watch: answering again, resources present");
        this.downSince = undefined;
        return;
      }
      if (outcome instanceof LocalStackStateLostError) return this.fire(outcome);
      this.downSince ??= Date.now();
      const down = Date.now() - this.downSince;
      if (down > (this.opts.unreachableLimitMs ?? 60_000))
        this.fire(new LocalStackUnreachableError(this.opts.endpoint, down, outcome));
    } finally {
      this.checking = false;
      this.checks++;
    }
  }

  private fire(err: LocalStackStateLostError | LocalStackUnreachableError): void {
    if (this.fired) return;
    this.fired = true;
    this.stop();
    this.opts.onFatal(err);
  }

  /** "ok", the lost resource, or why LocalStack did not answer. */
  private async check(): Promise<"ok" | LocalStackStateLostError | string> {
    const { ddb, eventBridge, sqs, resources: r, endpoint } = this.opts;
    const signal = () => ({ abortSignal: AbortSignal.timeout(5_000) });
    const probes: [string, () => Promise<unknown>][] = [
      [`DynamoDB table ${r.tableName}`, () => ddb.send(new DescribeTableCommand({ TableName: r.tableName }), signal())],
      [
        `EventBridge bus ${r.eventBusName}`,
        () => eventBridge.send(new DescribeEventBusCommand({ Name: r.eventBusName }), signal()),
      ],
      ...Object.entries(r.queues).map(
        ([name, url]) =>
          [
            `SQS queue ${name}`,
            () => sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }), signal()),
          ] as [string, () => Promise<unknown>],
      ),
    ];
    for (const [resource, probe] of probes) {
      try {
        await probe();
      } catch (err) {
        const name = (err as { name?: string }).name ?? "";
        const message = err instanceof Error ? err.message : String(err);
        if (NOT_FOUND.has(name)) return new LocalStackStateLostError(endpoint, resource, `${name}: ${message}`);
        return `${resource}: ${name || "error"}: ${message}`;
      }
    }
    return "ok";
  }
}

export interface AbortSummary {
  /** Orders of ours still open at the exchange after the cancels (0 = nothing left working). */
  openOrdersLeft: number;
  /** Executions of our orders the exchange reported during the session: its log is the record now. */
  ourExecutionsAtExchange: number;
  /** FillBooked events the functions published (fills booked into the state that was lost). */
  fillBookedEvents: number;
}

/** What `LocalSession.stop()` rejects with after a fatal error: no report (the state it would be built from is gone). */
export class SessionAbortedError extends Error {
  override name = "SessionAbortedError";
  constructor(
    override readonly cause: Error,
    readonly summary: AbortSummary,
  ) {
    super(
      `session aborted: ${cause.name}: ${cause.message}. Quoting stopped, ${summary.openOrdersLeft} order(s) of ours ` +
        `left open at the exchange; ${summary.ourExecutionsAtExchange} execution(s) of ours at the exchange, ` +
        `${summary.fillBookedEvents} FillBooked event(s) published for the lost state; no report written`,
    );
  }
}
