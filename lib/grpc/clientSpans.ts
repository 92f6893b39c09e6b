// Client spans for gRPC calls: a CLIENT span per call with rpc.* attributes and W3C traceparent in the metadata.
import * as grpc from "@grpc/grpc-js";
import { defaultTextMapGetter, ROOT_CONTEXT, type Span, SpanKind, type Tracer, trace } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { activeOrUnsampled } from "../telemetry/spans";
import type { AnyMethodDefinition, CallOptions } from "./clientTypes";

const propagator = new W3CTraceContextPropagator();
const metadataSetter = {
  set(carrier: grpc.Metadata, key: string, value: string) {
    carrier.set(key, value);
  },
};

export const rpcNameOf = (def: AnyMethodDefinition): string => def.path.slice(def.path.lastIndexOf("/") + 1);
const fullServiceOf = (def: AnyMethodDefinition): string => def.path.slice(1, def.path.lastIndexOf("/"));

/** server.address / server.port (semantic conventions) from a `host:port` target. */
export function setServerAddress(span: Span, address: string | undefined): void {
  if (!address) return;
  const i = address.lastIndexOf(":");
  const host =
    i > 0
      ? address
          .slice(0, i)
          .replace(/^dns:(\/\/\/)?/, "")
          .replace(/^\[|\]$/g, "")
      : address;
  span.setAttribute("server.address", host);
  const port = i > 0 ? Number(address.slice(i + 1)) : Number.NaN;
  if (Number.isInteger(port)) span.setAttribute("server.port", port);
}

/** Starts the call's span under its parent (`context`, else `traceparent`, else the active context) and injects it. */
export function startClientSpan(
  tracer: Tracer,
  service: string,
  def: AnyMethodDefinition,
  opts: CallOptions,
): { span: Span; metadata: grpc.Metadata } {
  const rpc = rpcNameOf(def);
  const full = fullServiceOf(def);
  let parent = opts.context;
  if (!parent && opts.traceparent) {
    const carrier: Record<string, string> = { traceparent: opts.traceparent };
    if (opts.tracestate) carrier.tracestate = opts.tracestate;
    parent = propagator.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter);
  }
  parent ??= activeOrUnsampled();
  const span = tracer.startSpan(
    `${full}/${rpc}`,
    {
      kind: SpanKind.CLIENT,
      attributes: { "rpc.system": "grpc", "rpc.service": full, "rpc.method": rpc, "peer.service": service },
    },
    parent,
  );
  const metadata = opts.metadata ? opts.metadata.clone() : new grpc.Metadata();
  if (opts.waitForReady) metadata.setOptions({ ...metadata.getOptions(), waitForReady: true });
  propagator.inject(trace.setSpan(parent, span), metadata, metadataSetter);
  return { span, metadata };
}
