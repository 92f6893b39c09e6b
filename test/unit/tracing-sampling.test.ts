// A ratio sampler decides once per root (a quoter tick): a sampled tick keeps its whole tree (its PlaceOrder CLIENT
// spans, also a call deferred to a later turn that resumes the tick's scope, and the exchange's SERVER spans); an
// unsampled one exports nothing, and its calls still carry its trace id with flags 00 so the exchange (parent-based)
// agrees. Real exchange simulator on loopback, the quoter's synchronous context manager.
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClientManager } from "../../lib/grpc/ClientManager";
import { Discovery } from "../../lib/grpc/discovery";
import { ExchangeClient } from "../../lib/grpc/ExchangeClient";
import { activeTraceparent, captureTraceScope, inRootSpanSync, inTraceScope } from "../../lib/telemetry/spans";
import { startTracing, type TracingHandle } from "../../lib/telemetry/tracing";
import { ExchangeSimulator } from "../../sim/exchange/ExchangeSimulator";
import { parentOf } from "../support/spanTree";

const TICKS = 40;
const quiet = { info() {}, warn() {}, debug() {} };

describe("a ratio sampler decides at the tick", () => {
  const exporter = new InMemorySpanExporter();
  let handle: TracingHandle;
  let sim: ExchangeSimulator;
  let manager: ClientManager;
  const recorded = new Map<string, string | undefined>();
  const ticks: { id: string; traceparent: string | undefined; sampled: boolean }[] = [];

  beforeAll(async () => {
    handle = await startTracing("tse-test", {
      processors: [new SimpleSpanProcessor({ exporter })],
      env: { OTEL_TRACES_SAMPLER: "parentbased_traceidratio", OTEL_TRACES_SAMPLER_ARG: "0.5" },
      contextManager: "synchronous",
    });
    sim = new ExchangeSimulator({ quiet: true, seed: 5, liquidity: false });
    const port = await sim.start(0);
    // What the exchange records as each order's placing context (its executions carry it).
    const engine = sim.engine;
    const placeAt = engine.placeOrder.bind(engine);
    engine.placeOrder = ((req, opts) => {
      recorded.set(req.clientOrderId, opts?.traceparent);
      return placeAt(req, opts);
    }) as typeof engine.placeOrder;
    manager = new ClientManager({
      discovery: new Discovery({ env: { TSE_EXCHANGE_ENDPOINT: `127.0.0.1:${port}` } }),
      logger: quiet,
    });
    const exchange = new ExchangeClient(manager);
    const place = (clientOrderId: string) =>
      exchange.placeOrder({
        clientOrderId,
        strategyId: "sampling",
        venue: "venue-a",
        symbol: "BTC-USD",
        side: "BUY",
        type: "LIMIT",
        price: "1000",
        quantity: "0.001",
      });
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < TICKS; i++) {
      const id = `tick-${i}`;
      inRootSpanSync(
        "tse-quoter",
        "quoter.tick",
        () => ({ "tse.tick": id }),
        (span) => {
          ticks.push({ id, traceparent: activeTraceparent(), sampled: span !== undefined });
          calls.push(place(`${id}-lead`));
          const scope = captureTraceScope();
          calls.push(new Promise((r) => setImmediate(r)).then(() => inTraceScope(scope, () => place(`${id}-later`))));
        },
      );
    }
    await Promise.all(calls);
  }, 30_000);

  afterAll(async () => {
    await manager?.close();
    await sim?.stop();
    await handle?.shutdown();
  });

  it("sampled ticks export their whole tree; unsampled ones nothing, their calls keep the trace id with flags 00", () => {
    const spans: ReadableSpan[] = exporter.getFinishedSpans();
    const sampled = ticks.filter((t) => t.sampled);
    expect(sampled.length).toBeGreaterThan(0);
    expect(sampled.length).toBeLessThan(TICKS);
    const tickSpans = spans.filter((s) => s.name === "quoter.tick");
    expect(tickSpans.map((s) => s.attributes["tse.tick"]).sort()).toEqual(sampled.map((t) => t.id).sort());
    const clients = spans.filter((s) => s.name.endsWith("/PlaceOrder") && s.kind === 2);
    const servers = spans.filter((s) => s.name.endsWith("/PlaceOrder") && s.kind === 1);
    expect(clients).toHaveLength(2 * sampled.length); // the lead and the deferred call of each sampled tick
    expect(servers).toHaveLength(clients.length);
    for (const c of clients) expect(parentOf(spans, c)?.name).toBe("quoter.tick");
    for (const s of servers) expect(clients).toContain(parentOf(spans, s));
    expect(spans.length).toBe(tickSpans.length + clients.length + servers.length); // no orphan root anywhere

    for (const t of ticks) {
      const [, traceId, , flags] = t.traceparent!.split("-");
      expect(flags).toBe(t.sampled ? "01" : "00");
      // The exchange recorded the placing context: the tick's trace, as sampled as the tick.
      for (const suffix of ["lead", "later"]) {
        const tp = recorded.get(`${t.id}-${suffix}`);
        expect(tp?.split("-")[1], `${t.id}-${suffix}`).toBe(traceId);
        expect(tp?.split("-")[3]).toBe(flags);
      }
    }
  });
});
