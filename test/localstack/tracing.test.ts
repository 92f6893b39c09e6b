// One trace per order on LocalStack: the quoter's order goes tick → PlaceOrder (client and the exchange's server
// span) → ExecutionReported created and sent to EventBridge → the rule's SQS tap → fill-handling in the function
// host → PositionChanged → reporting. An in-memory exporter records the spans; parents, links and the
// messaging (aws_eventbridge, aws_sqs), rpc and faas attributes are asserted.
import { join } from "node:path";
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTracing, type TracingHandle } from "../../lib/telemetry/tracing";
import { LocalSession } from "../../session/LocalSession";
import { expectOrderChain, orderChain, serviceOf } from "../support/spanTree";
import { eventually } from "../support/tradingFlow";

describe("tracing across the LocalStack session", () => {
  const exporter = new InMemorySpanExporter();
  let handle: TracingHandle;
  let session: LocalSession;
  let spans: ReadableSpan[] = [];

  beforeAll(async () => {
    handle = await startTracing("tse-session", { processors: [new SimpleSpanProcessor({ exporter })], env: {} });
    session = await LocalSession.start({
      mode: "localstack",
      scenario: "DIVERGENCE",
      seed: 3,
      strategies: ["market-making"],
      ephemeralPorts: true,
      outDir: join(process.cwd(), "test-output", "tracing-localstack"),
      log: () => undefined,
    });
    await eventually(
      "a traced quoter order booked by fill-handling through EventBridge and SQS",
      () => {
        spans = exporter.getFinishedSpans();
        const chain = orderChain(spans, "tse-quoter");
        const reported =
          chain &&
          spans.some(
            (s) =>
              s.name === "process PositionChanged" && s.parentSpanContext?.spanId === chain.fill.spanContext().spanId,
          );
        return reported ? true : undefined;
      },
      90_000,
      1_000,
    );
  }, 180_000);

  afterAll(async () => {
    await session?.stop("test done");
    await handle?.shutdown();
  }, 90_000);

  it("a quoter order is one trace from its tick to reporting, over EventBridge and the SQS tap", () => {
    const chain = orderChain(spans, "tse-quoter")!;
    expectOrderChain(spans, chain, "aws_eventbridge", expect.stringMatching(/^tse-session-/), "aws_sqs");
    expect(chain.cause?.name).toBe("quoter.tick");
    expect(String(chain.fill.attributes["messaging.destination.name"])).toMatch(/fill-handling/);
    expect(new Set(spans.map(serviceOf)).size).toBeGreaterThanOrEqual(3);
  });
});
