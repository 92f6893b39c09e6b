// One self-signed control-plane pair and token per test process, and client pieces that present them.
import { request } from "node:https";
import { engineChannelCredentials } from "../../lib/grpc/EngineClient";
import type { ControlAuth } from "../../quoter/control/auth";
import { selfSignedControlAuth } from "../../quoter/control/credentials";

let cached: Promise<ControlAuth> | undefined;

export function testControlAuth(): Promise<ControlAuth> {
  cached ??= selfSignedControlAuth();
  return cached;
}

export async function engineCredentials(token?: string) {
  const auth = await testControlAuth();
  return engineChannelCredentials({ caPem: auth.tls.certPem, token: token ?? auth.tokens[0]! });
}

/** GET over TLS trusting the test certificate; `token` true = the valid one, a string = that one, false = none. */
export async function httpsGet(url: string, token: boolean | string = true): Promise<{ status: number; body: string }> {
  const auth = await testControlAuth();
  const bearer = token === true ? auth.tokens[0] : token === false ? undefined : token;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { ca: auth.tls.certPem, headers: bearer ? { authorization: `Bearer ${bearer}` } : {} },
      (res) => {
        let body = "";
        res.on("data", (d) => (body += String(d)));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}
