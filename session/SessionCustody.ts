// The session's custodian side: reconciliation on a schedule (the settlement function invoked the way the
// deployed schedule rule invokes it), settlement counts from the custodian, and at stop the check that every
// fill in state has its one settlement, then a last reconciliation of everything booked.
import type { LambdaHandler } from "../lib/app/functionRuntime";
import { localContext } from "../lib/app/handlers";
import type { ReconciliationOutcome } from "../lib/app/settlement";
import type { ReconciliationCompleted, RiskAlert } from "../lib/events/registry";
import type { FillRecord } from "../lib/ports/StateStore";
import type { CustodianSimulator } from "../sim/custodian/CustodianSimulator";
import type { CountingEventBus } from "./CountingEventBus";
import type { DashboardCustody } from "./dashboard/types";

export interface SessionCustodyOptions {
  custodian: CustodianSimulator;
  bus: CountingEventBus;
  /** The settlement function (its reconcile entry). */
  settlement: LambdaHandler;
  intervalMs: number;
  onAlert: (alert: RiskAlert) => void;
  log: (line: string) => void;
}

export interface CustodyResult extends DashboardCustody {
  /** Fills in state with no settlement instruction at the custodian (must stay empty). */
  unsettledFills: string[];
  /** Breaks seen over every run. */
  breaksSeen: number;
  finalReconciliation: ReconciliationOutcome | undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class SessionCustody {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private runs = 0;
  private lastBreaks = 0;
  private breaksSeen = 0;
  private lastAt: number | undefined;
  private readonly off: () => void;

  constructor(private readonly o: SessionCustodyOptions) {
    this.off = o.bus.onPublished((e) => {
      if (e.detailType === "ReconciliationCompleted") {
        const d = e.detail.data as ReconciliationCompleted;
        this.runs++;
        this.lastBreaks = d.breaks.length;
        this.breaksSeen += d.breaks.length;
        this.lastAt = Date.parse(e.detail.meta.occurredAt);
      } else if (e.detailType === "RiskAlert" && (e.detail.data as RiskAlert).rule === "reconciliation-break")
        o.onAlert(e.detail.data as RiskAlert);
    });
  }

  start(): void {
    this.timer = setInterval(() => void this.reconcile("SCHEDULE"), this.o.intervalMs);
  }

  /** One reconciliation (skipped while one is running). */
  reconcile(trigger: "SCHEDULE" | "DIRECT", graceMs?: number): Promise<ReconciliationOutcome | undefined> {
    if (this.running) return this.running.then(() => undefined);
    const event = { action: "reconcile", trigger, ...(graceMs !== undefined ? { graceMs } : {}) };
    const p = this.o
      .settlement(event, localContext("settlement"))
      .then((r) => r as ReconciliationOutcome)
      .catch((e: unknown) => {
        this.o.log(`reconciliation failed: ${e instanceof Error ? e.message : String(e)}`);
        return undefined;
      })
      .finally(() => {
        this.running = undefined;
      });
    this.running = p;
    return p;
  }

  snapshot(): DashboardCustody {
    const c = this.o.custodian.ledger.getCounters();
    return {
      settlement: { instructed: c.instructed, settled: c.settled, failed: c.failed, pending: c.pending },
      reconciliation: {
        runs: this.runs,
        breaks: this.lastBreaks,
        ...(this.lastAt !== undefined ? { lastAt: this.lastAt } : {}),
      },
    };
  }

  /** Wait (bounded) until every fill is instructed and nothing is pending, then reconcile everything booked. */
  async finish(fills: readonly FillRecord[], timeoutMs: number): Promise<CustodyResult> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const ledger = this.o.custodian.ledger;
    const deadline = Date.now() + timeoutMs;
    let missing = fills.map((f) => f.executionId);
    for (;;) {
      missing = missing.filter((id) => !ledger.get({ idempotencyKey: id }));
      if ((missing.length === 0 && ledger.getCounters().pending === 0) || Date.now() > deadline) break;
      await sleep(100);
    }
    if (missing.length > 0) this.o.log(`custodian: ${missing.length} fill(s) without a settlement instruction`);
    await this.running;
    const finalReconciliation = await this.reconcile("DIRECT", 0);
    return { ...this.snapshot(), unsettledFills: missing, breaksSeen: this.breaksSeen, finalReconciliation };
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.off();
  }
}
