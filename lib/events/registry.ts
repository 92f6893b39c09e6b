// Detail-type registry: which sources may publish each detail-type, and its schemas.
import * as z from "zod";
import {
  ExecutionReportedData,
  FillBookedData,
  MarketSnapshotBatchData,
  MarketSnapshotData,
  OrderCanceledData,
  OrderDeniedData,
  OrderPlacedData,
  OrderRejectedData,
  PositionChangedData,
  ReconciliationCompletedData,
  ReportGeneratedData,
  RiskAlertData,
  SignalGeneratedData,
} from "./details";
import { Identifier, IsoTimestamp, Traceparent, Tracestate } from "./primitives";

export const EVENT_SOURCE_VALUES = ["tse.market", "tse.engine", "tse.exchange", "tse.risk"] as const;
export type EventSourceName = (typeof EVENT_SOURCE_VALUES)[number];

/** The `meta` half of every detail. */
export const EventMetaSchema = z.object({
  eventId: Identifier,
  /** Shared by every event caused by the same original event (a snapshot and its signal, orders, fills…). */
  correlationId: Identifier,
  traceparent: Traceparent,
  tracestate: Tracestate.optional(),
  occurredAt: IsoTimestamp,
});
export type EventMeta = z.infer<typeof EventMetaSchema>;

const detail = <D extends z.ZodType>(data: D) => z.object({ meta: EventMetaSchema, data });

/** detail-type → allowed sources and the `data` schema. */
export const DETAIL_TYPES = {
  MarketSnapshot: { sources: ["tse.market"], data: MarketSnapshotData },
  MarketSnapshotBatch: { sources: ["tse.market"], data: MarketSnapshotBatchData },
  SignalGenerated: { sources: ["tse.engine"], data: SignalGeneratedData },
  OrderPlaced: { sources: ["tse.engine"], data: OrderPlacedData },
  OrderRejected: { sources: ["tse.engine"], data: OrderRejectedData },
  // The engine cancels (leg risk, kill switch) and the venue expires/cancels on its own.
  OrderCanceled: { sources: ["tse.engine", "tse.exchange"], data: OrderCanceledData },
  OrderDenied: { sources: ["tse.engine", "tse.risk"], data: OrderDeniedData },
  ExecutionReported: { sources: ["tse.exchange"], data: ExecutionReportedData },
  PositionChanged: { sources: ["tse.engine"], data: PositionChangedData },
  RiskAlert: { sources: ["tse.risk", "tse.engine"], data: RiskAlertData },
  ReportGenerated: { sources: ["tse.engine"], data: ReportGeneratedData },
  FillBooked: { sources: ["tse.engine"], data: FillBookedData },
  ReconciliationCompleted: { sources: ["tse.engine"], data: ReconciliationCompletedData },
} as const satisfies Record<string, { sources: readonly EventSourceName[]; data: z.ZodType }>;

export type DetailType = keyof typeof DETAIL_TYPES;
export const DETAIL_TYPE_NAMES = Object.keys(DETAIL_TYPES) as DetailType[];

/** Full detail schemas `{ meta, data }`, usable with Powertools parser's EventBridge envelope too. */
export const DetailSchemas = {
  MarketSnapshot: detail(MarketSnapshotData),
  MarketSnapshotBatch: detail(MarketSnapshotBatchData),
  SignalGenerated: detail(SignalGeneratedData),
  OrderPlaced: detail(OrderPlacedData),
  OrderRejected: detail(OrderRejectedData),
  OrderCanceled: detail(OrderCanceledData),
  OrderDenied: detail(OrderDeniedData),
  ExecutionReported: detail(ExecutionReportedData),
  PositionChanged: detail(PositionChangedData),
  RiskAlert: detail(RiskAlertData),
  ReportGenerated: detail(ReportGeneratedData),
  FillBooked: detail(FillBookedData),
  ReconciliationCompleted: detail(ReconciliationCompletedData),
} as const satisfies { [K in DetailType]: z.ZodType };

/** Parsed (output) data of a detail-type: defaults applied. */
export type EventData<T extends DetailType> = z.output<(typeof DETAIL_TYPES)[T]["data"]>;
/** What a producer may pass (defaults optional). */
export type EventDataInput<T extends DetailType> = z.input<(typeof DETAIL_TYPES)[T]["data"]>;
export interface EventDetail<T extends DetailType> {
  meta: EventMeta;
  data: EventData<T>;
}

export type MarketSnapshot = EventData<"MarketSnapshot">;
export type MarketSnapshotBatch = EventData<"MarketSnapshotBatch">;
export type SignalGenerated = EventData<"SignalGenerated">;
export type SignalLegData = SignalGenerated["legs"][number];
export type OrderPlaced = EventData<"OrderPlaced">;
export type OrderRejected = EventData<"OrderRejected">;
export type OrderCanceled = EventData<"OrderCanceled">;
export type OrderDenied = EventData<"OrderDenied">;
export type ExecutionReported = EventData<"ExecutionReported">;
export type PositionChanged = EventData<"PositionChanged">;
export type RiskAlert = EventData<"RiskAlert">;
export type ReportGenerated = EventData<"ReportGenerated">;
export type FillBooked = EventData<"FillBooked">;
export type ReconciliationCompleted = EventData<"ReconciliationCompleted">;

export function isDetailType(value: unknown): value is DetailType {
  return typeof value === "string" && Object.hasOwn(DETAIL_TYPES, value);
}
