// The local session's options, endpoints and results, and the fixed shape of its market (symbols, venues).
import { Decimal } from "../lib/domain/decimal";
import type { RiskLimitsInput } from "../lib/domain/risk/limits";
import type { Report } from "../lib/report/reportSchema";
import type { SimulatorName } from "../sim/main";
import type { SessionOptions } from "./options";
import type { CustodyResult } from "./SessionCustody";

export const DEFAULT_DASHBOARD_PORT = 8088;
export const SYMBOLS = ["BTC-USD", "ETH-USD"];
export const VENUES = ["venue-a", "venue-b"];
export const QUOTER_ID = "quoter";
export const STARTING_EQUITY = new Decimal(1_000_000);

export interface LocalSessionConfig extends SessionOptions {
  runId?: string;
  host?: string;
  /** Every listener on an ephemeral port (tests). Default false: DESIGN ports, falling back when busy. */
  ephemeralPorts?: boolean;
  dashboardPort?: number;
  /** Status lines (start-up, fallbacks, warnings). Default: stderr. */
  log?: (line: string) => void;
  /** Equity/position sampling and dashboard refresh period, ms. Default 1000. */
  sampleMs?: number;
  /** Samples the report's curves keep at most (then thinned to every other one). Default MAX_CURVE_SAMPLES (600). */
  maxCurveSamples?: number;
  /** Configuration seed for the configuration simulator. Default config/defaults.yaml. */
  configFile?: string;
  /** A circuit breaker halting one strategy halts the whole engine (kill switch). Default true. */
  haltEngineOnStrategyBreaker?: boolean;
  /** Snapshot conflation of the quoter's bridge (how often the signal function sees each book). */
  snapshotIntervalMs?: number;
  /** How often the custodian's balances are reconciled with the books, ms. Default 5000 (LocalStack: 15000). */
  reconcileIntervalMs?: number;
  /** Risk limits over the configuration's (risk.engine_limits), for the quoter and the functions alike. */
  riskLimits?: RiskLimitsInput;
  /** How often the market simulation advances, ms (the simulators' default 100; the soak runs 10x faster). */
  tickMs?: number;
  /** `--aws local`: how often the session's LocalStack resources are checked, and how long an outage is ridden out. */
  localStackWatch?: { intervalMs?: number; unreachableLimitMs?: number };
}

export interface SessionEndpoints {
  simulators: Partial<Record<SimulatorName, string>>;
  engine: string;
  http: string;
  /** The dashboard URL with its token: print it once. */
  dashboard: string;
  /** The same without the token (for status lines). */
  dashboardBase: string;
  /** The engine control token (mode 0600) and the session's self-signed certificate, under .cache. */
  controlTokenFile: string;
  controlCertFile: string;
  localstack?: string;
}

export interface Reconciliation {
  symbol: string;
  state: string;
  exchange: string;
  diff: string;
}

export interface SessionCounts {
  /** Orders the exchange simulator received (all clients). */
  ordersAtExchange: number;
  /** Orders that reached the exchange without the risk-checked flag (must stay 0). */
  ordersWithoutRiskCheck: number;
  /** Position changes announced on the bus (distinct versions: a redelivered fill re-announces its own). */
  positionChanged: number;
  /** Position reports the risk monitor received (a retried report of the same version counts once). */
  riskPositionReports: number;
  /** Risk checks the monitor answered. */
  riskChecks: number;
  signals: number;
  executionsForwarded: number;
  busEvents: Record<string, number>;
  fillsInState: number;
  ourExecutionsAtExchange: number;
  /** Executions replayed from the exchange log at stop (missed by the streams), and how many predate the stop. */
  executionsReplayed: number;
  executionsReplayedBeforeStop: number;
  /** Deliveries that failed every attempt: the in-process bus's dead letters, or messages in the tap DLQs. */
  deadLetters: number;
  /** Function invocations that threw (retried; a retry may have succeeded). */
  functionFailures: number;
}

export interface SessionResult {
  report: Report;
  reportPath: string;
  htmlPath: string;
  counts: SessionCounts;
  reconciliation: Reconciliation[];
  tradesByStrategy: Record<string, number>;
  /** Invocations and duration percentiles per function. */
  functionLatency: Record<string, { invocations: number; p50Ms: number; p99Ms: number }>;
  /** Settlement at the custodian and the last reconciliation. */
  custody: CustodyResult;
  /** GetValue requests the session's configuration client sent (quoter and functions share it). */
  configGetValueCalls: number;
}
