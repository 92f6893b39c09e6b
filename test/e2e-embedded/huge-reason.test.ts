// A careless operator's huge reason: SetTradingState with a 1 MB reason is refused at the control API (over its
// 128 KiB message bound, before it is buffered; a 300-character one by field and length); the next signal is handled normally (no dead letter, no function failure) and memory stays
// flat. A reason at the bound (256) halts, and the OrderDenied built from it is clipped, never a builder error.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildBusEvent } from "../../lib/events";
import type { BusEvent } from "../../lib/ports/EventBus";
import { LocalSession } from "../../session/LocalSession";
import { SAMPLE_DATA } from "../fixtures/samples";
import { eventually } from "../support/tradingFlow";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
const run = promisify(execFile);
const rssMb = () => {
  gc();
  gc();
  return process.memoryUsage().rss / 2 ** 20;
};

describe("a 1 MB SetTradingState reason", () => {
  let session: LocalSession;
  const published: BusEvent[] = [];

  beforeAll(async () => {
    session = await LocalSession.start({
      mode: "embedded",
      scenario: "DIVERGENCE",
      seed: 3,
      strategies: ["market-making"],
      ephemeralPorts: true,
      outDir: join(process.cwd(), "test-output", "huge-reason"),
      log: () => undefined,
    });
    session.bus.onPublished((e) => {
      published.push(e);
    });
  }, 60_000);

  afterAll(async () => {
    await session?.stop("test end").catch(() => undefined);
  }, 60_000);

  let n = 0;
  async function signalHandled(): Promise<BusEvent> {
    const signalId = `sig-huge-${++n}`;
    const before = session.counts();
    await session.bus.publish([
      buildBusEvent(
        "tse.engine",
        "SignalGenerated",
        { ...SAMPLE_DATA.SignalGenerated, signalId, strategyId: "arb-1" },
        { now: Date.now(), eventId: `ev-${signalId}` },
      ),
    ]);
    const outcome = await eventually(
      `an order event for ${signalId}`,
      () =>
        published.find(
          (e) =>
            e.detailType !== "SignalGenerated" &&
            (e.detail.data as { signalId?: string }).signalId === signalId &&
            ["OrderPlaced", "OrderDenied", "OrderRejected"].includes(e.detailType),
        ),
      10_000,
      20,
    );
    const after = session.counts();
    expect(after.deadLetters).toBe(before.deadLetters);
    expect(after.functionFailures).toBe(before.functionFailures);
    return outcome;
  }

  /** The operator is another process (as in production), so this process's RSS is the engine's alone. */
  async function fromOperatorProcess(chars: number, count: number) {
    const ep = session.endpoints;
    const { stdout } = await run(
      process.execPath,
      [
        "--import",
        "tsx",
        "test/support/controlClientProcess.ts",
        ep.engine,
        ep.controlCertFile,
        ep.controlTokenFile,
        String(chars),
        String(count),
      ],
      { timeout: 60_000 },
    );
    return JSON.parse(stdout.trim().split("\n").at(-1)!) as { name: string; details: string; ms: number }[];
  }

  const refusedOversized = (a: { name: string; details: string }) =>
    // Over the control API's 128 KiB message bound: refused at the length prefix, never buffered.
    a.name === "InvalidArgumentError" && /^Received message larger than max \(\d+ vs 131072\)$/.test(a.details);

  it("is refused; the next signal is handled normally (no dead letter); RSS grows < 5 MB", async () => {
    await signalHandled(); // warm every path once
    expect((await fromOperatorProcess(1 << 20, 1)).every(refusedOversized)).toBe(true);
    await signalHandled();

    // RSS growth of the engine over a phase: `count` refused calls, then the next signal. The session keeps trading
    // meanwhile (its own memory grows with time), so each phase is compared with a same-run baseline phase of the
    // same shape whose reasons are 300 characters (refused by field and length).
    const phase = async (chars: number, count: number) => {
      const r0 = rssMb();
      const answers = await fromOperatorProcess(chars, count);
      expect(session.quoter.risk.tradingState).toBe("ACTIVE");
      await signalHandled();
      return { grew: rssMb() - r0, answers };
    };
    const isNamedRefusal = (a: { name: string; details: string }) =>
      a.name === "InvalidArgumentError" &&
      a.details.includes("invalid reason=") &&
      a.details.includes("is 300 characters");
    const base1 = await phase(300, 1);
    const huge1 = await phase(1 << 20, 1);
    const base20 = await phase(300, 20);
    const huge20 = await phase(1 << 20, 20);
    expect([...base1.answers, ...base20.answers].every(isNamedRefusal)).toBe(true);
    expect([...huge1.answers, ...huge20.answers].every(refusedOversized)).toBe(true);
    const f = (n: number) => n.toFixed(2);
    process.stdout.write(
      `huge-reason: engine RSS +${f(huge1.grew)} MB after one 1 MB reason (baseline one 300-char: +${f(base1.grew)} MB); ` +
        `+${f(huge20.grew)} MB after twenty (baseline: +${f(base20.grew)} MB)\n`,
    );
    expect(huge1.grew - base1.grew).toBeLessThan(5);
    // Twenty megabytes sent: nothing kept per request (the issue saw +129 MB for twenty 3.9 MB reasons). This
    // machine's allocator noise under load is several MB either way, so the bound here is what was sent.
    expect(huge20.grew - base20.grew).toBeLessThan(20);
    expect(session.counts().deadLetters).toBe(0);
    expect(session.quoter.risk.tradingState).toBe("ACTIVE");
  }, 120_000);

  it("a 256-character reason halts; the OrderDenied built from it is clipped, not a dead letter", async () => {
    const reason = `${"x".repeat(250)}-bound`;
    expect(reason.length).toBe(256);
    await session.peers.engine.setTradingState("HALTED", reason);
    await eventually(
      "the HALTED state persisted",
      async () => (await session.store.getTradingState())?.state === "HALTED",
      5_000,
      20,
    );
    const denied = await signalHandled();
    expect(denied.detailType).toBe("OrderDenied");
    const text = (denied.detail.data as { reason: string }).reason;
    expect(text.length).toBeLessThanOrEqual(256);
    expect(session.counts().deadLetters).toBe(0);
    expect(session.counts().functionFailures).toBe(0);
    await session.peers.engine.setTradingState("ACTIVE", "resume after test");
  }, 30_000);
});
