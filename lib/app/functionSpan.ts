// The function's process span (tracing on only): a CONSUMER span named for the event, child of and linked to the
// event's meta.traceparent, with faas.* and messaging.* attributes; log lines inside carry trace_id / span_id and
// the X-Ray subsegment (Powertools tracer active) carries the W3C trace id (annotation w3c_trace_id, set in the body).
import type { Logger } from "@aws-lambda-powertools/logger";
import { type Span, SpanKind } from "@opentelemetry/api";
import type { Context } from "aws-lambda";
import { inSpan, type MessagingSystem, processSpan } from "../telemetry/spans";

/** How the event reached the handler; set on the context by the host that delivered it (default: EventBridge). */
export interface Delivery {
  system: MessagingSystem;
  destination: string;
}
export type DeliveredContext = Context & { tseDelivery?: Delivery };

let coldStart = true;

function metaOf(event: unknown): { detailType: string | undefined; traceparent?: string; tracestate?: string } {
  const e = event as { "detail-type"?: unknown; detail?: { meta?: { traceparent?: unknown; tracestate?: unknown } } };
  const meta = e && typeof e === "object" ? e.detail?.meta : undefined;
  return {
    detailType: typeof e?.["detail-type"] === "string" && e.detail?.meta ? e["detail-type"] : undefined,
    ...(typeof meta?.traceparent === "string" ? { traceparent: meta.traceparent } : {}),
    ...(typeof meta?.tracestate === "string" ? { tracestate: meta.tracestate } : {}),
  };
}

export function functionSpan(
  functionName: string,
  logger: Logger,
  handler: (event: unknown, context: Context) => Promise<unknown>,
  event: unknown,
  context: Context,
): Promise<unknown> {
  const { detailType, traceparent, tracestate } = metaOf(event);
  const delivery = (context as DeliveredContext).tseDelivery ?? {
    system: "aws_eventbridge" as const,
    destination: process.env.TSE_EVENT_BUS_NAME ?? "default",
  };
  const cold = coldStart;
  coldStart = false;
  const faas = {
    "faas.name": context.functionName || functionName,
    "faas.version": context.functionVersion || "$LATEST",
    "faas.invocation_id": context.awsRequestId,
    "faas.coldstart": cold,
    "cloud.resource_id": context.invokedFunctionArn,
  };
  const run = async (span: Span | undefined) => {
    const sc = span?.spanContext();
    if (!sc) return handler(event, context);
    logger.appendKeys({ trace_id: sc.traceId, span_id: sc.spanId });
    try {
      return await handler(event, context);
    } finally {
      logger.removeKeys(["trace_id", "span_id"]);
    }
  };
  // A direct invocation (a schedule, the CLI) is no message: a SERVER span without messaging attributes.
  if (detailType === undefined)
    return inSpan(
      `tse-${functionName}`,
      `invoke ${functionName}`,
      {
        kind: SpanKind.SERVER,
        attributes: { "faas.trigger": "other", ...faas },
      },
      run,
    );
  return processSpan(
    `tse-${functionName}`,
    { system: delivery.system, destination: delivery.destination, detailType, traceparent, tracestate },
    { "faas.trigger": "pubsub", ...faas },
    run,
  );
}
