// Deterministic fault plans for the crash-point sweep (tests only; nothing under lib/ imports this).
// A plan counts the requests it sees (AWS SDK commands and gRPC port calls, one shared sequence per plan) and
// fails the N-th one with a chosen fault. A counting run (no fault) learns the sequence; the sweep then
// replays the same input with a fault at each step k.

export const FAULT_KINDS = [
  "throttle",
  "timeout",
  "server-error",
  "applied-unheard",
  "applied-500",
  "partial-batch",
] as const;
/**
 * - throttle: ProvisionedThroughputExceededException / ThrottlingException (AWS), RESOURCE_EXHAUSTED (gRPC);
 * - timeout: the request is not answered (AWS TimeoutError, gRPC DEADLINE_EXCEEDED), not applied;
 * - server-error: a 500 (AWS InternalServerError, gRPC INTERNAL), not applied;
 * - applied-unheard: the request is applied, then the caller gets a timeout ("succeeded, but never heard");
 * - applied-500: the request is applied, then the caller gets a 500 (a server that failed after committing);
 * - partial-batch: batch publishes only (PutEvents, EventBus.publish): all entries but the last are applied, the
 *   last is reported failed in the response (FailedEntryCount / PublishResult.failed).
 */
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Which requests a fault kind applies to (partial-batch: batch publishes only). */
export function faultApplies(fault: FaultKind, requestKind: string): boolean {
  return fault !== "partial-batch" || requestKind === "aws:PutEventsCommand" || requestKind === "bus:publish";
}

export interface StepRecord {
  /** 1-based position in the plan's sequence. */
  step: number;
  /** "aws:TransactWriteItemsCommand", "exchange:placeOrder", … */
  kind: string;
  /** Who made it (a function name), when the plan is shared. */
  scope: string;
}

export interface FaultTarget {
  /** Fail the N-th request (1-based) counted in `scope` (any scope when omitted) … */
  nth: number;
  scope?: string;
  /** … optionally only counting requests of this kind (e.g. "aws:TransactWriteItemsCommand"). */
  requestKind?: string;
  fault: FaultKind;
}

/** A small seeded PRNG (mulberry32): the same seed picks the same faults. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class FaultPlan {
  readonly steps: StepRecord[] = [];
  readonly injected: (StepRecord & { fault: FaultKind })[] = [];
  private readonly counts = new Map<string, number>();
  private readonly targets: FaultTarget[];

  constructor(targets: readonly FaultTarget[] = []) {
    for (const t of targets)
      if (!Number.isInteger(t.nth) || t.nth < 1)
        throw new Error(`FaultPlan: nth must be a positive integer, got ${t.nth}`);
    this.targets = [...targets];
  }

  /** `count` faults at steps drawn from 1..maxStep with kinds from `kinds`, all from `seed`. */
  static fromSeed(
    seed: number,
    opts: { maxStep: number; count?: number; kinds?: readonly FaultKind[]; scope?: string },
  ) {
    const rnd = seededRandom(seed);
    const kinds = opts.kinds ?? FAULT_KINDS;
    const targets: FaultTarget[] = [];
    for (let i = 0; i < (opts.count ?? 1); i++)
      targets.push({
        nth: 1 + Math.floor(rnd() * opts.maxStep),
        fault: kinds[Math.floor(rnd() * kinds.length)]!,
        ...(opts.scope ? { scope: opts.scope } : {}),
      });
    return new FaultPlan(targets);
  }

  /** Count one request; the fault to inject into it, if any. */
  next(scope: string, kind: string): FaultKind | undefined {
    const bump = (key: string) => {
      const n = (this.counts.get(key) ?? 0) + 1;
      this.counts.set(key, n);
      return n;
    };
    const all = bump(`*|*`);
    const inScope = bump(`${scope}|*`);
    const ofKind = bump(`${scope}|${kind}`);
    const anyOfKind = bump(`*|${kind}`);
    const rec: StepRecord = { step: inScope, kind, scope };
    this.steps.push(rec);
    for (const t of this.targets) {
      if (t.scope !== undefined && t.scope !== scope) continue;
      const n = t.requestKind ? (t.scope === undefined ? anyOfKind : ofKind) : t.scope === undefined ? all : inScope;
      if (t.requestKind !== undefined && t.requestKind !== kind) continue;
      if (n === t.nth) {
        this.injected.push({ ...rec, fault: t.fault });
        return t.fault;
      }
    }
    return undefined;
  }

  /** The sequence seen in one scope, in order. */
  sequence(scope: string): string[] {
    return this.steps.filter((s) => s.scope === scope).map((s) => s.kind);
  }
}
