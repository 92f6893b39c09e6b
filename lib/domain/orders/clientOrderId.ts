// Deterministic client order ids: the same signal leg always maps to the same id, so a
// repeated signal is deduplicated by the exchange (the client order id is its idempotency key).
import { createHash } from "node:crypto";
import { InvalidFieldError } from "../errors";

/** "tse-" + 28 hex chars of sha256(signalId + "#" + legIndex): 32 chars, safe for exchange id limits. */
export function clientOrderIdFor(signalId: string, legIndex: number): string {
  if (!signalId) throw new InvalidFieldError("signalId", signalId, "must be a non-empty string");
  if (!Number.isInteger(legIndex) || legIndex < 0)
    throw new InvalidFieldError("legIndex", legIndex, "must be an integer >= 0");
  return `tse-${createHash("sha256").update(`${signalId}#${legIndex}`).digest("hex").slice(0, 28)}`;
}
