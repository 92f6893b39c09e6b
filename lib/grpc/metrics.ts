// Prometheus text exposition of the client layer's stats and breaker states (the quoter's /metrics appends it).
import type { BreakerStateName, ClientManager } from "./ClientManager";

const BREAKER_VALUE: Record<BreakerStateName, number> = { closed: 0, "half-open": 1, open: 2, isolated: 3 };

const label = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

/** Prometheus text format (v0.0.4) for `manager.stats()` and `manager.breakerStates()`. */
export function clientMetricsText(manager: ClientManager, prefix = "tse_grpc_client"): string {
  const lines: string[] = [];
  const stats = Object.entries(manager.stats());
  const split = (key: string) => {
    const i = key.lastIndexOf(".");
    return { service: key.slice(0, i), method: key.slice(i + 1) };
  };
  lines.push(`# HELP ${prefix}_calls_total Unary calls made (retries inside one call count once).`);
  lines.push(`# TYPE ${prefix}_calls_total counter`);
  for (const [key, s] of stats) {
    const { service, method } = split(key);
    lines.push(`${prefix}_calls_total{service="${label(service)}",method="${label(method)}"} ${s.count}`);
  }
  lines.push(`# HELP ${prefix}_errors_total Unary calls that ended in an error.`);
  lines.push(`# TYPE ${prefix}_errors_total counter`);
  for (const [key, s] of stats) {
    const { service, method } = split(key);
    lines.push(`${prefix}_errors_total{service="${label(service)}",method="${label(method)}"} ${s.errors}`);
  }
  lines.push(`# HELP ${prefix}_latency_microseconds Call latency including retries.`);
  lines.push(`# TYPE ${prefix}_latency_microseconds summary`);
  for (const [key, s] of stats) {
    const { service, method } = split(key);
    const l = `service="${label(service)}",method="${label(method)}"`;
    lines.push(`${prefix}_latency_microseconds{${l},quantile="0.5"} ${s.p50Us}`);
    lines.push(`${prefix}_latency_microseconds{${l},quantile="0.9"} ${s.p90Us}`);
    lines.push(`${prefix}_latency_microseconds{${l},quantile="0.99"} ${s.p99Us}`);
    lines.push(`${prefix}_latency_microseconds_count{${l}} ${s.count}`);
  }
  lines.push(`# HELP ${prefix}_breaker_state Circuit breaker per service: 0 closed, 1 half-open, 2 open, 3 isolated.`);
  lines.push(`# TYPE ${prefix}_breaker_state gauge`);
  for (const [service, state] of Object.entries(manager.breakerStates())) {
    lines.push(`${prefix}_breaker_state{service="${label(service)}"} ${BREAKER_VALUE[state]}`);
  }
  return `${lines.join("\n")}\n`;
}
