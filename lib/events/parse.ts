// Consumers' entry points: validate a detail (or a whole EventBridge event) and get typed data back,
// or an EventValidationError naming the field and the offending value.
import type { EventBridgeEvent } from "aws-lambda";
import * as z from "zod";
import { checkDepth, jsonTextDepthExceeds, MAX_NESTING_DEPTH, NestingTooDeepError } from "../domain/bounds";
import { EventValidationError, fromZodError } from "./errors";
import {
  DETAIL_TYPE_NAMES,
  DETAIL_TYPES,
  DetailSchemas,
  type DetailType,
  type EventDetail,
  isDetailType,
} from "./registry";

export type ParsedEvent<T extends DetailType = DetailType> = {
  [K in T]: EventBridgeEvent<K, EventDetail<K>>;
}[T];

const EventBridgeEnvelope = z.object({
  version: z.string(),
  id: z.string().min(1),
  "detail-type": z.string().min(1),
  source: z.string().min(1),
  account: z.string(),
  time: z.string().min(1),
  region: z.string(),
  resources: z.array(z.string()),
  detail: z.unknown(),
});

/** Refuses nesting deeper than MAX_NESTING_DEPTH before zod (or a logger) walks the value recursively. */
export function checkNesting(input: unknown, field: string, detailType: string | undefined): void {
  try {
    checkDepth(input, field);
  } catch (e) {
    if (!(e instanceof NestingTooDeepError)) throw e;
    const reason = e.reason;
    throw new EventValidationError(
      e.field,
      e.value,
      detailType,
      [{ field: e.field, value: e.value, message: reason }],
      reason,
    );
  }
}

function jsonOrThrow(text: string, field: string, detailType: string | undefined): unknown {
  if (jsonTextDepthExceeds(text)) {
    const reason = `nests deeper than ${MAX_NESTING_DEPTH} levels`;
    const value = `depth > ${MAX_NESTING_DEPTH}`;
    throw new EventValidationError(field, value, detailType, [{ field, value, message: reason }], reason);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    const reason = `is not valid JSON (${(e as Error).message})`;
    throw new EventValidationError(field, text, detailType, [{ field, value: text, message: reason }], reason);
  }
}

/** Validate `detail` (object or JSON string) as the given detail-type. Field paths are relative to the detail. */
export function parseDetail<T extends DetailType>(detailType: T, detail: unknown): EventDetail<T> {
  if (!isDetailType(detailType)) {
    throw EventValidationError.of(
      "detail-type",
      detailType,
      undefined,
      `unknown detail-type; expected one of ${DETAIL_TYPE_NAMES.join(", ")}`,
    );
  }
  const input = typeof detail === "string" ? jsonOrThrow(detail, "detail", detailType) : detail;
  checkNesting(input, "detail", detailType);
  const result = DetailSchemas[detailType].safeParse(input);
  if (!result.success) throw fromZodError(result.error, input, detailType);
  return result.data as EventDetail<T>;
}

/**
 * Validate a whole EventBridge event (as Lambda or the function host receives it; object or JSON string):
 * the envelope, the detail-type, that the source may publish it, then the detail.
 * Pass `expected` to also require a specific detail-type.
 */
export function parseEventBridgeEvent<T extends DetailType = DetailType>(
  event: unknown,
  expected?: T | readonly T[],
): ParsedEvent<T> {
  const input = typeof event === "string" ? jsonOrThrow(event, "(event)", undefined) : event;
  checkNesting(input, "(event)", undefined);
  const env = EventBridgeEnvelope.safeParse(input);
  if (!env.success) throw fromZodError(env.error, input, undefined);
  const e = env.data;
  const detailType = e["detail-type"];
  const fail = (field: string, value: unknown, reason: string): never => {
    throw new EventValidationError(field, value, detailType, [{ field, value, message: reason }], reason);
  };
  if (!isDetailType(detailType))
    return fail("detail-type", detailType, `unknown detail-type; expected one of ${DETAIL_TYPE_NAMES.join(", ")}`);
  const wanted: readonly string[] | undefined =
    expected === undefined ? undefined : typeof expected === "string" ? [expected] : expected;
  if (wanted && !wanted.includes(detailType)) fail("detail-type", detailType, `expected ${wanted.join(" or ")}`);
  const sources: readonly string[] = DETAIL_TYPES[detailType].sources;
  if (!sources.includes(e.source)) fail("source", e.source, `${detailType} may only come from ${sources.join(" or ")}`);
  const detail = parseDetail(detailType, e.detail);
  return { ...e, "detail-type": detailType, detail } as ParsedEvent<T>;
}
