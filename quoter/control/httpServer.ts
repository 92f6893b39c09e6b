// Operations HTTPS endpoint of the quoter: /health (process up) and /ready (both streams live) answer anyone;
// /metrics (Prometheus text) needs the control bearer token.

import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { Quoter } from "../Quoter";
import { GC_PAUSE_BUCKETS_US, runtimeStats } from "../runtimeStats";
import { AuthAudit, type AuthLog, bearerMatches, type ControlAuth, stderrAuthLog, validateControlAuth } from "./auth";

export const DEFAULT_HTTP_PORT = 8087;

const STATE_VALUE = { ACTIVE: 0, REDUCING: 1, HALTED: 2 } as const;
const BREAKER_VALUE: Record<string, number> = { closed: 0, "half-open": 1, open: 2, isolated: 3 };

function esc(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** Prometheus text exposition (version 0.0.4) of the quoter's counters, latencies, breakers and bridge. */
export function renderMetrics(q: Quoter): string {
  const lines: string[] = [];
  const metric = (name: string, type: "counter" | "gauge" | "histogram", help: string, samples: [string, number][]) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, v] of samples) lines.push(`${name}${labels} ${Number.isFinite(v) ? v : 0}`);
  };
  const c = q.counters;
  const st = q.status();
  metric("quoter_ticks_total", "counter", "Market-data ticks received.", [["", c.ticks]]);
  metric("quoter_quotes_total", "counter", "Quote orders approved by risk and sent.", [["", c.quotes]]);
  metric("quoter_orders_total", "counter", "Order requests by outcome.", [
    ['{outcome="placed"}', c.ordersPlaced],
    ['{outcome="acked"}', c.ordersAcked],
    ['{outcome="rejected"}', c.ordersRejected],
    ['{outcome="rejected_self_cross"}', c.ordersRejectedSelfCross],
    ['{outcome="rejected_other"}', c.ordersRejectedOther],
    ['{outcome="held"}', c.placesHeld],
    ['{outcome="error"}', c.placeErrors],
  ]);
  metric("quoter_cancels_total", "counter", "Cancel requests by outcome.", [
    ['{outcome="sent"}', c.cancelsSent],
    ['{outcome="confirmed"}', c.cancelsConfirmed],
    ['{outcome="error"}', c.cancelErrors],
  ]);
  metric("quoter_fills_total", "counter", "Executions applied to inventory (exactly once).", [["", c.fills]]);
  metric("quoter_duplicate_executions_total", "counter", "Executions seen again and not applied.", [
    ["", c.duplicateExecutions],
  ]);
  metric(
    "quoter_risk_denials_total",
    "counter",
    "Orders denied by the in-process risk engine, by rule.",
    [...q.denialsByRule].map(([rule, n]) => [`{rule="${esc(rule)}"}`, n]),
  );
  metric("quoter_open_orders", "gauge", "Open orders tracked.", [["", st.openOrders]]);
  metric("quoter_market_data_gaps_total", "counter", "Sequence gaps on the market-data stream.", [
    ["", c.marketDataGaps],
  ]);
  metric("quoter_stream_reconnects_total", "counter", "Stream reconnects.", [
    ['{stream="market-data"}', c.marketDataReconnects],
    ['{stream="executions"}', c.executionReconnects],
  ]);
  metric("quoter_reconcile_drifts_total", "counter", "Inventory drifts vs the state store.", [["", c.reconcileDrifts]]);
  metric("quoter_reconcile_corrections_total", "counter", "Persistent drifts corrected.", [
    ["", c.reconcileCorrections],
  ]);
  const lat = st.decisionLatencyUs;
  lines.push(
    "# HELP quoter_decision_latency_us Tick to order intents (synchronous decision path), microseconds.",
    "# TYPE quoter_decision_latency_us summary",
    `quoter_decision_latency_us{quantile="0.5"} ${lat.p50}`,
    `quoter_decision_latency_us{quantile="0.99"} ${lat.p99}`,
    `quoter_decision_latency_us{quantile="0.999"} ${lat.p999}`,
    `quoter_decision_latency_us_count ${lat.count}`,
  );
  const grpcStats = q.grpcStats();
  metric(
    "quoter_grpc_latency_us",
    "gauge",
    "Client-side gRPC call latency quantiles, microseconds.",
    Object.entries(grpcStats).flatMap(([m, s]) => [
      [`{method="${esc(m)}",quantile="0.5"}`, s.p50Us] as [string, number],
      [`{method="${esc(m)}",quantile="0.99"}`, s.p99Us] as [string, number],
    ]),
  );
  const rt = runtimeStats()?.snapshot();
  if (rt) {
    metric("quoter_runtime_allocated_bytes_total", "counter", "Heap bytes allocated since start (GC-freed + growth).", [
      ["", rt.allocatedBytes],
    ]);
    metric("quoter_gc_total", "counter", "Garbage collections.", [["", rt.gcCount]]);
    metric("quoter_gc_pause_us_total", "counter", "Time in GC pauses, microseconds.", [["", rt.gcPauseUsTotal]]);
    metric("quoter_gc_pause_max_us", "gauge", "Longest GC pause, microseconds.", [["", rt.gcPauseUsMax]]);
    metric("quoter_runtime_promoted_bytes_total", "counter", "Bytes promoted to the old generation by scavenges.", [
      ["", rt.promotedBytes],
    ]);
    metric("quoter_gc_kind_total", "counter", "Garbage collections by kind.", [
      ['{kind="minor"}', rt.minor.count],
      ['{kind="major"}', rt.major.count],
    ]);
    metric("quoter_gc_kind_pause_us_total", "counter", "GC pause time by kind, microseconds.", [
      ['{kind="minor"}', rt.minor.pauseUsTotal],
      ['{kind="major"}', rt.major.pauseUsTotal],
    ]);
    let cumulative = 0;
    metric(
      "quoter_gc_pause_us",
      "histogram",
      "GC pauses by length, microseconds.",
      rt.pauseBuckets
        .map((n, i) => {
          cumulative += n;
          const le = i < GC_PAUSE_BUCKETS_US.length ? String(GC_PAUSE_BUCKETS_US[i]) : "+Inf";
          return [`_bucket{le="${le}"}`, cumulative] as [string, number];
        })
        .concat([
          ["_sum", rt.gcPauseUsTotal],
          ["_count", cumulative],
        ]),
    );
    metric("quoter_event_loop_delay_us", "gauge", "Event-loop delay quantiles, microseconds.", [
      ['{quantile="0.5"}', rt.loopDelayUs.p50],
      ['{quantile="0.99"}', rt.loopDelayUs.p99],
      ['{quantile="1"}', rt.loopDelayUs.max],
    ]);
  }
  metric("quoter_trading_state", "gauge", "Global trading state (0 ACTIVE, 1 REDUCING, 2 HALTED).", [
    ["", STATE_VALUE[st.tradingState]],
  ]);
  metric(
    "quoter_breaker_state",
    "gauge",
    "Client circuit breaker per peer (0 closed, 1 half-open, 2 open, 3 isolated).",
    Object.entries(q.breakerStates()).map(([svc, s]) => [`{service="${esc(svc)}"}`, BREAKER_VALUE[s] ?? -1]),
  );
  metric("quoter_ready", "gauge", "1 when both streams are live.", [["", st.ready ? 1 : 0]]);
  const b = q.bridge?.stats();
  if (b) {
    metric("quoter_bridge_queue_depth", "gauge", "Events waiting for PutEvents.", [["", b.queueDepth]]);
    metric("quoter_bridge_events_total", "counter", "Bridge events by outcome.", [
      ['{outcome="published"}', b.eventsPublished],
      ['{outcome="failed"}', b.eventsFailed],
      ['{outcome="snapshot_conflated"}', b.snapshotsConflated],
      ['{outcome="snapshot_shed"}', b.snapshotsShed],
    ]);
    metric("quoter_bridge_put_events_calls_total", "counter", "PutEvents calls.", [["", b.putEventsCalls]]);
    metric("quoter_bridge_put_events_entries_total", "counter", "Entries sent in PutEvents calls.", [
      ["", b.putEventsEntries],
    ]);
    metric("quoter_bridge_avg_batch_size", "gauge", "Average entries per PutEvents call.", [["", b.avgPutEventsBatch]]);
    metric("quoter_bridge_backpressure_waits_total", "counter", "Times an execution waited for queue room.", [
      ["", b.backpressureWaits],
    ]);
  }
  return `${lines.join("\n")}\n`;
}

export interface QuoterHttpOptions {
  auth: ControlAuth;
  log?: AuthLog;
}

export class QuoterHttpServer {
  private server: Server | undefined;
  port: number | undefined;
  readonly audit: AuthAudit;
  private readonly auth: ControlAuth;

  constructor(
    private readonly quoter: Quoter,
    opts: QuoterHttpOptions,
  ) {
    this.auth = validateControlAuth(opts?.auth);
    this.audit = new AuthAudit(opts.log ?? stderrAuthLog);
  }

  private authorized(req: IncomingMessage, res: ServerResponse, path: string): boolean {
    if (bearerMatches(req.headers.authorization, this.auth.tokens)) return true;
    const why = req.headers.authorization === undefined ? "no bearer token" : "wrong bearer token";
    this.audit.refuse("http", req.socket.remoteAddress ?? "", path, why);
    res
      .writeHead(401, { "content-type": "application/json", "www-authenticate": 'Bearer realm="tse-engine"' })
      .end(JSON.stringify({ error: "a valid bearer token is required" }));
    return false;
  }

  async start(port = DEFAULT_HTTP_PORT, host = "127.0.0.1"): Promise<number> {
    const tls = { cert: this.auth.tls.certPem, key: this.auth.tls.keyPem };
    const server = createServer(tls, (req, res) => {
      const path = (req.url ?? "/").split("?")[0];
      if (req.method !== "GET" && req.method !== "HEAD") {
        res.writeHead(405, { allow: "GET, HEAD" }).end();
        return;
      }
      if (path === "/health") {
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ status: "ok" }));
      } else if (path === "/ready") {
        const s = this.quoter.status();
        const body = JSON.stringify({ ready: s.ready, marketData: s.marketDataLive, executions: s.executionsLive });
        res.writeHead(s.ready ? 200 : 503, { "content-type": "application/json" }).end(body);
      } else if (path === "/metrics") {
        if (!this.authorized(req, res, path)) return;
        res
          .writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" })
          .end(renderMetrics(this.quoter));
      } else {
        res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: "no such route" }));
      }
    });
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this.port;
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = undefined;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
}
