// The engine's control server (served by the quoter) also answers grpc.health.v1, like every simulator.
import { credentials, makeGenericClientConstructor } from "@grpc/grpc-js";
import { service as healthService } from "grpc-health-check";
import { describe, expect, it } from "vitest";
import { EngineControlServer } from "../../quoter/control/EngineControlServer";
import { testControlAuth } from "../support/controlAuth";
import { rpc } from "./rpc";

type HealthCheck = (r: { service: string }) => Promise<{ status: string | number }>;

describe("engine control server: grpc.health.v1", () => {
  it("reports SERVING for the server and tse.engine.EngineService, NOT_FOUND for others, NOT_SERVING when draining (over TLS, no token needed)", async () => {
    // Health never touches the quoter; the engine methods themselves are covered by quoter-control.test.ts.
    const auth = await testControlAuth();
    const server = new EngineControlServer({} as never, { auth });
    const port = await server.start(0);
    const Health = makeGenericClientConstructor(healthService, "Health");
    const client = new Health(`127.0.0.1:${port}`, credentials.createSsl(Buffer.from(auth.tls.certPem)));
    try {
      const check = (rpc(client) as unknown as { check: HealthCheck }).check;
      expect((await check({ service: "" })).status).toBe("SERVING");
      expect((await check({ service: "tse.engine.EngineService" })).status).toBe("SERVING");
      await expect(check({ service: "no.such.Service" })).rejects.toMatchObject({ code: 5 });
      server.setServing(false);
      expect((await check({ service: "" })).status).toBe("NOT_SERVING");
    } finally {
      client.close();
      await server.stop();
    }
  });
});
