// Crash-point sweep (issue 15): a counting run learns each hot-path function's sequence of requests (AWS SDK
// commands and gRPC port calls, in order); then, for every step k of every function and every fault kind, the
// same arbitrage runs with that one fault at k, the failed delivery is redelivered (embedded bus over DynamoDB on
// LocalStack), and the invariants are checked. The sweep is generic: it covers whatever sequence the handlers have.
import "../support/silentPowertools";
import "../support/quietPowertools";
import { describe, expect, it } from "vitest";
import { FAULT_KINDS, type FaultKind, FaultPlan } from "../support/faults/faultPlan";
import { startSweepWorld } from "../support/faults/sweepWorld";

const T0 = Date.now();
const HOT = ["signal", "order-placement", "fill-handling", "settlement"] as const;
const KINDS: readonly FaultKind[] = (process.env.TSE_SWEEP_KINDS?.split(",") as FaultKind[] | undefined) ?? FAULT_KINDS;
const PARALLEL = 4;

async function cell(plan: FaultPlan) {
  const w = await startSweepWorld(plan, T0);
  try {
    await w.run();
    return await w.invariants();
  } finally {
    await w.stop();
  }
}

describe("crash-point sweep (embedded bus, DynamoDB on LocalStack)", () => {
  it("every step × fault of signal, order-placement, fill-handling and settlement keeps every invariant", async () => {
    for (const k of KINDS) if (!FAULT_KINDS.includes(k)) throw new Error(`TSE_SWEEP_KINDS: unknown fault '${k}'`);
    const counting = new FaultPlan();
    const baseline = await cell(counting);
    expect(baseline, "the no-fault run").toEqual(Object.fromEntries(Object.keys(baseline).map((n) => [n, true])));
    const jobs: { fn: string; step: number; request: string; fault: FaultKind }[] = [];
    for (const fn of HOT) {
      const seqOf = counting.sequence(fn);
      expect(seqOf.length, `${fn} made requests`).toBeGreaterThan(0);
      seqOf.forEach((request, i) => {
        for (const fault of KINDS) jobs.push({ fn, step: i + 1, request, fault });
      });
    }
    const rows: {
      fn: string;
      step: number;
      request: string;
      fault: FaultKind;
      injected: boolean;
      result: Record<string, string | true>;
    }[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: PARALLEL }, async () => {
        while (next < jobs.length) {
          const j = jobs[next++]!;
          const plan = new FaultPlan([{ scope: j.fn, nth: j.step, fault: j.fault }]);
          const result = await cell(plan);
          rows.push({ ...j, injected: plan.injected.length === 1, result });
        }
      }),
    );
    rows.sort(
      (a, b) =>
        HOT.indexOf(a.fn as never) - HOT.indexOf(b.fn as never) || a.step - b.step || a.fault.localeCompare(b.fault),
    );
    const names = Object.keys(baseline);
    const failures: string[] = [];
    const lines = [
      `| function | step | request | ${KINDS.join(" | ")} |`,
      `|---|---|---|${KINDS.map(() => "---").join("|")}|`,
    ];
    const byStep = new Map<string, typeof rows>();
    for (const r of rows) byStep.set(`${r.fn}|${r.step}`, [...(byStep.get(`${r.fn}|${r.step}`) ?? []), r]);
    for (const group of byStep.values()) {
      const g0 = group[0]!;
      const cells = KINDS.map((f) => {
        const r = group.find((x) => x.fault === f);
        if (!r) return "-";
        const broken = names.filter((n) => r.result[n] !== true);
        if (!r.injected) broken.push("not-injected");
        for (const n of broken)
          failures.push(`${r.fn}#${r.step} ${r.request} ${f}: ${n}: ${r.result[n] ?? "the fault was never injected"}`);
        return broken.length === 0 ? "held" : `BROKEN(${broken.join(",")})`;
      });
      lines.push(`| ${g0.fn} | ${g0.step} | ${g0.request} | ${cells.join(" | ")} |`);
    }
    console.log(`crash-point sweep: ${rows.length} cells, invariants ${names.join(", ")}\n${lines.join("\n")}`);
    expect(failures).toEqual([]);
  }, 600_000);
});
