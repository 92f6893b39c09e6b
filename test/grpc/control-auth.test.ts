// The engine's control plane is authenticated: TLS only, and every EngineService method (and /metrics) refuses a
// call without the bearer token or with a wrong one (UNAUTHENTICATED / 401), logging each attempt. Health stays open.
import { request as httpRequest } from "node:http";
import * as grpc from "@grpc/grpc-js";
import { service as healthService } from "grpc-health-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EngineServiceService } from "../../gen/proto/tse/engine/engine";
import { EngineControlServer } from "../../quoter/control/EngineControlServer";
import { QuoterHttpServer } from "../../quoter/control/httpServer";
import { httpsGet, testControlAuth } from "../support/controlAuth";
import { makeQuoter, type QuoterRig, type Sims, startSims } from "./quoterHarness";
import { rpc } from "./rpc";

const Engine = grpc.makeGenericClientConstructor(EngineServiceService, "EngineService");
const METHODS = Object.keys(EngineServiceService) as (keyof typeof EngineServiceService)[];

type Unary = (
  req: object,
  md: grpc.Metadata,
  opts: grpc.CallOptions,
  cb: (e: grpc.ServiceError | null) => void,
) => void;

function call(client: grpc.Client, method: string, md: grpc.Metadata): Promise<grpc.ServiceError | null> {
  return new Promise((resolve) => {
    const fn = (client as unknown as Record<string, Unary>)[method]!.bind(client);
    // The default message of the method's request type (an empty encoding decodes to it).
    const req = EngineServiceService[method as keyof typeof EngineServiceService].requestDeserialize(Buffer.alloc(0));
    fn(req as object, md, { deadline: Date.now() + 3_000 }, (e) => resolve(e));
  });
}

function bearer(token: string | undefined): grpc.Metadata {
  const md = new grpc.Metadata();
  if (token !== undefined) md.set("authorization", `Bearer ${token}`);
  return md;
}

describe("control plane authentication", () => {
  let sims: Sims;
  let rig: QuoterRig;
  let control: EngineControlServer;
  let http: QuoterHttpServer;
  let client: grpc.Client;
  const warnings: { message: string; attrs?: Record<string, unknown> }[] = [];
  const log = { warn: (message: string, attrs?: Record<string, unknown>) => warnings.push({ message, attrs }) };

  beforeAll(async () => {
    sims = await startSims({ liquidity: false });
    rig = makeQuoter(sims, { strategies: [] });
    const auth = await testControlAuth();
    control = new EngineControlServer(rig.quoter, { auth, log });
    await control.start(0);
    http = new QuoterHttpServer(rig.quoter, { auth, log });
    await http.start(0);
    client = new Engine(`127.0.0.1:${control.port}`, grpc.credentials.createSsl(Buffer.from(auth.tls.certPem)));
  }, 30_000);

  afterAll(async () => {
    client?.close();
    await control?.stop();
    await http?.stop();
    await rig?.close();
    await sims?.stop();
  });

  it.each(METHODS)("%s without a token, or with a wrong one, is UNAUTHENTICATED and logged", async (method) => {
    const before = control.audit.refused;
    const none = await call(client, method, bearer(undefined));
    expect(none?.code).toBe(grpc.status.UNAUTHENTICATED);
    const wrong = await call(client, method, bearer("w".repeat(43)));
    expect(wrong?.code).toBe(grpc.status.UNAUTHENTICATED);
    const notBearer = new grpc.Metadata();
    notBearer.set("authorization", `Basic ${(await testControlAuth()).tokens[0]}`);
    expect((await call(client, method, notBearer))?.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(control.audit.refused - before).toBe(3);
    const logged = warnings.filter((w) => w.attrs?.target === EngineServiceService[method].path);
    expect(logged.length).toBeGreaterThanOrEqual(3);
    expect(logged.map((w) => w.attrs?.why)).toEqual(expect.arrayContaining(["no bearer token", "wrong bearer token"]));
    // Never the presented value.
    expect(JSON.stringify(logged)).not.toContain("w".repeat(43));
  });

  it("the right token reaches the handlers (a bad request is then INVALID_ARGUMENT, not UNAUTHENTICATED)", async () => {
    const token = (await testControlAuth()).tokens[0]!;
    expect(await call(client, "getRiskStatus", bearer(token))).toBeNull();
    expect(await call(client, "listActiveStrategies", bearer(token))).toBeNull();
    expect((await call(client, "stopStrategy", bearer(token)))?.code).toBe(grpc.status.INVALID_ARGUMENT);
  });

  it("a rotation accepts the previous token too, and only those two", async () => {
    const auth = await testControlAuth();
    const next = { ...auth, tokens: ["n".repeat(43), auth.tokens[0]!] };
    const rotating = new EngineControlServer(rig.quoter, { auth: next, log });
    await rotating.start(0);
    const c = new Engine(`127.0.0.1:${rotating.port}`, grpc.credentials.createSsl(Buffer.from(auth.tls.certPem)));
    try {
      expect(await call(c, "getRiskStatus", bearer("n".repeat(43)))).toBeNull();
      expect(await call(c, "getRiskStatus", bearer(auth.tokens[0]))).toBeNull();
      expect((await call(c, "getRiskStatus", bearer("o".repeat(43))))?.code).toBe(grpc.status.UNAUTHENTICATED);
    } finally {
      c.close();
      await rotating.stop();
    }
  });

  it("serves no plaintext: an insecure client cannot even connect", async () => {
    const plain = new Engine(`127.0.0.1:${control.port}`, grpc.credentials.createInsecure());
    try {
      const e = await call(plain, "getRiskStatus", bearer((await testControlAuth()).tokens[0]));
      expect(e?.code).toBe(grpc.status.UNAVAILABLE);
    } finally {
      plain.close();
    }
  });

  it("grpc.health.v1 answers without a token (over TLS)", async () => {
    const Health = grpc.makeGenericClientConstructor(healthService, "Health");
    const h = new Health(
      `127.0.0.1:${control.port}`,
      grpc.credentials.createSsl(Buffer.from((await testControlAuth()).tls.certPem)),
    );
    try {
      const check = (rpc(h) as unknown as { check: (r: object) => Promise<{ status: unknown }> }).check;
      expect((await check({ service: "" })).status).toBe("SERVING");
    } finally {
      h.close();
    }
  });

  it("HTTPS: /health and /ready are open; /metrics needs the token (401 without or wrong); no plaintext", async () => {
    const base = `https://127.0.0.1:${http.port}`;
    expect((await httpsGet(`${base}/health`, false)).status).toBe(200);
    expect([200, 503]).toContain((await httpsGet(`${base}/ready`, false)).status);
    const before = http.audit.refused;
    expect((await httpsGet(`${base}/metrics`, false)).status).toBe(401);
    expect((await httpsGet(`${base}/metrics`, "x".repeat(43))).status).toBe(401);
    expect(http.audit.refused - before).toBe(2);
    const ok = await httpsGet(`${base}/metrics`, true);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatch(/^quoter_ticks_total \d+$/m);
    const plain = await new Promise<string>((resolve) => {
      const req = httpRequest({ host: "127.0.0.1", port: http.port, path: "/metrics", timeout: 2_000 }, (res) =>
        resolve(`status ${res.statusCode}`),
      );
      req.on("error", (e) => resolve(`error ${e.message}`));
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.end();
    });
    expect(plain).not.toMatch(/status 200/);
  });
});
