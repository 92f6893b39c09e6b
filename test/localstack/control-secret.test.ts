// The deployed quoter's control-plane material comes from Secrets Manager (LocalStack here): the process gets only
// the secret's ARN, reads the TLS pair and the token at start-up, and then answers only callers with that token.
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { afterEach, describe, expect, it } from "vitest";
import { ClientManager } from "../../lib/grpc/ClientManager";
import { Discovery } from "../../lib/grpc/discovery";
import { EngineClient } from "../../lib/grpc/EngineClient";
import { ControlAuthError } from "../../quoter/control/auth";
import { controlAuthFromSecret, loadControlAuthFromSecretsManager } from "../../quoter/control/credentials";
import { quietLog, spawnQuoterProcess, startSims } from "../grpc/quoterHarness";
import { engineCredentials, testControlAuth } from "../support/controlAuth";

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => {});
});

const sm = () =>
  new SecretsManagerClient({
    endpoint: process.env.AWS_ENDPOINT_URL,
    region: process.env.AWS_REGION ?? "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });

async function createControlSecret(value: Record<string, string>): Promise<string> {
  const client = sm();
  const name = `tse-control-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
  const out = await client.send(new CreateSecretCommand({ Name: name, SecretString: JSON.stringify(value) }));
  cleanup.push(async () => {
    await client.send(new DeleteSecretCommand({ SecretId: out.ARN, ForceDeleteWithoutRecovery: true }));
    client.destroy();
  });
  return out.ARN!;
}

describe("control secret in Secrets Manager (LocalStack)", () => {
  it("the quoter process starts from the secret's ARN and answers only its token", async () => {
    const auth = await testControlAuth();
    const arn = await createControlSecret({
      certificatePem: auth.tls.certPem,
      privateKeyPem: auth.tls.keyPem,
      token: auth.tokens[0]!,
    });
    const sims = await startSims({ liquidity: false });
    cleanup.push(() => sims.stop());
    const q = await spawnQuoterProcess(sims, {
      TSE_QUOTER_CONTROL_SECRET_ARN: arn,
      TSE_QUOTER_CONTROL_DIR: "",
      TSE_QUOTER_SYMBOLS: "BTC-USD",
      TSE_QUOTER_VENUES: "venue-a",
    });
    cleanup.push(async () => {
      if (q.child.exitCode === null) q.child.kill("SIGKILL");
    });
    const client = async (token?: string) => {
      const cm = new ClientManager({
        discovery: new Discovery({ env: { TSE_ENGINE_ENDPOINT: `127.0.0.1:${q.grpcPort}` } }),
        logger: quietLog,
        serviceCredentials: { engine: await engineCredentials(token) },
      });
      cleanup.push(() => cm.close());
      return new EngineClient(cm);
    };
    expect((await (await client()).getRiskStatus()).tradingState).toBe(1);
    const refused = await (await client("z".repeat(43))).getRiskStatus().catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 16 }); // UNAUTHENTICATED
    q.child.kill("SIGTERM");
    expect(await q.exited, q.stderr()).toBe(0);
    expect(q.stderr()).toContain("unauthenticated call refused");
  }, 60_000);

  it("a rotation (token + previousToken) is read as two accepted tokens; a broken secret names the key, not the value", async () => {
    const auth = await testControlAuth();
    const arn = await createControlSecret({
      certificatePem: auth.tls.certPem,
      privateKeyPem: auth.tls.keyPem,
      token: auth.tokens[0]!,
    });
    const next = "n".repeat(43);
    const client = sm();
    cleanup.push(async () => client.destroy());
    await client.send(
      new PutSecretValueCommand({
        SecretId: arn,
        SecretString: JSON.stringify({
          certificatePem: auth.tls.certPem,
          privateKeyPem: auth.tls.keyPem,
          token: next,
          previousToken: auth.tokens[0],
        }),
      }),
    );
    const loaded = await loadControlAuthFromSecretsManager(arn, sm());
    expect(loaded.tokens).toEqual([next, auth.tokens[0]]);
    expect(() => controlAuthFromSecret(JSON.stringify({ certificatePem: "x", token: "secret-value" }))).toThrow(
      /privateKeyPem is missing/,
    );
    expect(() => controlAuthFromSecret("not json")).toThrow(ControlAuthError);
    const short = () =>
      controlAuthFromSecret(
        JSON.stringify({ certificatePem: auth.tls.certPem, privateKeyPem: auth.tls.keyPem, token: "short-secret" }),
      );
    expect(short).toThrow(/tokens\[0\] must be >= 32/);
    expect(short).not.toThrow(/short-secret/);
  });
});
