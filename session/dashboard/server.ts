// The live dashboard: a small node:http server on loopback.
// Every route checks the Host header (loopback names only: no DNS rebinding) and, but /healthz, a per-server
// random token: the printed URL carries it once (?token=, as Jupyter does), a cookie keeps it after that, and
// scripts may send it as `authorization: Bearer`.
//   GET  /                 self-contained page (inline CSS + JS, strict CSP, nothing external)
//   GET  /api/snapshot     the current DashboardSnapshot as JSON
//   GET  /api/events       Server-Sent Events: {snapshot, charts} about once a second
//   POST /api/kill-switch  sets HALTED through source.setTradingState
//   POST /api/trading-state {state, reason} (e.g. resume ACTIVE after a halt)
// Charts are rendered here with the report's SVG module, so the page and report look the same.
import { randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { MAX_REASON_CHARS, preview } from "../../lib/domain/bounds";
import type { TradingState } from "../../lib/domain/types";
import { drawdownPctFromEquity } from "../../lib/report/curves";
import { moneyAxis, pctAxis, renderLineChart } from "../../lib/report/svgCharts";
import { renderDashboardPage } from "./page";
import { type DashboardSnapshot, DashboardSnapshotSchema, type DashboardSource, TradingStateSchema } from "./types";

export interface DashboardServerOptions {
  source: DashboardSource;
  /** 0 = ephemeral (default). */
  port?: number;
  /** Default 127.0.0.1. Mutating endpoints only ever answer loopback clients. */
  host?: string;
  /** SSE push period. Default 1000 ms. */
  pushIntervalMs?: number;
  title?: string;
  /** Validate every snapshot against DashboardSnapshotSchema (default true): a bad source is reported, not drawn. */
  validate?: boolean;
  /** Access token (default: 32 random bytes, base64url). */
  token?: string;
}

export interface DashboardServer {
  /** The URL to open, with the token (print it once). */
  url: string;
  /** The URL without the token. */
  baseUrl: string;
  token: string;
  port: number;
  close(): Promise<void>;
}

export class DashboardConfigError extends Error {
  constructor(
    readonly field: string,
    readonly value: unknown,
    message: string,
  ) {
    super(`dashboard ${field}: ${message} (got ${JSON.stringify(value)})`);
    this.name = "DashboardConfigError";
  }
}

/** Header a same-origin script must send; a cross-site form can't, and a cross-origin fetch needs a preflight we never grant. */
export const CONTROL_HEADER = "x-tse-dashboard";
const MAX_BODY_BYTES = 4096;
const CONTROL_PATHS = new Set(["/api/kill-switch", "/api/trading-state"]);

/** Constant-time string equality. */
function sameSecret(a: string | undefined, b: string): boolean {
  if (a === undefined || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header || header.length > 8192) return undefined;
  for (const part of header.split(";")) {
    const i = part.indexOf("=");
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

function isLoopbackAddress(addr: string | undefined): boolean {
  if (!addr) return false;
  return addr === "::1" || addr.startsWith("127.") || addr.startsWith("::ffff:127.");
}

/** Host header names that mean "this machine" — anything else on a mutating call smells of DNS rebinding. */
function isLoopbackHostHeader(host: string | undefined): boolean {
  if (!host) return false;
  const name = host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : (host.split(":")[0] ?? "");
  return name === "localhost" || name === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}

export function renderDashboardCharts(s: DashboardSnapshot): { equity: string; drawdown: string } {
  const equity = renderLineChart(
    [{ name: "Equity", points: s.equityCurve.map((p) => ({ x: p.ts, y: Number(p.equity) })) }],
    {
      id: "equity",
      title: "Equity (live)",
      width: 760,
      height: 250,
      yFormat: moneyAxis,
      emptyText: "Waiting for equity samples\u2026",
    },
  );
  const ddPoints = s.drawdownCurve
    ? s.drawdownCurve.map((p) => ({ x: p.ts, y: -Math.abs(p.drawdownPct) }))
    : drawdownPctFromEquity(s.equityCurve.map((p) => ({ ts: new Date(p.ts).toISOString(), equity: p.equity })));
  const drawdown = renderLineChart([{ name: "Drawdown", points: ddPoints }], {
    id: "drawdown",
    title: "Drawdown from peak (%)",
    width: 760,
    height: 150,
    fill: "zero",
    tone: "loss",
    includeZero: true,
    yFormat: pctAxis,
    emptyText: "Waiting for equity samples\u2026",
  });
  return { equity, drawdown };
}

export async function startDashboardServer(options: DashboardServerOptions): Promise<DashboardServer> {
  const { source } = options;
  const port = options.port ?? 0;
  const host = options.host ?? "127.0.0.1";
  const pushIntervalMs = options.pushIntervalMs ?? 1000;
  const validate = options.validate ?? true;
  if (!source || typeof source.snapshot !== "function" || typeof source.setTradingState !== "function") {
    throw new DashboardConfigError("source", typeof source, "must implement snapshot() and setTradingState()");
  }
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new DashboardConfigError("port", port, "must be 0..65535");
  if (!(pushIntervalMs >= 50)) throw new DashboardConfigError("pushIntervalMs", pushIntervalMs, "must be >= 50");
  const token = options.token ?? randomBytes(32).toString("base64url");
  if (!/^[A-Za-z0-9_-]{32,128}$/.test(token))
    throw new DashboardConfigError("token", "(hidden)", "must be 32-128 characters of A-Z a-z 0-9 _ -");
  let cookieName = "tse_dashboard"; // suffixed with the port once bound (cookies are not port-scoped)

  const clients = new Set<ServerResponse>();
  let timer: NodeJS.Timeout | undefined;

  function readSnapshot(): DashboardSnapshot {
    const raw = source.snapshot();
    if (!validate) return raw;
    const parsed = DashboardSnapshotSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(`invalid dashboard snapshot at ${issue?.path.join(".") || "(root)"}: ${issue?.message}`);
    }
    return parsed.data;
  }

  function eventPayload(): string {
    try {
      const snapshot = readSnapshot();
      return `event: snapshot\ndata: ${JSON.stringify({ snapshot, charts: renderDashboardCharts(snapshot) })}\n\n`;
    } catch (err) {
      return `event: source-error\ndata: ${JSON.stringify({ error: err instanceof Error ? err.message : String(err) })}\n\n`;
    }
  }

  function broadcast(): void {
    if (clients.size === 0) return;
    const payload = eventPayload(); // once per tick, shared by every client
    for (const res of clients) res.write(payload);
  }

  function ensureTimer(): void {
    if (!timer && clients.size > 0) {
      timer = setInterval(broadcast, pushIntervalMs);
      timer.unref();
    } else if (timer && clients.size === 0) {
      clearInterval(timer);
      timer = undefined;
    }
  }

  function sendJson(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      "content-type": "application/json; charset=utf-8",
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
    });
    res.end(text);
  }

  async function readJsonBody(req: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY_BYTES) throw new HttpError(413, `body: larger than ${MAX_BODY_BYTES} bytes`);
      chunks.push(chunk as Buffer);
    }
    const text = Buffer.concat(chunks).toString("utf8");
    try {
      return text.length === 0 ? {} : JSON.parse(text);
    } catch {
      throw new HttpError(400, "body: not valid JSON");
    }
  }

  /** CSRF / rebinding guard for POSTs: loopback peer, loopback Host, same Origin, custom header, JSON body. */
  function checkControlRequest(req: IncomingMessage): void {
    if (!isLoopbackAddress(req.socket.remoteAddress))
      throw new HttpError(403, "control endpoints answer loopback clients only");
    const hostHeader = req.headers.host;
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://${hostHeader}`) {
      throw new HttpError(403, `origin: ${JSON.stringify(preview(origin))} is not this dashboard`);
    }
    if (req.headers[CONTROL_HEADER] === undefined) throw new HttpError(403, `missing header ${CONTROL_HEADER}`);
    const ctype = String(req.headers["content-type"] ?? "");
    if (!ctype.toLowerCase().startsWith("application/json")) {
      throw new HttpError(415, `content-type: expected application/json, got ${JSON.stringify(preview(ctype))}`);
    }
  }

  async function changeState(res: ServerResponse, state: TradingState, reason: string): Promise<void> {
    try {
      await source.setTradingState(state, reason);
    } catch (err) {
      sendJson(res, 502, { error: `engine refused ${state}: ${err instanceof Error ? err.message : String(err)}` });
      return;
    }
    broadcast(); // every open page sees the change at once, not on the next tick
    let riskState: string | undefined;
    try {
      riskState = readSnapshot().riskState;
    } catch {
      riskState = undefined;
    }
    sendJson(res, 200, { ok: true, requested: state, riskState });
  }

  function parseReason(body: unknown, fallback: string): string {
    if (typeof body !== "object" || body === null || Array.isArray(body))
      throw new HttpError(400, "body: expected a JSON object");
    const reason = (body as { reason?: unknown }).reason;
    if (reason === undefined) return fallback;
    if (typeof reason !== "string") throw new HttpError(400, `reason: expected a string, got ${typeof reason}`);
    if (reason.length > MAX_REASON_CHARS)
      throw new HttpError(
        400,
        `reason: is ${reason.length} characters; at most ${MAX_REASON_CHARS} allowed (got ${JSON.stringify(preview(reason))})`,
      );
    return reason.trim() || fallback;
  }

  /** Host first (every route), then the token: ?token= on the page sets the cookie; the API takes cookie or bearer. */
  function authenticate(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
    const hostHeader = req.headers.host;
    if (!isLoopbackHostHeader(hostHeader))
      throw new HttpError(403, `host: ${JSON.stringify(preview(hostHeader))} is not a loopback name`);
    if (url.pathname === "/healthz") return true;
    const fromQuery = url.searchParams.get("token") ?? undefined;
    if (url.pathname === "/" && fromQuery !== undefined && sameSecret(fromQuery, token)) {
      // Keep it in a cookie and drop it from the address bar (and from history).
      res.writeHead(303, {
        location: "/",
        "set-cookie": `${cookieName}=${token}; HttpOnly; SameSite=Strict; Path=/`,
        "cache-control": "no-store",
        "referrer-policy": "no-referrer",
      });
      res.end();
      return false;
    }
    const bearer = /^Bearer (\S+)$/i.exec(String(req.headers.authorization ?? ""))?.[1];
    if (sameSecret(cookieValue(req.headers.cookie, cookieName), token) || sameSecret(bearer, token)) return true;
    throw new HttpError(401, "a dashboard token is required: open the URL the session printed");
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://dashboard.invalid");
    const path = url.pathname;
    if (!authenticate(req, res, url)) return;
    if (req.method === "GET" || req.method === "HEAD") {
      if (path === "/") {
        const nonce = randomBytes(16).toString("base64");
        res.writeHead(200, {
          "content-type": "text/html; charset=utf-8",
          "cache-control": "no-store",
          "x-content-type-options": "nosniff",
          "referrer-policy": "no-referrer",
          "x-frame-options": "DENY",
          "content-security-policy": `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
        });
        res.end(
          req.method === "HEAD"
            ? undefined
            : renderDashboardPage({ nonce, title: options.title ?? "Trading engine \u2014 live" }),
        );
        return;
      }
      if (path === "/api/snapshot") {
        try {
          sendJson(res, 200, readSnapshot());
        } catch (err) {
          sendJson(res, 500, { error: err instanceof Error ? err.message : String(err) });
        }
        return;
      }
      if (path === "/api/events") {
        res.writeHead(200, {
          "content-type": "text/event-stream; charset=utf-8",
          "cache-control": "no-store",
          connection: "keep-alive",
          "x-accel-buffering": "no",
        });
        res.write(`retry: 2000\n\n${eventPayload()}`);
        clients.add(res);
        ensureTimer();
        req.on("close", () => {
          clients.delete(res);
          ensureTimer();
        });
        return;
      }
      if (path === "/healthz") {
        sendJson(res, 200, { ok: true });
        return;
      }
      if (!CONTROL_PATHS.has(path)) {
        sendJson(res, 404, { error: `no such path: ${preview(path)}` });
        return;
      }
    }
    if (req.method === "POST" && CONTROL_PATHS.has(path)) {
      checkControlRequest(req);
      const body = await readJsonBody(req);
      if (path === "/api/kill-switch") {
        await changeState(res, "HALTED", parseReason(body, "kill switch pressed on the dashboard"));
        return;
      }
      const state = TradingStateSchema.safeParse((body as { state?: unknown } | null)?.state);
      if (!state.success) {
        throw new HttpError(
          400,
          `state: expected ACTIVE, REDUCING or HALTED, got ${JSON.stringify(preview((body as { state?: unknown } | null)?.state))}`,
        );
      }
      await changeState(res, state.data, parseReason(body, `set to ${state.data} on the dashboard`));
      return;
    }
    res.setHeader("allow", CONTROL_PATHS.has(path) ? "POST" : "GET, HEAD");
    sendJson(res, 405, { error: `method ${preview(req.method)} not allowed on ${preview(path)}` });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (err instanceof HttpError) sendJson(res, err.status, { error: err.message });
      else sendJson(res, 500, { error: err instanceof Error ? err.message : String(err) });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const urlHost = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  cookieName = `tse_dashboard_${addr.port}`;
  let closed = false;
  const baseUrl = `http://${urlHost}:${addr.port}/`;
  return {
    url: `${baseUrl}?token=${token}`,
    baseUrl,
    token,
    port: addr.port,
    async close() {
      if (closed) return;
      closed = true;
      if (timer) clearInterval(timer);
      timer = undefined;
      for (const res of clients) res.end();
      clients.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "HttpError";
  }
}
