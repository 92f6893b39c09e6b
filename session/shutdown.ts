// The session's way down: what started is stopped newest first, our executions are settled into the state
// store (replayed from the exchange's log when the streams missed them), positions are reconciled with the
// exchange account, and the function host's dead letters are counted.
import { GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { InProcessEventBus } from "../lib/adapters/embedded/InProcessEventBus";
import { executionEvent, executionReportOf } from "../lib/adapters/exchangeWire";
import type { ExecutionForwarder } from "../lib/bridges/ExecutionForwarder";
import { Decimal } from "../lib/domain/decimal";
import type { FunctionHost } from "../lib/local-aws";
import type { EventBus } from "../lib/ports/EventBus";
import type { FillRecord, StateStore } from "../lib/ports/StateStore";
import { ROUTES } from "../lib/routing/routes";
import type { ExchangeEngine } from "../sim/exchange/ExchangeEngine";
import { DEFAULT_ACCOUNT, DEFAULT_INITIAL_BALANCES } from "../sim/exchange/ExchangeEngine";
import { type Reconciliation, SYMBOLS } from "./types";

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What started, to be stopped newest first. */
export class Cleanups {
  private readonly list: { name: string; fn: () => Promise<unknown> | unknown }[] = [];

  push(c: { name: string; fn: () => Promise<unknown> | unknown }): void {
    this.list.push(c);
  }

  /** Stop whatever started, newest first (each bounded to 10 s); errors are logged, not thrown. */
  async runAll(log: (l: string) => void): Promise<void> {
    while (this.list.length > 0) {
      const c = this.list.pop()!;
      try {
        await Promise.race([c.fn(), sleep(10_000).then(() => Promise.reject(new Error("timed out after 10 s")))]);
      } catch (e) {
        log(`stop ${c.name}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }
}

/** Executions replayed from the exchange's log at stop, and how many of them predate the quoter's stop. */
export interface ReplayLog {
  replayed: { executionId: string; ts: number }[];
  beforeStop: number;
}

export interface SettleInput {
  forwarder: ExecutionForwarder;
  /** The bus the functions consume (waited on when in-process). */
  inner: EventBus;
  bus: EventBus;
  exchange: ExchangeEngine;
  ourExecutionIds: ReadonlySet<string>;
  fillsInState: () => Promise<FillRecord[]>;
  quoterStopAt: number | undefined;
  replays: ReplayLog;
  log: (l: string) => void;
}

/**
 * Wait until every execution of ours at the exchange is a fill in the state store (bounded). Executions that
 * raced the quoter's shutdown (fills of quotes being cancelled after its stream closed) have no forwarder left:
 * after a grace period they are replayed from the exchange's execution log as the same ExecutionReported events
 * (fill handling is idempotent per execution id). How many, and whether any predates the stop, is counted.
 */
export async function settleExecutions(x: SettleInput, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  const graceUntil = Date.now() + Math.min(3_000, timeoutMs / 3);
  let replayedOnce = false;
  for (;;) {
    await x.forwarder.flush().catch(() => {});
    if (x.inner instanceof InProcessEventBus) await x.inner.whenIdle({ timeoutMs: 2_000 }).catch(() => {});
    const fills = await x.fillsInState();
    if (fills.length >= x.ourExecutionIds.size) return true;
    if (!replayedOnce && Date.now() > graceUntil) {
      replayedOnce = true;
      const booked = new Set(fills.map((f) => f.executionId));
      const missing = x.exchange
        .executionsFrom(1)
        .filter((e) => x.ourExecutionIds.has(e.executionId) && !booked.has(e.executionId));
      for (const e of missing) {
        x.replays.replayed.push({ executionId: e.executionId, ts: Number(e.timestampMs) });
        if (x.quoterStopAt === undefined || Number(e.timestampMs) < x.quoterStopAt) x.replays.beforeStop++;
      }
      if (missing.length > 0) {
        x.log(
          `settle: replaying ${missing.length} execution(s) from the exchange log (${x.replays.beforeStop} before the quoter stopped)`,
        );
        await x.bus.publish(missing.map((e) => executionEvent(executionReportOf(e))));
      }
      continue;
    }
    if (Date.now() > deadline) {
      x.log(`settle: ${fills.length} fills in state for ${x.ourExecutionIds.size} executions after ${timeoutMs} ms`);
      return false;
    }
    await sleep(200);
  }
}

/**
 * Positions in state (net over strategies) vs the exchange account: base-asset balance change summed over
 * the venues. A zero diff means every execution was booked exactly once.
 */
export async function reconcilePositions(store: StateStore, exchange: ExchangeEngine): Promise<Reconciliation[]> {
  const positions = await store.listPositions();
  const balances = exchange.getBalances(DEFAULT_ACCOUNT);
  return SYMBOLS.map((symbol) => {
    const base = symbol.split("-")[0]!;
    const state = positions.filter((p) => p.symbol === symbol).reduce((s, p) => s.plus(p.quantity), new Decimal(0));
    const initial = new Decimal(DEFAULT_INITIAL_BALANCES[base] ?? "0");
    const exchangeQty = balances
      .filter((b) => b.asset === base)
      .reduce((s, b) => s.plus(new Decimal(b.total).minus(initial)), new Decimal(0));
    return {
      symbol,
      state: state.toFixed(),
      exchange: exchangeQty.toFixed(),
      diff: state.minus(exchangeQty).toFixed(),
    };
  });
}

/** Messages in the function host's dead-letter queues (LocalStack mode). */
export async function countTapDeadLetters(
  host: FunctionHost,
  sqs: SQSClient,
  log: (l: string) => void,
  fileLog: (l: string) => void,
): Promise<number> {
  let n = 0;
  for (const r of ROUTES) {
    try {
      const url = host.resources(r.functionName).dlqUrl;
      const a = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["ApproximateNumberOfMessages"] }),
      );
      n += Number(a.Attributes?.ApproximateNumberOfMessages ?? 0);
    } catch (e) {
      fileLog(`dead-letter count for ${r.functionName}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  if (n > 0) log(`session: ${n} event(s) in the function host's dead-letter queues`);
  return n;
}
