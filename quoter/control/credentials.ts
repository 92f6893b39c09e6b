// Where the control plane's TLS pair and bearer token come from:
// - AWS: one Secrets Manager secret (JSON certificatePem, privateKeyPem, token, previousToken?) read at start-up;
//   the task gets only its ARN. Never the image, never an environment variable holding the material.
// - Locally: a self-signed pair and a random token generated per session into a directory under .cache
//   (key and token mode 0600).
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { generate } from "selfsigned";
import * as z from "zod";
import { instrumentAwsClient } from "../../lib/adapters/aws/requestRecorder";
import { type ControlAuth, ControlAuthError, validateControlAuth } from "./auth";

export const CERT_FILE = "cert.pem";
export const KEY_FILE = "key.pem";
export const TOKEN_FILE = "token";

export interface LocalControlCredentials {
  auth: ControlAuth;
  dir: string;
  tokenFile: string;
  certFile: string;
}

export function newControlToken(): string {
  return randomBytes(32).toString("base64url");
}

/** Self-signed EC P-256 pair for localhost / 127.0.0.1 / ::1 (7 days) and a fresh token, in memory. */
export async function selfSignedControlAuth(): Promise<ControlAuth> {
  const now = Date.now();
  const pems = await generate([{ name: "commonName", value: "localhost" }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    notBeforeDate: new Date(now - 60_000),
    notAfterDate: new Date(now + 7 * 86_400_000),
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: [
          { type: 2, value: "localhost" },
          { type: 7, ip: "127.0.0.1" },
          { type: 7, ip: "::1" },
        ],
      },
    ],
  });
  return { tokens: [newControlToken()], tls: { certPem: pems.cert, keyPem: pems.private } };
}

/** selfSignedControlAuth() written under `dir` (0700): cert.pem, key.pem and token (both 0600). */
export async function generateLocalControlCredentials(dir: string): Promise<LocalControlCredentials> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const auth = await selfSignedControlAuth();
  const token = auth.tokens[0]!;
  const certFile = join(dir, CERT_FILE);
  const tokenFile = join(dir, TOKEN_FILE);
  writeFileSync(certFile, auth.tls.certPem, { mode: 0o644 });
  writeFileSync(join(dir, KEY_FILE), auth.tls.keyPem, { mode: 0o600 });
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  chmodSync(join(dir, KEY_FILE), 0o600);
  chmodSync(tokenFile, 0o600);
  return { auth, dir, tokenFile, certFile };
}

/** cert.pem, key.pem and token (first line current, an optional second line the previous token) from `dir`. */
export function readControlCredentialsDir(dir: string): ControlAuth {
  const read = (f: string) => {
    try {
      return readFileSync(join(dir, f), "utf8");
    } catch (e) {
      throw new ControlAuthError(`control credentials: cannot read ${join(dir, f)}: ${(e as Error).message}`);
    }
  };
  const tokens = read(TOKEN_FILE)
    .split("\n")
    .map((t) => t.trim())
    .filter(Boolean);
  return validateControlAuth({ tokens, tls: { certPem: read(CERT_FILE), keyPem: read(KEY_FILE) } });
}

const SecretSchema = z.object({
  certificatePem: z.string().min(1),
  privateKeyPem: z.string().min(1),
  token: z.string().min(1),
  previousToken: z.string().min(1).optional(),
});

/** The control secret's JSON → ControlAuth (typed error naming the key, never the secret's content). */
export function controlAuthFromSecret(secretString: string | undefined): ControlAuth {
  let raw: unknown;
  try {
    raw = JSON.parse(secretString ?? "");
  } catch {
    throw new ControlAuthError("control secret: SecretString is not JSON");
  }
  const r = SecretSchema.safeParse(raw);
  if (!r.success)
    throw new ControlAuthError(`control secret: ${r.error.issues[0]?.path.join(".")} is missing or empty`);
  const s = r.data;
  return validateControlAuth({
    tokens: s.previousToken ? [s.token, s.previousToken] : [s.token],
    tls: { certPem: s.certificatePem, keyPem: s.privateKeyPem },
  });
}

export async function loadControlAuthFromSecretsManager(
  secretId: string,
  client: SecretsManagerClient = new SecretsManagerClient({}),
): Promise<ControlAuth> {
  try {
    const out = await instrumentAwsClient(client).send(new GetSecretValueCommand({ SecretId: secretId }));
    return controlAuthFromSecret(out.SecretString);
  } finally {
    client.destroy();
  }
}
