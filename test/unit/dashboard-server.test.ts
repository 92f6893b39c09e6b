// The dashboard's HTTP surface on a real loopback server (port 0): JSON snapshot, SSE pushes,
// the kill switch's CSRF / DNS-rebinding guards, and the token + Host checks on every route.
import { request } from "node:http";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DashboardState } from "../../session/dashboard/DashboardState";
import { DashboardConfigError, type DashboardServer, startDashboardServer } from "../../session/dashboard/server";
import type { DashboardSource } from "../../session/dashboard/types";

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Tokens of the servers under test by port: http() presents the cookie unless the test passes `cookie` itself. */
const tokens = new Map<number, string>();
function started(s: DashboardServer): DashboardServer {
  tokens.set(s.port, s.token);
  return s;
}
const NO_AUTH = { cookie: "" };

function http(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<Reply> {
  const auth = "cookie" in headers ? {} : { cookie: `tse_dashboard_${port}=${tokens.get(port)}` };
  const all = { ...auth, ...headers };
  if (all.cookie === "") delete (all as Record<string, string>).cookie;
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method, path, headers: all, timeout: 5000 }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c) => {
        text += c;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on("timeout", () => req.destroy(new Error("request timed out")));
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

const KILL_HEADERS = { "content-type": "application/json", "x-tse-dashboard": "1" };

describe("dashboard server", () => {
  let state: DashboardState;
  let server: DashboardServer;
  const calls: string[] = [];

  beforeEach(async () => {
    calls.length = 0;
    let now = 1_767_225_600_000;
    state = new DashboardState({
      clock: () => now++,
      runId: "r-1",
      onSetTradingState: async (s, reason) => {
        calls.push(`${s}:${reason}`);
      },
    });
    state.recordEquity(now, "1000");
    state.recordEquity(now + 1000, "1100");
    state.recordEquity(now + 2000, "990");
    server = started(await startDashboardServer({ source: state, pushIntervalMs: 50 }));
  });

  afterEach(async () => {
    await server.close();
  });

  it("listens on an ephemeral loopback port and serves the page with a strict CSP", async () => {
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=${server.token}`);
    expect(server.baseUrl).toBe(`http://127.0.0.1:${server.port}/`);
    const r = await http(server.port, "GET", "/");
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toContain("text/html");
    const csp = String(r.headers["content-security-policy"]);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("unsafe-inline");
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
    expect(r.body).toContain(`<script nonce="${nonce}">`);
    expect(r.body).not.toMatch(/(src|href)\s*=\s*["']?(https?:)?\/\//i);
  });

  it("GET /api/snapshot returns the validated snapshot with drawdown from the all-time peak", async () => {
    const r = await http(server.port, "GET", "/api/snapshot");
    expect(r.status).toBe(200);
    const s = JSON.parse(r.body);
    expect(s.runId).toBe("r-1");
    expect(s.equityCurve).toHaveLength(3);
    expect(s.drawdown.current).toBe("110");
    expect(s.drawdown.currentPct).toBe(10);
    expect(s.riskState).toBe("ACTIVE");
  });

  it("GET /api/events streams snapshots with rendered charts, repeatedly", async () => {
    const events = await new Promise<string[]>((resolve, reject) => {
      const got: string[] = [];
      const headers = { cookie: `tse_dashboard_${server.port}=${server.token}` };
      const req = request(
        { host: "127.0.0.1", port: server.port, path: "/api/events", headers, timeout: 5000 },
        (res) => {
          expect(res.headers["content-type"]).toContain("text/event-stream");
          let buf = "";
          res.setEncoding("utf8");
          res.on("data", (c: string) => {
            buf += c;
            let i = buf.indexOf("\n\n");
            while (i >= 0) {
              const block = buf.slice(0, i);
              buf = buf.slice(i + 2);
              const data = block.split("\n").find((l) => l.startsWith("data: "));
              if (block.includes("event: snapshot") && data) got.push(data.slice(6));
              if (got.length >= 3) {
                req.destroy();
                resolve(got);
                return;
              }
              i = buf.indexOf("\n\n");
            }
          });
        },
      );
      req.on("timeout", () => req.destroy(new Error("SSE timed out")));
      req.on("error", (e) => {
        if (got.length < 3) reject(e);
      });
      req.end();
    });
    const first = JSON.parse(events[0]!);
    expect(first.snapshot.equityCurve).toHaveLength(3);
    expect(first.charts.equity).toContain('data-chart="equity"');
    expect(first.charts.equity).toMatch(/data-points="3"/);
    expect(first.charts.drawdown).toContain('data-chart="drawdown"');
  });

  it("POST /api/kill-switch with the header and a JSON body halts through the source", async () => {
    const r = await http(
      server.port,
      "POST",
      "/api/kill-switch",
      KILL_HEADERS,
      JSON.stringify({ reason: "test halt" }),
    );
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ ok: true, requested: "HALTED", riskState: "HALTED" });
    expect(calls).toEqual(["HALTED:test halt"]);
    expect(state.tradingState).toBe("HALTED");
    const resume = await http(
      server.port,
      "POST",
      "/api/trading-state",
      KILL_HEADERS,
      JSON.stringify({ state: "ACTIVE" }),
    );
    expect(resume.status).toBe(200);
    expect(state.tradingState).toBe("ACTIVE");
  });

  it.each([
    ["no control header", { "content-type": "application/json" }, 403, "missing header x-tse-dashboard"],
    [
      "a form post",
      { "content-type": "application/x-www-form-urlencoded", "x-tse-dashboard": "1" },
      415,
      "content-type",
    ],
    ["a foreign Origin", { ...KILL_HEADERS, origin: "http://evil.example" }, 403, "origin"],
    ["a rebinding Host", { ...KILL_HEADERS, host: "evil.example:80" }, 403, "host"],
  ])("refuses the kill switch with %s", async (_name, headers, status, message) => {
    const r = await http(server.port, "POST", "/api/kill-switch", headers as Record<string, string>, "{}");
    expect(r.status).toBe(status);
    expect(JSON.parse(r.body).error).toContain(message);
    expect(calls).toEqual([]);
    expect(state.tradingState).toBe("ACTIVE");
  });

  it("rejects bad bodies naming the field, and wrong methods", async () => {
    const notJson = await http(server.port, "POST", "/api/kill-switch", KILL_HEADERS, "{nope");
    expect(notJson.status).toBe(400);
    const badReason = await http(server.port, "POST", "/api/kill-switch", KILL_HEADERS, JSON.stringify({ reason: 42 }));
    expect(badReason.status).toBe(400);
    expect(JSON.parse(badReason.body).error).toMatch(/^reason: /);
    const badState = await http(
      server.port,
      "POST",
      "/api/trading-state",
      KILL_HEADERS,
      JSON.stringify({ state: "PANIC" }),
    );
    expect(badState.status).toBe(400);
    expect(JSON.parse(badState.body).error).toContain('state: expected ACTIVE, REDUCING or HALTED, got "PANIC"');
    const get = await http(server.port, "GET", "/api/kill-switch");
    expect(get.status).toBe(405);
    expect(calls).toEqual([]);
  });

  it("reports an engine refusal as 502 and leaves the state alone", async () => {
    const refusing: DashboardSource = {
      snapshot: () => state.snapshot(),
      setTradingState: async () => {
        throw new Error("control API unavailable");
      },
    };
    const other = started(await startDashboardServer({ source: refusing }));
    try {
      const r = await http(other.port, "POST", "/api/kill-switch", KILL_HEADERS, "{}");
      expect(r.status).toBe(502);
      expect(JSON.parse(r.body).error).toContain("control API unavailable");
    } finally {
      await other.close();
    }
  });

  it("an invalid snapshot from the source is reported, not served", async () => {
    const broken = started(
      await startDashboardServer({
        source: {
          snapshot: () => ({ ...state.snapshot(), riskState: "PANIC" }) as never,
          setTradingState: async () => {},
        },
      }),
    );
    try {
      const r = await http(broken.port, "GET", "/api/snapshot");
      expect(r.status).toBe(500);
      expect(JSON.parse(r.body).error).toContain("riskState");
    } finally {
      await broken.close();
    }
  });

  it.each([
    ["GET", "/"],
    ["GET", "/api/snapshot"],
    ["GET", "/api/events"],
    ["POST", "/api/kill-switch"],
    ["POST", "/api/trading-state"],
  ])("%s %s without the token is 401, with a wrong one 401, with a foreign Host 403", async (method, path) => {
    const body = method === "POST" ? JSON.stringify({ state: "HALTED" }) : undefined;
    const none = await http(server.port, method, path, { ...KILL_HEADERS, ...NO_AUTH }, body);
    expect(none.status).toBe(401);
    expect(JSON.parse(none.body).error).toContain("token");
    const wrong = await http(
      server.port,
      method,
      path,
      { ...KILL_HEADERS, cookie: `tse_dashboard_${server.port}=${"x".repeat(43)}`, authorization: "Bearer nope" },
      body,
    );
    expect(wrong.status).toBe(401);
    // DNS rebinding: the right token (a page that got it) but a foreign name in Host.
    const rebound = await http(server.port, method, path, { ...KILL_HEADERS, host: "evil.example" }, body);
    expect(rebound.status).toBe(403);
    expect(JSON.parse(rebound.body).error).toContain("host");
    expect(calls).toEqual([]);
    expect(state.tradingState).toBe("ACTIVE");
  });

  it("the printed URL's ?token= sets an HttpOnly cookie and leaves the address bar; a bearer header works too", async () => {
    const first = await http(server.port, "GET", `/?token=${server.token}`, NO_AUTH);
    expect(first.status).toBe(303);
    expect(first.headers.location).toBe("/");
    const cookie = String(first.headers["set-cookie"]);
    expect(cookie).toContain(`tse_dashboard_${server.port}=${server.token}`);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const page = await http(server.port, "GET", "/", { cookie: cookie.split(";")[0]! });
    expect(page.status).toBe(200);
    const bad = await http(server.port, "GET", "/?token=wrong", NO_AUTH);
    expect(bad.status).toBe(401);
    const bearer = await http(server.port, "GET", "/api/snapshot", {
      ...NO_AUTH,
      authorization: `Bearer ${server.token}`,
    });
    expect(bearer.status).toBe(200);
    // /healthz needs no token, but still a loopback Host.
    expect((await http(server.port, "GET", "/healthz", NO_AUTH)).status).toBe(200);
    expect((await http(server.port, "GET", "/healthz", { ...NO_AUTH, host: "evil.example" })).status).toBe(403);
  });

  it("a reason over 256 characters is refused naming the field and its length, echoing at most 64", async () => {
    const r = await http(
      server.port,
      "POST",
      "/api/kill-switch",
      KILL_HEADERS,
      JSON.stringify({ reason: "r".repeat(300) }),
    );
    expect(r.status).toBe(400);
    const error = JSON.parse(r.body).error as string;
    expect(error).toMatch(/^reason: is 300 characters; at most 256 allowed/);
    expect(error).not.toContain("r".repeat(65));
    expect(calls).toEqual([]);
  });

  it("bad options throw a typed error naming the field", async () => {
    await expect(startDashboardServer({ source: state, port: 70_000 })).rejects.toThrow(DashboardConfigError);
    await expect(startDashboardServer({ source: state, port: 70_000 })).rejects.toThrow(/port/);
    await expect(startDashboardServer({ source: {} as never })).rejects.toThrow(/source/);
  });
});

describe("DashboardState", () => {
  it("keeps bounded windows but tracks drawdown against the all-time peak", () => {
    const s = new DashboardState({ maxEquityPoints: 3, maxFills: 2, clock: () => 0 });
    for (const [i, e] of ["100", "200", "150", "160", "170"].entries()) s.recordEquity(i, e);
    const snap = s.snapshot();
    expect(snap.equityCurve.map((p) => p.equity)).toEqual(["150", "160", "170"]);
    expect(snap.drawdown).toEqual({ current: "30", currentPct: 15, max: "50", maxPct: 25 });
    for (let i = 0; i < 5; i++)
      s.addFill({ ts: i, venue: "a", symbol: "X", side: "BUY", qty: "1", price: "1", fee: "0" });
    expect(s.snapshot().recentFills.map((f) => f.ts)).toEqual([3, 4]);
  });

  it("a state change records an alert and bad input names the field", async () => {
    const s = new DashboardState({ clock: () => 5 });
    await s.setTradingState("REDUCING", "drawdown 9%");
    expect(s.snapshot().alerts).toEqual([
      { ts: 5, level: "WARN", message: "Trading state ACTIVE \u2192 REDUCING: drawdown 9%", rule: "trading-state" },
    ]);
    expect(() => s.recordEquity(1, "abc")).toThrow(/^equity: /);
    expect(() => new DashboardState({ maxFills: 0 })).toThrow(/^maxFills: /);
  });
});
