// Span-tree helpers for the end-to-end tracing tests (in-memory exporter): find spans by service and name, walk
// parents, and check one order's chain tick → PlaceOrder → exchange → ExecutionReported → fill-handling.
import { SpanKind } from "@opentelemetry/api";
import type { ReadableSpan } from "@opentelemetry/sdk-trace";
import { expect } from "vitest";

export const serviceOf = (s: ReadableSpan): string => String(s.resource.attributes["service.name"]);

export function parentOf(spans: readonly ReadableSpan[], s: ReadableSpan): ReadableSpan | undefined {
  const p = s.parentSpanContext;
  if (!p) return undefined;
  return spans.find((x) => x.spanContext().spanId === p.spanId && x.spanContext().traceId === p.traceId);
}

/** The fill-handling process span of an order placed through `placer` (a service.name), with its ancestors. */
export function orderChain(spans: readonly ReadableSpan[], placer: string) {
  for (const fill of spans) {
    if (serviceOf(fill) !== "tse-fill-handling" || fill.name !== "process ExecutionReported") continue;
    const create = parentOf(spans, fill);
    const server = create && parentOf(spans, create);
    const client = server && parentOf(spans, server);
    if (!create || !server || !client || serviceOf(client) !== placer) continue;
    return { fill, create, server, client, cause: parentOf(spans, client) };
  }
  return undefined;
}

/** The attributes and links of one order's chain, as the semantic conventions name them. */
export function expectOrderChain(
  spans: readonly ReadableSpan[],
  chain: NonNullable<ReturnType<typeof orderChain>>,
  system: string,
  destination: unknown,
  deliveredBy: string = system,
): void {
  const { fill, create, server, client } = chain;
  const traceId = client.spanContext().traceId;
  for (const s of [create, server, fill]) expect(s.spanContext().traceId).toBe(traceId);
  expect(client.kind).toBe(SpanKind.CLIENT);
  expect(client.attributes).toMatchObject({
    "rpc.system": "grpc",
    "rpc.service": "tse.exchange.ExchangeService",
    "rpc.method": "PlaceOrder",
    "server.address": "127.0.0.1",
  });
  expect(typeof client.attributes["server.port"]).toBe("number");
  expect(server.kind).toBe(SpanKind.SERVER);
  expect(serviceOf(server)).toBe("tse-sim-exchange");
  expect(server.attributes).toMatchObject({ "rpc.system": "grpc", "rpc.method": "PlaceOrder" });
  expect(create.kind).toBe(SpanKind.PRODUCER);
  expect(create.attributes).toMatchObject({
    "messaging.system": system,
    "messaging.operation.type": "create",
    "messaging.destination.name": destination,
  });
  expect(fill.kind).toBe(SpanKind.CONSUMER);
  expect(fill.attributes).toMatchObject({
    "messaging.system": deliveredBy,
    "messaging.operation.type": "process",
    "faas.trigger": "pubsub",
    "faas.name": "fill-handling",
  });
  expect(typeof fill.attributes["faas.invocation_id"]).toBe("string");
  // Async hop: parent and link both name the message's creation context.
  expect(fill.links.map((l) => l.context.spanId)).toContain(create.spanContext().spanId);
  // A send span (the batch publish) links the same message.
  const send = spans.find(
    (s) =>
      s.name.startsWith("send ") &&
      s.attributes["messaging.operation.type"] === "send" &&
      s.links.some((l) => l.context.spanId === create.spanContext().spanId),
  );
  expect(send, "a send span linking the ExecutionReported create span").toBeDefined();
  expect(send!.attributes["messaging.system"]).toBe(system);
  // Fill-handling's PositionChanged reaches reporting in the same trace.
  const reporting = spans.find(
    (s) =>
      serviceOf(s) === "tse-reporting" &&
      s.name === "process PositionChanged" &&
      s.parentSpanContext?.spanId === fill.spanContext().spanId,
  );
  expect(reporting, "reporting's process span under fill-handling's").toBeDefined();
}
