// ClientManager against a real grpc-js server on loopback (port 0) serving grpc.health.v1 with scripted behaviour.
import * as grpc from "@grpc/grpc-js";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { service as healthService } from "grpc-health-check";
import { afterEach, describe, expect, it } from "vitest";
import { ClientManager, type ServiceSpec } from "../../lib/grpc/ClientManager";
import { Discovery, StaticRegistry } from "../../lib/grpc/discovery";
import {
  CircuitOpenError,
  ClientClosedError,
  DeadlineExceededError,
  InvalidArgumentError,
  NotFoundError,
  PeerUnavailableError,
  RejectedError,
} from "../../lib/grpc/errors";
import { clientMetricsText } from "../../lib/grpc/metrics";

type Behaviour = (req: { service: string }, md: grpc.Metadata) => { code?: grpc.status; delayMs?: number } | undefined;

interface TestServer {
  port: number;
  calls: { service: string; md: grpc.Metadata; peer: string }[];
  behaviour: Behaviour;
  stop(): Promise<void>;
}

async function startServer(port = 0, behaviour: Behaviour = () => undefined): Promise<TestServer> {
  const server = new grpc.Server();
  const ts: TestServer = {
    port: 0,
    calls: [],
    behaviour,
    stop: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
        setTimeout(() => server.forceShutdown(), 200).unref();
      }),
  };
  server.addService(healthService, {
    check: (call: grpc.ServerUnaryCall<{ service: string }, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      ts.calls.push({ service: call.request.service, md: call.metadata, peer: call.getPeer() });
      const b = ts.behaviour(call.request, call.metadata) ?? {};
      const answer = () =>
        b.code
          ? cb({ code: b.code, details: `scripted ${grpc.status[b.code]} for service=${call.request.service}` })
          : cb(null, { status: "SERVING" });
      if (b.delayMs) setTimeout(answer, b.delayMs);
      else answer();
    },
    watch: (call: grpc.ServerWritableStream<unknown, unknown>) => call.end(),
  });
  ts.port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  return ts;
}

const spec = (idempotent: boolean): ServiceSpec => ({
  name: "health-test",
  definition: healthService,
  methods: { Check: { idempotent, deadlineMs: 1_000 } },
});

const quiet = { info() {}, warn() {}, debug() {} };
const toClose: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of toClose.splice(0)) await c();
});

function manager(port: number, extra: ConstructorParameters<typeof ClientManager>[0] = {}) {
  const m = new ClientManager({
    discovery: new Discovery({ explicit: { "health-test": `127.0.0.1:${port}` }, env: {} }),
    retry: { maxAttempts: 3, initialDelayMs: 10, maxDelayMs: 50 },
    logger: quiet,
    ...extra,
  });
  toClose.push(() => m.close());
  return m;
}

async function server(port = 0, behaviour?: Behaviour) {
  const s = await startServer(port, behaviour);
  toClose.push(() => s.stop());
  return s;
}

describe("ClientManager", () => {
  it("retries transient failures for idempotent methods only", async () => {
    let failuresLeft = 0;
    const s = await server(0, () => (failuresLeft-- > 0 ? { code: grpc.status.UNAVAILABLE } : undefined));
    const m = manager(s.port);

    failuresLeft = 2;
    const ok = await m.unary(spec(true), "Check", { service: "a" });
    expect(ok).toEqual({ status: "SERVING" });
    expect(s.calls.filter((c) => c.service === "a")).toHaveLength(3);

    failuresLeft = 2;
    await expect(m.unary(spec(false), "Check", { service: "b" })).rejects.toBeInstanceOf(PeerUnavailableError);
    expect(s.calls.filter((c) => c.service === "b")).toHaveLength(1);

    // A business error is never retried, even for idempotent methods.
    s.behaviour = () => ({ code: grpc.status.INVALID_ARGUMENT });
    await expect(m.unary(spec(true), "Check", { service: "c" })).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(s.calls.filter((c) => c.service === "c")).toHaveLength(1);
  });

  it("maps grpc status codes to typed errors carrying service, method, code and details", async () => {
    const codes: Record<string, grpc.status> = {
      inv: grpc.status.INVALID_ARGUMENT,
      rej: grpc.status.FAILED_PRECONDITION,
      nf: grpc.status.NOT_FOUND,
      down: grpc.status.UNAVAILABLE,
    };
    const s = await server(0, (req) => ({ code: codes[req.service] }));
    const m = manager(s.port);
    const cases = [
      ["inv", InvalidArgumentError],
      ["rej", RejectedError],
      ["nf", NotFoundError],
      ["down", PeerUnavailableError],
    ] as const;
    for (const [svc, cls] of cases) {
      const err = await m.unary(spec(false), "Check", { service: svc }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(cls);
      expect(err).toMatchObject({ service: "health-test", method: "Check", code: codes[svc] });
      expect((err as Error).message).toContain(`service=${svc}`);
    }
  });

  it("applies a deadline to every call and surfaces DeadlineExceededError", async () => {
    // The server answers after 5 s: a 100 ms deadline ends the call long before (a margin no loaded machine eats).
    const s = await server(0, () => ({ delayMs: 5_000 }));
    const m = manager(s.port);
    const t0 = Date.now();
    const err = await m.unary(spec(false), "Check", { service: "slow" }, { deadlineMs: 100 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeadlineExceededError);
    expect(err).toMatchObject({ service: "health-test", method: "Check", code: grpc.status.DEADLINE_EXCEEDED });
    expect(Date.now() - t0).toBeLessThan(4_000);
    // The per-method default applies when no override is given.
    const err2 = await m
      .unary({ ...spec(false), methods: { Check: { deadlineMs: 80 } } }, "Check", { service: "slow" })
      .catch((e: unknown) => e);
    expect(err2).toBeInstanceOf(DeadlineExceededError);
  });

  it("opens the breaker on a stopped peer, fails fast, then half-opens and closes when it returns", async () => {
    const s1 = await server();
    const port = s1.port;
    const m = manager(port, {
      breaker: { consecutiveFailures: 3, halfOpenAfterMs: 300 },
      reresolveAfterUnavailable: 100,
    });
    const sp = spec(false);
    await m.unary(sp, "Check", { service: "x" });
    expect(m.breakerState("health-test")).toBe("closed");
    await s1.stop();
    for (let i = 0; i < 3; i++) {
      await expect(m.unary(sp, "Check", { service: "x" })).rejects.toBeInstanceOf(PeerUnavailableError);
    }
    expect(m.breakerState("health-test")).toBe("open");
    const fast = await m.unary(sp, "Check", { service: "x" }).catch((e: unknown) => e);
    expect(fast).toBeInstanceOf(CircuitOpenError);
    expect(fast).toMatchObject({ service: "health-test", method: "Check" });

    const s2 = await server(port);
    await new Promise((r) => setTimeout(r, 350));
    // The probe may still hit a channel in reconnect backoff; within a bounded time it must close.
    const until = Date.now() + 5_000;
    let closedAgain = false;
    while (Date.now() < until) {
      try {
        await m.unary(sp, "Check", { service: "x" });
        closedAgain = true;
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    expect(closedAgain).toBe(true);
    expect(m.breakerState("health-test")).toBe("closed");
    expect(s2.calls.length).toBeGreaterThan(0);
  });

  it("re-resolves the endpoint after repeated UNAVAILABLE and rebuilds the channel", async () => {
    const registry = new StaticRegistry();
    const s1 = await server();
    registry.register("health-test", `127.0.0.1:${s1.port}`);
    const discovery = new Discovery({ registry, env: {} });
    const m = new ClientManager({
      discovery,
      reresolveAfterUnavailable: 2,
      logger: quiet,
      breaker: { consecutiveFailures: 50 },
    });
    toClose.push(() => m.close());
    const sp = spec(false);
    await m.unary(sp, "Check", { service: "r" });
    await s1.stop();
    const s2 = await server();
    registry.register("health-test", `127.0.0.1:${s2.port}`);
    // Cached endpoint still points at the old server until two UNAVAILABLEs in a row.
    await expect(m.unary(sp, "Check", { service: "r" })).rejects.toBeInstanceOf(PeerUnavailableError);
    await expect(m.unary(sp, "Check", { service: "r" })).rejects.toBeInstanceOf(PeerUnavailableError);
    await expect(m.unary(sp, "Check", { service: "r" })).resolves.toEqual({ status: "SERVING" });
    expect(m.health()[0]?.address).toBe(`127.0.0.1:${s2.port}`);
    expect(s2.calls).toHaveLength(1);
  });

  it("reuses one channel per service and address", async () => {
    const s = await server();
    const m = manager(s.port);
    for (let i = 0; i < 5; i++) await m.unary(spec(false), "Check", { service: "reuse" });
    expect(new Set(s.calls.map((c) => c.peer)).size).toBe(1);
  });

  it("injects a W3C traceparent into metadata and records a client span", async () => {
    const s = await server();
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const m = manager(s.port, { tracer: provider.getTracer("test") });
    await m.unary(spec(false), "Check", { service: "t" });
    const tp = s.calls[0]?.md.get("traceparent")[0];
    expect(tp).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(1);
    expect(spans[0]?.name).toBe("grpc.health.v1.Health/Check");
    expect(tp).toContain(spans[0]?.spanContext().spanId);

    // Without an SDK (no-op tracer) a parent traceparent from an event is still propagated.
    const noop = manager(s.port);
    const parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    await noop.unary(spec(false), "Check", { service: "t2" }, { traceparent: parent });
    expect(s.calls[1]?.md.get("traceparent")[0]).toBe(parent);
  });

  it("keeps per-method stats and rejects calls after close()", async () => {
    const s = await server(0, (req) => (req.service === "bad" ? { code: grpc.status.INVALID_ARGUMENT } : undefined));
    const m = manager(s.port);
    for (let i = 0; i < 20; i++) await m.unary(spec(false), "Check", { service: "ok" });
    await m.unary(spec(false), "Check", { service: "bad" }).catch(() => undefined);
    const st = m.stats()["health-test.Check"];
    expect(st?.count).toBe(21);
    expect(st?.errors).toBe(1);
    expect(st?.p50Us).toBeGreaterThan(0);
    expect(st?.p99Us).toBeGreaterThanOrEqual(st?.p50Us ?? 0);
    const text = clientMetricsText(m);
    expect(text).toContain('tse_grpc_client_calls_total{service="health-test",method="Check"} 21');
    expect(text).toContain('tse_grpc_client_errors_total{service="health-test",method="Check"} 1');
    expect(text).toContain('tse_grpc_client_breaker_state{service="health-test"} 0');
    await m.close();
    await expect(m.unary(spec(false), "Check", { service: "ok" })).rejects.toThrow(/closed/);
  });

  it("close() lets in-flight calls finish (bounded), then refuses new ones", async () => {
    const s = await server(0, () => ({ delayMs: 250 }));
    const m = manager(s.port);
    const inFlight = m.unary(spec(false), "Check", { service: "drain" });
    await new Promise((r) => setTimeout(r, 50));
    expect(m.inflightCalls).toBe(1);
    const t0 = Date.now();
    await m.close({ drainTimeoutMs: 2_000 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(100);
    await expect(inFlight).resolves.toEqual({ status: "SERVING" });
    expect(m.stats()["health-test.Check"]?.count).toBe(1); // stats survive close
    const after = await m.unary(spec(false), "Check", { service: "drain" }).catch((e: unknown) => e);
    expect(after).toBeInstanceOf(ClientClosedError);
  });

  it("waitForReady waits for a peer that is still starting instead of failing fast", async () => {
    const probe = await startServer();
    const port = probe.port;
    await probe.stop(); // a port that nothing listens on yet
    const m = manager(port);
    const fast = await m.unary(spec(false), "Check", { service: "w" }).catch((e: unknown) => e);
    expect(fast).toBeInstanceOf(PeerUnavailableError);
    const waiting = m.unary(spec(false), "Check", { service: "w" }, { waitForReady: true, deadlineMs: 5_000 });
    await new Promise((r) => setTimeout(r, 200));
    await server(port);
    await expect(waiting).resolves.toEqual({ status: "SERVING" });
  });

  it("reaches makeUnaryRequest in the caller's turn once the channel is ready, with no span while tracing is off", async () => {
    const s = await server();
    const m = manager(s.port);
    await m.unary(spec(true), "Check", { service: "warm" }); // channel built
    // biome-ignore lint/suspicious/noExplicitAny: reaching the private channel and span seam to observe them
    const inner = m as any;
    const client: grpc.Client = inner.channels.services.get("health-test").client;
    const made: string[] = [];
    const real = client.makeUnaryRequest.bind(client);
    client.makeUnaryRequest = ((...args: Parameters<typeof real>) => {
      made.push(String(args[0]));
      return real(...args);
    }) as typeof client.makeUnaryRequest;
    let spans = 0;
    const startSpan = inner.startSpan.bind(inner);
    inner.startSpan = (...a: unknown[]) => {
      spans++;
      return startSpan(...a);
    };
    const retried = m.unary(spec(true), "Check", { service: "same-turn" });
    expect(made).toEqual(["/grpc.health.v1.Health/Check"]); // no await in between
    const plain = m.unary(spec(false), "Check", { service: "same-turn-2" });
    expect(made).toHaveLength(2);
    await expect(Promise.all([retried, plain])).resolves.toHaveLength(2);
    expect(spans).toBe(0);
    // A parent handed in still gets its span and propagation.
    const parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    await m.unary(spec(false), "Check", { service: "parent" }, { traceparent: parent });
    expect(spans).toBe(1);
    expect(s.calls.at(-1)?.md.get("traceparent")[0]).toBe(parent);
    expect(m.stats()["health-test.Check"]?.count).toBe(4);
  });
});
