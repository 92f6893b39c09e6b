// fill-handling: ExecutionReported → applyFill (fill record + order + position + the shared risk state, whose
// day's realized loss takes the fill's realized PnL net of quote fees, in ONE TransactWriteItems; a repeated
// execution is a no-op; version conflicts retried with backoff inside the store) →
// PositionChanged + FillBooked (the settlement function's trigger) → report the position to the risk monitor (best effort: the fill is already booked).
import type { Position } from "../domain/portfolio/position";
import { buildBusEvent, causedBy } from "../events/build";
import type { ParsedEvent } from "../events/parse";
import type { EventMeta } from "../events/registry";
import type { BusEvent } from "../ports/EventBus";
import { assertPublished } from "../ports/EventBus";
import type { FillRecord } from "../ports/StateStore";
import type { EngineDependencies } from "./dependencies";
import type { BaseDependencies } from "./wiring/base";

/** What fill-handling calls: the base wiring and the risk monitor. */
export type FillHandlingDependencies = BaseDependencies & Pick<EngineDependencies, "riskMonitor">;

import type { FunctionTools } from "./functionRuntime";
import { riskEngineFrom, riskStateInput } from "./riskState";

export interface FillOutcome {
  executionId: string;
  applied: boolean;
  duplicate: boolean;
  attempts?: number;
  position?: { strategyId: string; symbol: string; quantity: string; version: number };
  riskReported: boolean;
}

function positionChanged(
  p: Position,
  meta: EventMeta,
  ts: number,
  cause: { executionId?: string; clientOrderId?: string; previousQuantity?: string },
) {
  return buildBusEvent(
    "tse.engine",
    "PositionChanged",
    {
      strategyId: p.strategyId,
      venue: p.venue,
      symbol: p.symbol,
      quantity: p.quantity.toFixed(),
      ...(cause.previousQuantity !== undefined ? { previousQuantity: cause.previousQuantity } : {}),
      avgEntryPrice: p.averageEntryPrice.toFixed(),
      realizedPnl: p.realizedPnl.toFixed(),
      fees: p.fees.toFixed(),
      version: p.version,
      ...(cause.executionId ? { executionId: cause.executionId } : {}),
      ...(cause.clientOrderId ? { clientOrderId: cause.clientOrderId } : {}),
      ts: new Date(ts).toISOString(),
    },
    // One event per position version: a re-publish of the same state is the same event.
    { ...causedBy(meta, ts), eventId: `pos:${p.strategyId}:${p.symbol}:v${p.version}` },
  );
}

/** The booked fill, one event per execution id: a re-announce after a duplicate is the same event. */
function fillBooked(f: FillRecord, meta: EventMeta, ts: number): BusEvent<"FillBooked"> {
  return buildBusEvent(
    "tse.engine",
    "FillBooked",
    {
      executionId: f.executionId,
      clientOrderId: f.clientOrderId,
      strategyId: f.strategyId,
      venue: f.venue,
      symbol: f.symbol,
      side: f.side,
      quantity: f.quantity,
      price: f.price,
      fee: f.fee,
      feeAsset: f.feeAsset,
      ts: new Date(f.ts).toISOString(),
    },
    { ...causedBy(meta, ts), eventId: `fill:${f.executionId}` },
  );
}

export async function handleExecutionReported(
  event: ParsedEvent<"ExecutionReported">,
  deps: FillHandlingDependencies,
  tools?: Pick<FunctionTools, "logger">,
): Promise<FillOutcome> {
  const { data, meta } = event.detail;
  deps.instruments.instrument(data.symbol); // unknown symbol: bad input, nothing written
  deps.instruments.venue(data.venue);
  const ts = Date.parse(data.ts);
  const settings = await deps.settings.get();
  const quoteAsset = deps.instruments.instrument(data.symbol).quoteAsset;
  const r = await deps.store.applyFill(
    {
      executionId: data.executionId,
      clientOrderId: data.clientOrderId,
      ...(data.strategyId ? { strategyId: data.strategyId } : {}),
      exchangeOrderId: data.exchangeOrderId,
      venue: data.venue,
      symbol: data.symbol,
      side: data.side,
      quantity: data.quantity,
      price: data.price,
      fee: data.fee,
      feeAsset: data.feeAsset,
      liquidity: data.liquidity,
      sequence: data.sequence,
      ts,
    },
    {
      riskState: (current, booked) => {
        const { engine, changes } = riskEngineFrom(current, settings.riskLimits);
        const fee = booked.feeAsset === quoteAsset ? Number(booked.fee) : 0;
        engine.bookRealized(Number(booked.realizedPnl ?? 0) - fee, booked.ts);
        return riskStateInput(engine, booked.ts, current, changes, []);
      },
    },
  );
  let position: Position | undefined;
  let events: BusEvent[];
  if (r.applied) {
    position = r.position;
    events = [
      positionChanged(position, meta, ts, {
        executionId: data.executionId,
        clientOrderId: data.clientOrderId,
        previousQuantity: r.previousPosition?.quantity.toFixed() ?? "0",
      }),
      fillBooked(r.fill, meta, ts),
    ];
  } else {
    // Duplicate: re-announce the current position (same event id per version), in case the first delivery
    // booked the fill but died before publishing.
    const strategyId = r.fill?.strategyId ?? data.strategyId;
    position = strategyId ? await deps.store.getPosition(strategyId, data.symbol) : undefined;
    // The fill too: settlement keys on the execution id, so a re-announce never settles twice.
    events = position ? [positionChanged(position, meta, position.updatedAt, {})] : [];
    if (r.fill) events.push(fillBooked(r.fill, meta, r.fill.ts));
  }
  const report = async (p: Position): Promise<boolean> => {
    try {
      await deps.riskMonitor.reportPosition({
        strategyId: p.strategyId,
        venue: p.venue,
        symbol: p.symbol,
        quantity: p.quantity.toFixed(),
        averagePrice: p.averageEntryPrice.toFixed(),
        markPrice: data.price,
        realizedPnl: p.realizedPnl.toFixed(),
        updatedAtMs: p.updatedAt,
      });
      return true;
    } catch (e) {
      // The fill is booked; the next fill (or the monitor's own reconciliation) brings it up to date.
      tools?.logger.warn("position report to the risk monitor failed", {
        error: e as Error,
        executionId: data.executionId,
      });
      return false;
    }
  };
  // The events and the monitor's report are independent: both at once (a publish failure still fails the
  // invocation, and the retry re-announces; a position report is idempotent).
  const [, riskReported] = await Promise.all([
    events.length > 0 ? deps.bus.publish(events).then(assertPublished) : Promise.resolve(),
    position ? report(position) : Promise.resolve(false),
  ]);
  return {
    executionId: data.executionId,
    applied: r.applied,
    duplicate: r.duplicate,
    ...(r.applied ? { attempts: r.attempts } : {}),
    ...(position
      ? {
          position: {
            strategyId: position.strategyId,
            symbol: position.symbol,
            quantity: position.quantity.toFixed(),
            version: position.version,
          },
        }
      : {}),
    riskReported,
  };
}
