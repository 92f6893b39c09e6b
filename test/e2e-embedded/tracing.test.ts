// One trace per causal chain, on the embedded session with an in-memory span exporter: a quoter order's tick →
// PlaceOrder (client, and the exchange's server span) → ExecutionReported (create, send) → fill-handling →
// PositionChanged → reporting; and the serverless chain MarketSnapshot → signal → SignalGenerated → order-placement
// → PlaceOrder. Parents, links and the semantic-convention attributes are asserted, and ≥ 3 service.names.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTracing, type TracingHandle } from "../../lib/telemetry/tracing";
import { LocalSession } from "../../session/LocalSession";
import { expectOrderChain, orderChain, parentOf, serviceOf } from "../support/spanTree";
import { eventually } from "../support/tradingFlow";

describe("tracing across the embedded session", () => {
  const exporter = new InMemorySpanExporter();
  let handle: TracingHandle;
  let session: LocalSession;
  let spans: ReadableSpan[] = [];

  beforeAll(async () => {
    handle = await startTracing("tse-session", { processors: [new SimpleSpanProcessor({ exporter })], env: {} });
    session = await LocalSession.start({
      mode: "embedded",
      scenario: "DIVERGENCE",
      seed: 3,
      strategies: ["market-making", "arbitrage"],
      ephemeralPorts: true,
      outDir: join(process.cwd(), "test-output", "tracing"),
      log: () => undefined,
    });
    await eventually(
      "a traced quoter order and a traced function order, each booked by fill-handling",
      () => {
        spans = exporter.getFinishedSpans();
        const both = orderChain(spans, "tse-quoter") && orderChain(spans, "tse-order-placement");
        return both ? true : undefined;
      },
      50_000,
      500,
    ).catch((e) => {
      const names = new Map<string, number>();
      for (const x of exporter.getFinishedSpans()) {
        const k = `${serviceOf(x)} ${x.name}`;
        names.set(k, (names.get(k) ?? 0) + 1);
      }
      throw new Error(`${(e as Error).message}; spans: ${JSON.stringify([...names])}`);
    });
  }, 90_000);

  afterAll(async () => {
    await session?.stop("test done");
    await handle?.shutdown();
  }, 60_000);

  it("a quoter order is one trace from its tick to reporting", () => {
    const chain = orderChain(spans, "tse-quoter")!;
    expectOrderChain(spans, chain, "in_process", "embedded");
    expect(chain.cause?.name).toBe("quoter.tick");
    expect(serviceOf(chain.cause!)).toBe("tse-quoter");
    expect(serviceOf(chain.create)).toBe("tse-quoter");
  });

  it("the serverless chain: MarketSnapshot → signal → order-placement → PlaceOrder, then the fill", () => {
    const chain = orderChain(spans, "tse-order-placement")!;
    expectOrderChain(spans, chain, "in_process", "embedded");
    const placement = chain.cause!;
    expect(placement.name).toBe("process SignalGenerated");
    expect(serviceOf(placement)).toBe("tse-order-placement");
    expect(serviceOf(chain.create)).toBe("tse-execution-forwarder");
    const signal = parentOf(spans, placement)!;
    expect(signal.name).toBe("process MarketSnapshot");
    expect(serviceOf(signal)).toBe("tse-signal");
    expect(placement.links.map((l) => l.context.spanId)).toContain(signal.spanContext().spanId);
    const snapshot = parentOf(spans, signal)!;
    expect(snapshot.name).toBe("create MarketSnapshot");
    expect(serviceOf(snapshot)).toBe("tse-quoter");
    expect(parentOf(spans, snapshot)?.name).toBe("quoter.tick");
  });

  it("report.html shows the latency waterfall of the median and p99 traced order", async () => {
    const r = await session.stop("waterfall");
    const w = r.report.latencyWaterfall!;
    expect(w.orders).toBeGreaterThan(0);
    for (const o of [w.median, w.p99]) {
      expect(o.hops.map((h) => h.hop)).toEqual(["decision", "place", "ack", "fill", "booked"]);
      expect(o.hops.reduce((a, h) => a + h.ms, 0)).toBeCloseTo(o.totalMs, 6);
    }
    expect(w.p99.totalMs).toBeGreaterThanOrEqual(w.median.totalMs);
    const html = readFileSync(r.htmlPath, "utf8");
    expect(html).toContain('id="latency"');
    expect(html).toContain(`${w.orders} traced orders`);
  }, 60_000);

  it("each component reports under its own service.name", () => {
    const names = new Set(spans.map(serviceOf));
    for (const n of ["tse-quoter", "tse-sim-exchange", "tse-signal", "tse-order-placement", "tse-fill-handling"])
      expect(names).toContain(n);
  });
});
