// PutEvents entry limits shared by both EventBus adapters, so the embedded bus refuses what EventBridge refuses.
import type { BusEvent } from "../ports/EventBus";

/** EventBridge's limit per entry and per PutEvents request: 256 KB. */
export const MAX_ENTRY_BYTES = 256 * 1024;
/** EventBridge's limit of entries per PutEvents request. */
export const MAX_ENTRIES_PER_CALL = 10;

/** What EventBridge's PutEvents would refuse for this entry, if anything. */
export function entryProblem(event: BusEvent): { errorCode: string; errorMessage: string } | undefined {
  if (typeof event.source !== "string" || event.source.length === 0)
    return { errorCode: "InvalidArgument", errorMessage: "source must be a non-empty string" };
  if (typeof event.detailType !== "string" || event.detailType.length === 0)
    return { errorCode: "InvalidArgument", errorMessage: "detailType must be a non-empty string" };
  let detail: string | undefined;
  try {
    detail = JSON.stringify(event.detail);
  } catch (e) {
    return { errorCode: "MalformedDetail", errorMessage: `detail is not serialisable: ${(e as Error).message}` };
  }
  if (detail === undefined || !detail.startsWith("{"))
    return { errorCode: "MalformedDetail", errorMessage: "detail must be a JSON object" };
  const size = entrySize(event.source, event.detailType, detail);
  if (size > MAX_ENTRY_BYTES)
    return { errorCode: "EntryTooLarge", errorMessage: `entry is ${size} bytes; the limit is ${MAX_ENTRY_BYTES}` };
  return undefined;
}

/** PutEvents entry size as EventBridge computes it (UTF-8 bytes of source, detail-type and detail). */
export function entrySize(source: string, detailType: string, detail: string): number {
  return Buffer.byteLength(source) + Buffer.byteLength(detailType) + Buffer.byteLength(detail);
}

/** Greedy batches in input order: ≤ 10 entries and ≤ 256 KB per PutEvents call (the EventBridge adapter sends these). */
export function putEventsBatches<T extends { size: number }>(entries: readonly T[]): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const e of entries) {
    if (current.length > 0 && (current.length === MAX_ENTRIES_PER_CALL || bytes + e.size > MAX_ENTRY_BYTES)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(e);
    bytes += e.size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
