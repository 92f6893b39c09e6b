// Producers' side: build a validated `{ meta, data }` detail, the BusEvent the EventBus port takes,
// the PutEvents entry, and the exact EventBridge event a consumer (Lambda / function host) receives.
import { randomBytes, randomUUID } from "node:crypto";
import type { EventBridgeEvent } from "aws-lambda";
import { clip, MAX_REASON_CHARS } from "../domain/bounds";
import type { BusEvent } from "../ports/EventBus";
import { activeTraceparent } from "../telemetry/spans";
import { EventValidationError, fromZodError } from "./errors";
import {
  DETAIL_TYPES,
  type DetailType,
  type EventDataInput,
  type EventDetail,
  type EventMeta,
  EventMetaSchema,
  type EventSourceName,
  isDetailType,
} from "./registry";

export interface EventOptions {
  /** The clock, passed in: when the event happened. */
  now: Date | number;
  /** Defaults to a fresh UUID. Pass a deterministic id when re-publishing must be idempotent. */
  eventId?: string;
  /** Defaults to the event id (this event starts a new causal chain). */
  correlationId?: string;
  /** Defaults to a new sampled root trace. */
  traceparent?: string;
  tracestate?: string;
}

/** PutEvents request entry (structurally the SDK's PutEventsRequestEntry). */
export interface PutEventsEntry {
  Source: string;
  DetailType: string;
  Detail: string;
  EventBusName?: string;
  Time?: Date;
}

/** New root W3C traceparent (version 00, sampled). */
export function newTraceparent(): string {
  return `00-${randomBytes(16).toString("hex")}-${randomBytes(8).toString("hex")}-01`;
}

/**
 * Options for an event caused by another one: same correlation id, same trace. The traceparent is the span
 * active while the event is built (the consumer's process span); without one, the cause's own traceparent.
 */
export function causedBy(parent: EventMeta, now: Date | number): EventOptions {
  return {
    now,
    correlationId: parent.correlationId,
    traceparent: activeTraceparent() ?? parent.traceparent,
    ...(parent.tracestate !== undefined ? { tracestate: parent.tracestate } : {}),
  };
}

function assertSource(source: string, detailType: DetailType): void {
  const sources: readonly string[] = DETAIL_TYPES[detailType].sources;
  if (!sources.includes(source)) {
    throw EventValidationError.of(
      "source",
      source,
      detailType,
      `${detailType} may only come from ${sources.join(" or ")}`,
    );
  }
}

/** Free text an engine composes (a prefix + a bounded upstream reason) is clipped to the schema's bound, not refused. */
const FREE_TEXT_MAX: Record<string, number> = { reason: MAX_REASON_CHARS, message: 1024 };
function clipFreeText<D>(data: D): D {
  if (data === null || typeof data !== "object" || Array.isArray(data)) return data;
  let out: Record<string, unknown> | undefined;
  for (const [key, max] of Object.entries(FREE_TEXT_MAX)) {
    const v = (data as Record<string, unknown>)[key];
    if (typeof v === "string" && v.length > max) {
      out ??= { ...(data as Record<string, unknown>) };
      out[key] = clip(v, max);
    }
  }
  return (out ?? data) as D;
}

/** Validated in-memory envelope `{ meta, data }` (defaults applied). Throws EventValidationError. */
export function makeEnvelope<T extends DetailType>(
  detailType: T,
  data: EventDataInput<T>,
  opts: EventOptions,
): EventDetail<T> {
  if (!isDetailType(detailType)) {
    const reason = "unknown detail-type";
    throw new EventValidationError(
      "detail-type",
      detailType,
      undefined,
      [{ field: "detail-type", value: detailType, message: reason }],
      reason,
    );
  }
  const eventId = opts.eventId ?? randomUUID();
  const metaInput = {
    eventId,
    correlationId: opts.correlationId ?? eventId,
    traceparent: opts.traceparent ?? activeTraceparent() ?? newTraceparent(),
    ...(opts.tracestate !== undefined ? { tracestate: opts.tracestate } : {}),
    occurredAt: new Date(opts.now).toISOString(),
  };
  const meta = EventMetaSchema.safeParse(metaInput);
  if (!meta.success) throw fromZodError(meta.error, metaInput, detailType, ["meta"]);
  const parsed = DETAIL_TYPES[detailType].data.safeParse(clipFreeText(data));
  if (!parsed.success) throw fromZodError(parsed.error, data, detailType, ["data"]);
  return { meta: meta.data, data: parsed.data as EventDetail<T>["data"] };
}

/** The BusEvent the EventBus port publishes. */
export function buildBusEvent<T extends DetailType>(
  source: EventSourceName,
  detailType: T,
  data: EventDataInput<T>,
  opts: EventOptions,
): BusEvent<T> {
  assertSource(source, detailType);
  return { source, detailType, detail: makeEnvelope(detailType, data, opts) };
}

/** The PutEvents entry `{ Source, DetailType, Detail, EventBusName? }` for this event. */
export function buildEvent<T extends DetailType>(
  source: EventSourceName,
  detailType: T,
  data: EventDataInput<T>,
  opts: EventOptions & { eventBusName?: string },
): PutEventsEntry {
  return toPutEventsEntry(buildBusEvent(source, detailType, data, opts), opts.eventBusName);
}

export function toPutEventsEntry(event: BusEvent, eventBusName?: string): PutEventsEntry {
  return {
    Source: event.source,
    DetailType: event.detailType,
    Detail: JSON.stringify(event.detail),
    ...(eventBusName !== undefined ? { EventBusName: eventBusName } : {}),
  };
}

/** The exact EventBridge event a rule target receives for a published BusEvent. */
export function toEventBridgeEvent<T extends DetailType>(
  event: BusEvent<T>,
  opts: { id?: string; time?: Date | number; account?: string; region?: string } = {},
): EventBridgeEvent<T, EventDetail<T>> {
  const time = new Date(opts.time ?? event.detail.meta.occurredAt);
  return {
    version: "0",
    id: opts.id ?? randomUUID(),
    "detail-type": event.detailType,
    source: event.source,
    account: opts.account ?? "000000000000",
    // EventBridge's `time` has second precision.
    time: time.toISOString().replace(/\.\d{3}Z$/, "Z"),
    region: opts.region ?? "us-east-1",
    resources: [],
    detail: event.detail,
  };
}
