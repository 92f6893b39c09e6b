// One JSON line per event. Simulators take a logger so tests can silence them.
import { traceFields } from "../../lib/telemetry/spans";

export type LogLevel = "debug" | "info" | "warn" | "error";

export interface SimLogger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function createJsonLogger(
  service: string,
  opts: { quiet?: boolean; level?: LogLevel; write?: (line: string) => void } = {},
): SimLogger {
  const min = ORDER[opts.level ?? "info"];
  const write = opts.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const emit = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (opts.quiet || ORDER[level] < min) return;
    write(JSON.stringify({ ts: new Date().toISOString(), level, service, msg, ...traceFields(), ...fields }));
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
  };
}

export const silentLogger: SimLogger = createJsonLogger("silent", { quiet: true });
