// EventBus on Amazon EventBridge (or LocalStack): PutEvents in batches of at most 10 entries and 256 KB,
// retrying ONLY the entries EventBridge reports as failed (plus whole calls that fail transiently), with
// exponential backoff (cockatiel). Entries that still fail, or can never succeed, are returned as failures.
import {
  EventBridgeClient,
  PutEventsCommand,
  type PutEventsCommandOutput,
  type PutEventsRequestEntry,
} from "@aws-sdk/client-eventbridge";
import { ExponentialBackoff, handleType, retry } from "cockatiel";
import type { BusEvent, EventBus, PublishFailure, PublishResult } from "../../ports/EventBus";
import { sendBatch } from "../../telemetry/spans";
import { entryProblem, entrySize, putEventsBatches } from "../eventEntry";
import { instrumentAwsClient } from "./requestRecorder";

export interface EventBridgeEventBusOptions {
  eventBusName: string;
  /** Defaults to a client from the environment (AWS_ENDPOINT_URL, AWS_REGION…). */
  client?: EventBridgeClient;
  /** Attempts per entry, first one included (default 4). */
  maxAttempts?: number;
  /** Backoff between attempts (defaults 50 ms → 2 s, exponential with jitter). */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** PutEvents calls in flight at once (default 4). */
  concurrency?: number;
}

/** Error codes that will not succeed on retry. Anything else (InternalFailure, ThrottlingException…) is retried. */
const PERMANENT_ENTRY_ERRORS = new Set([
  "MalformedDetail",
  "InvalidArgument",
  "ValidationException",
  "AccessDeniedException",
  "NotAuthorizedForSourceException",
  "NotAuthorizedForDetailTypeException",
  "EntryTooLarge",
  "ResourceNotFoundException",
]);

/** Call-level errors (the whole PutEvents threw) that are not worth retrying. */
const PERMANENT_CALL_ERRORS = new Set([
  "ValidationException",
  "AccessDeniedException",
  "ResourceNotFoundException",
  "UnrecognizedClientException",
  "InvalidSignatureException",
]);

class RetryableEntries extends Error {
  constructor(readonly count: number) {
    super(`${count} entries to retry`);
  }
}

interface Pending {
  index: number;
  event: BusEvent;
  entry: PutEventsRequestEntry;
  size: number;
  lastCode?: string;
  lastMessage?: string;
}

export interface EventBridgeBusStats {
  putEventsCalls: number;
  entriesSent: number;
  entriesRetried: number;
}

export class EventBridgeEventBus implements EventBus {
  readonly client: EventBridgeClient;
  private readonly ownsClient: boolean;
  private readonly eventBusName: string;
  private readonly maxAttempts: number;
  private readonly concurrency: number;
  private readonly backoff: ExponentialBackoff<unknown>;
  private readonly stats: EventBridgeBusStats = { putEventsCalls: 0, entriesSent: 0, entriesRetried: 0 };

  constructor(options: EventBridgeEventBusOptions) {
    if (!options.eventBusName) throw new Error("EventBridgeEventBus: eventBusName is required");
    this.eventBusName = options.eventBusName;
    this.ownsClient = options.client === undefined;
    this.client = instrumentAwsClient(options.client ?? new EventBridgeClient({}));
    this.maxAttempts = options.maxAttempts ?? 4;
    this.concurrency = options.concurrency ?? 4;
    if (!Number.isInteger(this.maxAttempts) || this.maxAttempts < 1)
      throw new Error(`EventBridgeEventBus: maxAttempts must be a positive integer, got ${options.maxAttempts}`);
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1)
      throw new Error(`EventBridgeEventBus: concurrency must be a positive integer, got ${options.concurrency}`);
    this.backoff = new ExponentialBackoff({
      initialDelay: options.initialDelayMs ?? 50,
      maxDelay: options.maxDelayMs ?? 2000,
    });
  }

  getStats(): EventBridgeBusStats {
    return { ...this.stats };
  }

  /** Publish (a messaging "send" span linked to each event's creation context when tracing is on). */
  publish(events: readonly BusEvent[]): Promise<PublishResult> {
    return sendBatch("aws_eventbridge", this.eventBusName, events, () => this.publishNow(events));
  }

  private async publishNow(events: readonly BusEvent[]): Promise<PublishResult> {
    const failed: PublishFailure[] = [];
    const ready: Pending[] = [];
    events.forEach((event, index) => {
      const problem = entryProblem(event);
      if (problem) {
        failed.push({ index, event, ...problem });
        return;
      }
      const detail = JSON.stringify(event.detail);
      ready.push({
        index,
        event,
        entry: { Source: event.source, DetailType: event.detailType, Detail: detail, EventBusName: this.eventBusName },
        size: entrySize(event.source, event.detailType, detail),
      });
    });

    const batches = putEventsBatches(ready);
    let published = 0;
    let next = 0;
    const worker = async () => {
      while (next < batches.length) {
        const batch = batches[next++] as Pending[];
        const result = await this.sendWithRetries(batch);
        published += result.published;
        failed.push(...result.failed);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, batches.length) }, worker));
    failed.sort((a, b) => a.index - b.index);
    return { published, failed };
  }

  private async sendWithRetries(batch: Pending[]): Promise<{ published: number; failed: PublishFailure[] }> {
    let pending = batch;
    let published = 0;
    const failed: PublishFailure[] = [];
    const policy = retry(handleType(RetryableEntries), { maxAttempts: this.maxAttempts - 1, backoff: this.backoff });
    let attempt = 0;
    try {
      await policy.execute(async () => {
        if (attempt++ > 0) this.stats.entriesRetried += pending.length;
        const retryable: Pending[] = [];
        let response: PutEventsCommandOutput;
        try {
          this.stats.putEventsCalls++;
          this.stats.entriesSent += pending.length;
          response = await this.client.send(new PutEventsCommand({ Entries: pending.map((p) => p.entry) }));
        } catch (error) {
          const name = (error as Error).name ?? "Error";
          const message = (error as Error).message ?? String(error);
          for (const p of pending) Object.assign(p, { lastCode: name, lastMessage: message });
          if (PERMANENT_CALL_ERRORS.has(name)) {
            for (const p of pending)
              failed.push({ index: p.index, event: p.event, errorCode: name, errorMessage: message });
            pending = [];
            return;
          }
          throw new RetryableEntries(pending.length);
        }
        const results = response.Entries ?? [];
        pending.forEach((p, i) => {
          const r = results[i];
          if (r && !r.ErrorCode && r.EventId) {
            published++;
            return;
          }
          const code = r?.ErrorCode ?? "MissingResult";
          const message = r?.ErrorMessage ?? "PutEvents returned no result for this entry";
          p.lastCode = code;
          p.lastMessage = message;
          if (PERMANENT_ENTRY_ERRORS.has(code))
            failed.push({ index: p.index, event: p.event, errorCode: code, errorMessage: message });
          else retryable.push(p);
        });
        pending = retryable;
        if (pending.length > 0) throw new RetryableEntries(pending.length);
      });
    } catch (error) {
      if (!(error instanceof RetryableEntries)) throw error;
      for (const p of pending)
        failed.push({
          index: p.index,
          event: p.event,
          errorCode: p.lastCode ?? "Unknown",
          errorMessage: `${p.lastMessage ?? "failed"} (after ${this.maxAttempts} attempts)`,
        });
    }
    return { published, failed };
  }

  /** Destroys the SDK client if this bus created it. */
  close(): void {
    if (this.ownsClient) this.client.destroy();
  }
}
