// Hard caps of the deployment: SetRiskLimits may lower any limit, but raise one only up to its cap. The caps come
// from configuration (config/defaults.yaml `risk.hard_caps.*`, or the quoter's --hard-caps), never from the API.
import * as z from "zod";
import { InvalidFieldError } from "../../lib/domain/errors";

const Cap = z.coerce.number().positive().finite();

/** Keys as in configuration (risk.hard_caps.<key>). */
export const HardCapsSchema = z.strictObject({
  max_position_size: Cap.default(10),
  max_order_size: Cap.default(5),
  max_notional: Cap.default(1_000_000),
  max_daily_loss: Cap.default(50_000),
  max_drawdown: Cap.max(1).default(0.5),
  max_open_orders: Cap.int().default(1_000),
});
export type HardCaps = z.output<typeof HardCapsSchema>;

export const DEFAULT_HARD_CAPS: HardCaps = HardCapsSchema.parse({});

/** Engine-control settings read from configuration (config service keys under `risk.hard_caps` and `engine`). */
export interface ControlPolicy {
  hardCaps: HardCaps;
  /** `engine.chaos_strategies.enabled`: StartStrategy may run chaos-* strategies. */
  chaosStrategies: boolean;
}

export function parseHardCaps(raw: unknown, field = "risk.hard_caps"): HardCaps {
  const r = HardCapsSchema.safeParse(raw ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const key = issue.code === "unrecognized_keys" ? issue.keys[0] : issue.path.join(".");
  throw new InvalidFieldError(
    `${field}.${key}`,
    (raw as Record<string, unknown> | undefined)?.[String(key)],
    issue.message,
  );
}

/**
 * Refuses a raise above the cap; a value at or below the current limit (a lowering) always passes.
 * `wireField` names the request field, `cap` the configuration key.
 */
export function checkRaise(
  wireField: string,
  next: number,
  current: number,
  cap: keyof HardCaps,
  caps: HardCaps,
): void {
  if (next <= current) return;
  if (next > caps[cap])
    throw new InvalidFieldError(wireField, String(next), `exceeds the hard cap risk.hard_caps.${cap} = ${caps[cap]}`);
}
