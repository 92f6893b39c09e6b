// Prices a replay's counts (bench/cost/replay.ts) with the one price table (bench/cost/prices.ts), scaled to 1M ticks.
import type { FunctionName } from "../../lib/app/handlers";
import type { ScopeUsage } from "./meter";
import { DURATION_MODEL, PRICES } from "./prices";
import type { ReplayResult } from "./replay";

export interface FunctionSizing {
  memoryMb: number;
  architecture: "arm64" | "x86_64";
}

export interface CostModel {
  usdPer1mTicks: number;
  breakdown: Record<
    "eventbridge" | "lambda_requests" | "lambda_duration" | "dynamodb_write" | "dynamodb_read" | "sqs_dlq",
    number
  >;
  /** Counts per 1M ticks. */
  counts: Record<string, number>;
  /** USD per 1M ticks spent by each scope (function or publisher): its entries, invocations and request units. */
  byScope: Record<string, number>;
  lambda: Record<string, { memoryMb: number; wallP50Ms: number; billedP50Ms: number; invocations: number }>;
}

const median = (xs: readonly number[]): number => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/**
 * Billed ms of one invocation: the wall time measured here scaled to the function's CPU share (one vCPU at 1769 MB;
 * the whole wall time is scaled, loopback gRPC waits included, so this errs high), plus an in-region round trip per
 * sequential DynamoDB / PutEvents round, rounded up to Lambda's 1 ms step.
 */
export function billedMs(wallMs: number, ddbRounds: number, putEventsRounds: number, memoryMb: number): number {
  const cpu = Math.max(1, DURATION_MODEL.fullVcpuMemoryMb / memoryMb);
  return Math.max(
    1,
    Math.ceil(
      wallMs * cpu + ddbRounds * DURATION_MODEL.dynamoDbRoundMs + putEventsRounds * DURATION_MODEL.putEventsRoundMs,
    ),
  );
}

const perMillion = (n: number, usdPerMillion: number) => (n * usdPerMillion) / 1e6;

export function priceReplay(r: ReplayResult, sizing: Readonly<Record<string, FunctionSizing>>): CostModel {
  const scale = 1e6 / r.ticks;
  const usage = Object.entries(r.usage);
  const sum = (f: (u: ScopeUsage) => number) => usage.reduce((a, [, u]) => a + f(u), 0);
  const byScope: Record<string, number> = {};
  const lambda: CostModel["lambda"] = {};
  let lambdaRequests = 0;
  let lambdaDuration = 0;
  const invocationsPer1m: Record<string, number> = {};
  for (const [fn, s] of Object.entries(r.invocations) as [FunctionName, ReplayResult["invocations"][FunctionName]][]) {
    const size = sizing[fn];
    if (!size) throw new Error(`no memory size for function ${fn} in the stack definition`);
    const gbSecond = PRICES.lambdaGbSecond[size.architecture];
    const billed = s.wallMs.map((w, i) => billedMs(w, s.ddbRounds[i]!, s.putEventsRounds[i]!, size.memoryMb));
    const requestsUsd = perMillion(s.count, PRICES.lambdaRequestsPerMillion.usd);
    const durationUsd = billed.reduce((a, ms) => a + (ms / 1000) * (size.memoryMb / 1024) * gbSecond, 0);
    lambdaRequests += requestsUsd;
    lambdaDuration += durationUsd;
    byScope[fn] = (byScope[fn] ?? 0) + (requestsUsd + durationUsd) * scale;
    invocationsPer1m[fn] = s.count * scale;
    lambda[fn] = {
      memoryMb: size.memoryMb,
      wallP50Ms: median(s.wallMs),
      billedP50Ms: median(billed),
      invocations: s.count,
    };
  }
  for (const [scope, u] of usage)
    byScope[scope] =
      (byScope[scope] ?? 0) +
      scale *
        (perMillion(u.billedEvents, PRICES.eventBridgePutEventsPerMillion.usd) +
          perMillion(u.wru, PRICES.dynamoDbWriteRequestUnitsPerMillion.usd) +
          perMillion(u.rru, PRICES.dynamoDbReadRequestUnitsPerMillion.usd));
  // Each dead-lettered event is one SendMessage to its rule's DLQ (redriving it later costs a receive and a delete).
  const sqsRequests = r.deadLetters;
  const breakdown = {
    eventbridge: perMillion(
      sum((u) => u.billedEvents),
      PRICES.eventBridgePutEventsPerMillion.usd,
    ),
    lambda_requests: lambdaRequests,
    lambda_duration: lambdaDuration,
    dynamodb_write: perMillion(
      sum((u) => u.wru),
      PRICES.dynamoDbWriteRequestUnitsPerMillion.usd,
    ),
    dynamodb_read: perMillion(
      sum((u) => u.rru),
      PRICES.dynamoDbReadRequestUnitsPerMillion.usd,
    ),
    sqs_dlq: perMillion(sqsRequests, PRICES.sqsRequestsPerMillion.usd),
  };
  for (const k of Object.keys(breakdown) as (keyof typeof breakdown)[]) breakdown[k] *= scale;
  const counts: Record<string, number> = {
    put_events_calls: sum((u) => u.putEventsCalls) * scale,
    put_events_entries: sum((u) => u.entries) * scale,
    put_events_billed: sum((u) => u.billedEvents) * scale,
    ddb_requests: sum((u) => u.ddbRequests) * scale,
    wru: sum((u) => u.wru) * scale,
    gsi_wru: sum((u) => u.gsiWru) * scale,
    rru: sum((u) => u.rru) * scale,
    dlq_messages: r.deadLetters * scale,
    ...Object.fromEntries(Object.entries(invocationsPer1m).map(([fn, n]) => [`lambda_invocations.${fn}`, n])),
    ...Object.fromEntries(Object.entries(r.eventsByType).map(([t, n]) => [`events.${t}`, n * scale])),
  };
  return {
    usdPer1mTicks: Object.values(breakdown).reduce((a, b) => a + b, 0),
    breakdown,
    counts,
    byScope,
    lambda,
  };
}
