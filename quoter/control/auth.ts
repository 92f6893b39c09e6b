// Control-plane authentication: TLS (certificate + key) and a bearer token checked on every call.
// Bearer rather than mTLS: one secret (rotatable in Secrets Manager, two tokens accepted during a rotation) serves
// the dashboard, the CLI and an operator's grpcurl, with no client-certificate PKI to run.
import { timingSafeEqual } from "node:crypto";
import {
  type Metadata,
  ServerInterceptingCall,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
  status,
} from "@grpc/grpc-js";
import { clip } from "../../lib/domain/bounds";

export interface ControlAuth {
  /** Accepted bearer tokens: the current one first, then (during a rotation) the previous one. */
  tokens: readonly string[];
  tls: { certPem: string; keyPem: string };
}

export interface AuthLog {
  warn(message: string, attrs?: Record<string, unknown>): void;
}

/** Default sink for refused attempts: one JSON line on stderr. */
export const stderrAuthLog: AuthLog = {
  warn: (message, attrs) => process.stderr.write(`${JSON.stringify({ level: "WARN", message, ...attrs })}\n`),
};

/** gRPC services that answer without a token (load balancers and orchestrators probe them). */
const OPEN_SERVICES = ["/grpc.health.v1.Health/"];
const MIN_TOKEN_CHARS = 32;

export class ControlAuthError extends Error {
  override name = "ControlAuthError";
}

export function validateControlAuth(auth: ControlAuth): ControlAuth {
  if (!auth || !Array.isArray(auth.tokens) || auth.tokens.length === 0)
    throw new ControlAuthError("control auth: at least one bearer token is required");
  auth.tokens.forEach((t, i) => {
    if (typeof t !== "string" || t.length < MIN_TOKEN_CHARS || !/^[\x21-\x7e]+$/.test(t))
      throw new ControlAuthError(`control auth: tokens[${i}] must be >= ${MIN_TOKEN_CHARS} printable characters`);
  });
  if (!auth.tls?.certPem?.includes("BEGIN CERTIFICATE") || !auth.tls.keyPem?.includes("PRIVATE KEY"))
    throw new ControlAuthError("control auth: tls.certPem and tls.keyPem must be PEM");
  return auth;
}

/** Constant-time check of an `authorization: Bearer <token>` value against the accepted tokens. */
export function bearerMatches(header: unknown, tokens: readonly string[]): boolean {
  if (typeof header !== "string" || header.length > 512) return false;
  const m = /^Bearer ([\x21-\x7e]+)$/i.exec(header.trim());
  if (!m) return false;
  const given = Buffer.from(m[1]!);
  let ok = false;
  for (const t of tokens) {
    const want = Buffer.from(t);
    if (want.length === given.length && timingSafeEqual(want, given)) ok = true;
  }
  return ok;
}

/** Counts refused attempts; every one is logged with the peer and the method (never the presented value). */
export class AuthAudit {
  refused = 0;
  constructor(private readonly log: AuthLog) {}
  refuse(channel: "grpc" | "http", peer: string, target: string, why: string): void {
    this.refused++;
    this.log.warn("control plane: unauthenticated call refused", {
      channel,
      peer: clip(peer, 64),
      target: clip(target, 128),
      why,
    });
  }
}

function why(md: Metadata): string {
  return md.get("authorization").length === 0 ? "no bearer token" : "wrong bearer token";
}

/** Server interceptor: every method but grpc.health.v1 needs a valid bearer token, else UNAUTHENTICATED. */
export function bearerInterceptor(tokens: readonly string[], audit: AuthAudit): ServerInterceptor {
  return (descriptor, call: ServerInterceptingCallInterface) => {
    const open = OPEN_SERVICES.some((p) => descriptor.path.startsWith(p));
    let refused = false;
    return new ServerInterceptingCall(call, {
      start: (next) => {
        next({
          onReceiveMetadata: (md, mdNext) => {
            const header = md.get("authorization")[0];
            if (open || bearerMatches(header, tokens)) {
              mdNext(md);
              return;
            }
            refused = true;
            audit.refuse("grpc", call.getPeer(), descriptor.path, why(md));
            call.sendStatus({ code: status.UNAUTHENTICATED, details: "a valid bearer token is required" });
          },
          // A refused call's message and half-close never reach the handler.
          onReceiveMessage: (message, msgNext) => {
            if (!refused) msgNext(message);
          },
          onReceiveHalfClose: (hcNext) => {
            if (!refused) hcNext();
          },
        });
      },
    });
  };
}
