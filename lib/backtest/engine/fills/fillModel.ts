// Which fill model the backtester uses for resting orders, chosen in config and recorded in the report.
import * as z from "zod";
import {
  probabilisticQueue,
  QUEUE_PROBABILITY_FUNCTIONS,
  type QueueModel,
  queueProbability,
  riskAverseQueue,
} from "./queue";

export const FillModelConfigSchema = z.discriminatedUnion("kind", [
  /** Fills only when a later quote crosses the order (no queue, trades ignored). */
  z.object({ kind: z.literal("quote-through") }).strict(),
  /** Joins the back of the queue; advances on trades at its price and on size decreases. */
  z.object({ kind: z.literal("queue-risk-averse") }).strict(),
  /** hftbacktest's ProbQueueModel: a size decrease is split ahead/behind by f(back)/(f(back)+f(front)) etc. */
  z
    .object({
      kind: z.literal("queue-probabilistic"),
      function: z.enum(QUEUE_PROBABILITY_FUNCTIONS).default("power"),
      /** Exponent of the power functions (ignored by log/log2). */
      n: z.number().positive().finite().default(2),
    })
    .strict(),
]);
export type FillModelConfig = z.infer<typeof FillModelConfigSchema>;
export type FillModelInput = z.input<typeof FillModelConfigSchema>;

export const DEFAULT_FILL_MODEL: FillModelConfig = { kind: "queue-risk-averse" };

/** The queue model for a config, or undefined for quote-through. */
export function queueModelFor(cfg: FillModelConfig): QueueModel | undefined {
  switch (cfg.kind) {
    case "quote-through":
      return undefined;
    case "queue-risk-averse":
      return riskAverseQueue;
    case "queue-probabilistic":
      return probabilisticQueue(queueProbability(cfg.function, cfg.n));
  }
}
