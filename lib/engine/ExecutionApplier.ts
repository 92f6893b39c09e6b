// Each execution applied exactly once to the portfolio: by the exchange's sequence (the stream's resume point)
// and by execution id as a second guard (a replay after a reconnect, a venue that repeats itself).
import type { Portfolio } from "../domain/portfolio/Portfolio";
import type { ExecutionReport } from "../ports/Exchange";

export type ApplyOutcome = "applied" | "duplicate" | "foreign" | "invalid";

export class ExecutionApplier {
  /** Execution ids applied (bounded by the fills of one process's life). */
  readonly appliedIds = new Set<string>();
  lastSequence = 0;

  constructor(
    private readonly portfolio: Portfolio,
    /** Whether an execution belongs to this process (its client order ids). */
    private readonly owns: (e: ExecutionReport) => boolean,
  ) {}

  /** Books `e` for `strategyId` unless it was seen, is not ours, or has no side. */
  apply(e: ExecutionReport, strategyId: string): ApplyOutcome {
    if (e.sequence <= this.lastSequence || this.appliedIds.has(e.executionId)) return "duplicate";
    this.lastSequence = e.sequence;
    if (!this.owns(e)) return "foreign";
    if (!e.side) return "invalid";
    this.appliedIds.add(e.executionId);
    this.portfolio.applyFill({
      strategyId,
      symbol: e.symbol,
      venue: e.venue,
      side: e.side,
      quantity: e.quantity,
      price: e.price,
      fee: e.fee || "0",
      ...(e.feeAsset ? { feeCurrency: e.feeAsset } : {}),
      ts: e.timestampMs,
      fillId: e.executionId,
      orderId: e.orderId,
    });
    return "applied";
  }
}
