// A wrapper for the gRPC-backed ports (ExchangePort, RiskMonitorPort, CustodianPort) that fails calls per a
// FaultPlan (tests only). The errors go through the gRPC client's own status mapping (toClientError), so callers
// see exactly what a real peer failure gives them.
import { Metadata, status } from "@grpc/grpc-js";
import { toClientError } from "../../../lib/grpc/errors";
import type { BusEvent, PublishResult } from "../../../lib/ports/EventBus";
import type { FaultKind, FaultPlan } from "./faultPlan";

const CODES: Record<FaultKind, number> = {
  throttle: status.RESOURCE_EXHAUSTED,
  timeout: status.DEADLINE_EXCEEDED,
  "server-error": status.INTERNAL,
  "applied-unheard": status.DEADLINE_EXCEEDED,
  "applied-500": status.INTERNAL,
  "partial-batch": status.INTERNAL,
};

export function grpcFaultError(fault: FaultKind, service: string, method: string): Error {
  const details = `injected ${fault}`;
  const err = Object.assign(new Error(`${CODES[fault]} ${details}`), {
    code: CODES[fault],
    details,
    metadata: new Metadata(),
  });
  return toClientError(err, service, method);
}

/** EventBus.publish with the last event refused (PublishResult.failed), the others published. */
async function partialPublish(publish: (e: readonly BusEvent[]) => Promise<PublishResult>, arg: unknown) {
  const events = arg as readonly BusEvent[];
  const last = events.at(-1);
  const r = events.length > 1 ? await publish(events.slice(0, -1)) : { published: 0, failed: [] };
  if (!last) return r;
  const failure = {
    index: events.length - 1,
    event: last,
    errorCode: "InternalFailure",
    errorMessage: "injected partial-batch",
  };
  return { published: r.published, failed: [...r.failed, failure] };
}

/**
 * Wrap every promise-returning method of `port` (streams and other sync methods pass through uncounted). Each
 * call is a step `<service>:<method>` in `scope`.
 */
export function withPortFaults<T extends object>(port: T, plan: FaultPlan, service: string, scope: string): T {
  return new Proxy(port, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (typeof v !== "function" || typeof prop !== "string" || prop === "streamExecutions") return v;
      return (...args: unknown[]) => {
        const fault = plan.next(scope, `${service}:${prop}`);
        if (!fault) return v.apply(target, args);
        return (async () => {
          if (fault === "partial-batch" && prop === "publish") return partialPublish(v.bind(target), args[0]);
          if (fault.startsWith("applied-")) await v.apply(target, args);
          throw grpcFaultError(fault, service, prop);
        })();
      };
    },
  });
}
