// The exchange simulator's executions log: bounded, addressed by sequence for replay, with live listeners.
import type { Execution } from "../../gen/proto/tse/exchange/exchange";

export class ExecutionLog {
  private readonly log: Execution[] = [];
  /** Sequence of log[0] (the log is trimmed from the front once over its bound). */
  private base = 1;
  private readonly listeners = new Set<(e: Execution) => void>();

  constructor(private readonly max: number) {}

  /** Executions with sequence >= from (inclusive), in order; those trimmed off the bounded log are gone. */
  from(from: number): Execution[] {
    return this.log.slice(Math.max(0, from - this.base));
  }

  /** Bounded memory: trim in chunks (a tenth of the bound) so appends stay O(1) amortised. */
  append(exec: Execution): void {
    this.log.push(exec);
    const over = this.log.length - this.max;
    if (over > Math.max(0, Math.floor(this.max / 10))) {
      this.log.splice(0, over);
      this.base += over;
    }
  }

  /** Hands executions to every listener, in order. */
  publish(executions: readonly Execution[]): void {
    for (const e of executions) for (const l of this.listeners) l(e);
  }

  get size(): number {
    return this.log.length;
  }

  onExecution(listener: (e: Execution) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
