// A plain OTLP/HTTP (JSON) trace receiver on loopback, for checking what a run exports:
//   node scripts/otlp-receiver.mjs [port=4318] [out=test-output/otlp-spans.json]
// Accepts POST /v1/traces (application/json), answers 200 {}, and on SIGINT/SIGTERM writes every span it got
// (with its resource's service.name) to `out` and prints a summary.
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { dirname } from "node:path";

const port = Number(process.argv[2] ?? 4318);
const out = process.argv[3] ?? "test-output/otlp-spans.json";
const spans = [];
let requests = 0;
const attrs = (list) =>
  Object.fromEntries(
    (list ?? []).map((a) => [
      a.key,
      a.value?.stringValue ?? a.value?.intValue ?? a.value?.boolValue ?? a.value?.doubleValue,
    ]),
  );

const server = createServer((req, res) => {
  if (req.method !== "POST" || req.url !== "/v1/traces") {
    res.writeHead(404).end();
    return;
  }
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    requests++;
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      for (const rs of body.resourceSpans ?? []) {
        const service = attrs(rs.resource?.attributes)["service.name"];
        for (const ss of rs.scopeSpans ?? [])
          for (const s of ss.spans ?? [])
            spans.push({
              service,
              name: s.name,
              kind: s.kind,
              traceId: s.traceId,
              spanId: s.spanId,
              parentSpanId: s.parentSpanId || undefined,
              links: (s.links ?? []).map((l) => ({ traceId: l.traceId, spanId: l.spanId })),
              start: Number(s.startTimeUnixNano) / 1e6,
              end: Number(s.endTimeUnixNano) / 1e6,
              attributes: attrs(s.attributes),
            });
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    } catch (e) {
      res.writeHead(400).end(String(e));
    }
  });
});
server.listen(port, "127.0.0.1", () => process.stdout.write(`otlp receiver on 127.0.0.1:${port}\n`));

function finish() {
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(spans));
  const services = new Set(spans.map((s) => s.service));
  const traces = new Set(spans.map((s) => s.traceId));
  process.stdout.write(
    `${JSON.stringify({ requests, spans: spans.length, traces: traces.size, services: [...services].sort() })}\n`,
  );
  server.close();
  process.exit(0);
}
process.on("SIGINT", finish);
process.on("SIGTERM", finish);
