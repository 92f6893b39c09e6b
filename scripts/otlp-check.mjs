// Checks what scripts/otlp-receiver.mjs collected: a PlaceOrder span whose trace holds the fill-handling span of
// its execution, messaging.* on bus spans, the service.names. `node scripts/otlp-check.mjs [spans.json]`
import { readFileSync } from "node:fs";

const spans = JSON.parse(readFileSync(process.argv[2] ?? "test-output/otlp-spans.json", "utf8"));
const byId = new Map(spans.map((s) => [s.spanId, s]));
const traces = new Map();
for (const s of spans) traces.set(s.traceId, [...(traces.get(s.traceId) ?? []), s]);
const ancestors = (s) => {
  const out = [];
  for (let p = byId.get(s.parentSpanId); p; p = byId.get(p.parentSpanId)) out.push(p);
  return out;
};
// A fill-handling process span with a PlaceOrder client span among its ancestors: one order, one trace.
const chains = spans
  .filter((s) => s.service === "tse-fill-handling" && s.name === "process ExecutionReported")
  .map((f) => ({ f, up: ancestors(f) }))
  .filter(({ up }) => up.some((a) => a.name === "tse.exchange.ExchangeService/PlaceOrder" && a.kind === 3));
const bus = spans.filter((s) => /^(create|send|process) /.test(s.name));
const withMessaging = bus.filter(
  (s) =>
    s.attributes["messaging.system"] &&
    s.attributes["messaging.operation.type"] &&
    s.attributes["messaging.destination.name"],
);
const example = chains[0] && [chains[0].f, ...chains[0].up].map((s) => `${s.service}: ${s.name}`);
console.log(
  JSON.stringify(
    {
      spans: spans.length,
      traces: traces.size,
      services: [...new Set(spans.map((s) => s.service))].sort(),
      ordersTracedToFill: chains.length,
      busSpans: bus.length,
      busSpansWithMessaging: withMessaging.length,
      messagingSystems: [...new Set(bus.map((s) => s.attributes["messaging.system"]))],
      exampleChain: example,
    },
    null,
    2,
  ),
);
