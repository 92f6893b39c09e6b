// Port: publish domain events to the bus. Adapters: InProcessEventBus (embedded), EventBridgeEventBus (LocalStack/AWS).
import type { DetailType, EventDetail } from "../events/registry";

/** One event to publish; `detail` is already the `{ meta, data }` envelope (see lib/events). */
export interface BusEvent<T extends DetailType = DetailType> {
  source: string;
  detailType: T;
  detail: EventDetail<T>;
}

export interface PublishFailure {
  /** Index of the event in the `publish` call's input. */
  index: number;
  event: BusEvent;
  errorCode: string;
  errorMessage: string;
}

export interface PublishResult {
  /** Events the bus accepted. */
  published: number;
  /** Events the bus permanently refused (after the adapter's retries). Empty on full success. */
  failed: PublishFailure[];
}

export interface EventBus {
  /**
   * Publish events, in order of the input as far as the bus allows. The adapter decides batching and retries;
   * a resolved result lists what could not be published. Rejects only on misuse (e.g. closed bus).
   */
  publish(events: readonly BusEvent[]): Promise<PublishResult>;
}

/** Thrown by callers that need all-or-error semantics: `assertPublished(await bus.publish(events))`. */
export class PublishError extends Error {
  override readonly name = "PublishError";
  constructor(readonly failures: readonly PublishFailure[]) {
    const f = failures[0];
    super(
      `${failures.length} event(s) not published; first: #${f?.index} ${f?.event.detailType} ${f?.errorCode}: ${f?.errorMessage}`,
    );
  }
}

export function assertPublished(result: PublishResult): void {
  if (result.failed.length > 0) throw new PublishError(result.failed);
}
