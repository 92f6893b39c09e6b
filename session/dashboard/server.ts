// The live dashboard: a small node:http server on loopback.
//   GET  /                 self-contained page (inline CSS + JS, strict CSP, nothing external)
//   GET  /api/snapshot     the current DashboardSnapshot as JSON
//   GET  /api/events       Server-Sent Events: {snapshot, charts} about once a second
//   POST /api/kill-switch  sets HALTED through source.setTradingState
//   POST /api/trading-state {state, reason} (e.g. resume ACTIVE after a halt)
// Charts are rendered here with the report's SVG module, so the page and report look the same.
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
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
}

export interface DashboardServer {
  url: string;
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
      if (size > MAX_BODY_BYTES) throw new HttpError(413, `body larger than ${MAX_BODY_BYTES} bytes`);
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
    if (!isLoopbackHostHeader(hostHeader))
      throw new HttpError(403, `host: ${JSON.stringify(hostHeader)} is not a loopback name`);
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://${hostHeader}`) {
      throw new HttpError(403, `origin: ${JSON.stringify(origin)} is not this dashboard`);
    }
    if (req.headers[CONTROL_HEADER] === undefined) throw new HttpError(403, `missing header ${CONTROL_HEADER}`);
    const ctype = String(req.headers["content-type"] ?? "");
    if (!ctype.toLowerCase().startsWith("application/json")) {
      throw new HttpError(415, `content-type: expected application/json, got ${JSON.stringify(ctype)}`);
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
    if (typeof reason !== "string" || reason.length > 200) {
      throw new HttpError(
        400,
        `reason: expected a string of at most 200 characters, got ${JSON.stringify(reason)?.slice(0, 60)}`,
      );
    }
    return reason.trim() || fallback;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://dashboard.invalid");
    const path = url.pathname;
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
        sendJson(res, 404, { error: `no such path: ${path}` });
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
          `state: expected ACTIVE, REDUCING or HALTED, got ${JSON.stringify((body as { state?: unknown } | null)?.state)}`,
        );
      }
      await changeState(res, state.data, parseReason(body, `set to ${state.data} on the dashboard`));
      return;
    }
    res.setHeader("allow", CONTROL_PATHS.has(path) ? "POST" : "GET, HEAD");
    sendJson(res, 405, { error: `method ${req.method} not allowed on ${path}` });
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
  let closed = false;
  return {
    url: `http://${urlHost}:${addr.port}/`,
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
