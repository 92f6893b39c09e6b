// The session's report from what it gathered: fills in the state store, the sampled curves, the risk denials
// by path (the quoter's engine, order-placement's recorded decisions), the feed, custody, the latency
// waterfall and the configuration it ran with.
import type { PeerClients } from "../lib/grpc";
import type { FillRecord, StateStore } from "../lib/ports/StateStore";
import type { DenialsByPath, MarketDataSummary, Report } from "../lib/report/reportSchema";
import { buildWaterfall } from "../lib/report/waterfall";
import type { OrderHopRecorder } from "../lib/telemetry/orderHops";
import type { OrderTimelineCollector } from "../lib/telemetry/orderTimelines";
import type { Quoter } from "../quoter/Quoter";
import type { RiskEventLog } from "./quoterSetup";
import type { CustodyResult } from "./SessionCustody";
import { buildSessionReport } from "./sessionReport";
import { type LocalSessionConfig, type SessionEndpoints, STARTING_EQUITY, SYMBOLS, VENUES } from "./types";
import type { SessionWatch } from "./watch";

/** Where the engine's quotes came from and what its feed counted (report meta.marketData). */
export function marketDataSummary(
  cfg: LocalSessionConfig,
  peers: PeerClients,
  simulatorEndpoint: string | undefined,
): MarketDataSummary {
  const s = peers.marketData.quoteStreams()[0];
  const st = s?.stats;
  return {
    source: cfg.marketData ? "external" : "simulator",
    endpoint: cfg.marketData?.endpoint ?? simulatorEndpoint ?? "",
    method: s ? `${s.synthetic ? "marketdata.MarketDataService" : "tse.marketdata.QuoteService"}/${s.method}` : "",
    syntheticQuotes: s?.synthetic ?? false,
    ...(s?.synthetic && cfg.marketData ? { halfSpreadBps: cfg.marketData.halfSpreadBps } : {}),
    received: st?.received ?? 0,
    malformed: st?.malformed ?? 0,
    dropped: st?.dropped ?? 0,
    reconnects: st?.reconnects ?? 0,
  };
}

/** Risk denials per rule: the quoter's engine, and order-placement's recorded decisions (the functions). */
export async function denialsByPath(store: StateStore, quoter: Quoter, arbStrategyId: string): Promise<DenialsByPath> {
  const functions: Record<string, number> = {};
  for (const s of await store.listSignalsByStrategy(arbStrategyId))
    if (s.status === "denied") functions[s.rule ?? "denied"] = (functions[s.rule ?? "denied"] ?? 0) + 1;
  return { quoter: Object.fromEntries(quoter.denialsByRule), functions };
}

export interface ReportAssemblyInput {
  runId: string;
  cfg: LocalSessionConfig;
  startedAt: number;
  endedAt: number;
  fills: FillRecord[];
  watch: SessionWatch;
  quoter: Quoter;
  store: StateStore;
  peers: PeerClients;
  simulatorMarketData: string | undefined;
  arbStrategyId: string;
  strategyIds: string[];
  riskEvents: RiskEventLog;
  custody: CustodyResult;
  timelines: OrderTimelineCollector | undefined;
  hops: OrderHopRecorder | undefined;
  endpoints: SessionEndpoints;
}

export async function assembleSessionReport(x: ReportAssemblyInput): Promise<Report> {
  const { cfg } = x;
  const st = x.quoter.status();
  const denials = await denialsByPath(x.store, x.quoter, x.arbStrategyId);
  return buildSessionReport({
    runId: x.runId,
    mode: cfg.mode,
    seed: cfg.seed,
    scenario: cfg.marketData ? "external" : cfg.scenario,
    strategies: cfg.strategies,
    startedAt: x.startedAt,
    endedAt: x.endedAt,
    startingEquity: STARTING_EQUITY,
    sampleMs: (cfg.sampleMs ?? 1_000) * x.watch.curveStride,
    fills: x.fills,
    equity: x.watch.equity,
    positions: x.watch.positionCurve,
    risk: { finalState: st.tradingState, denials, events: x.riskEvents },
    ticks: st.counters.ticks,
    marketData: marketDataSummary(cfg, x.peers, x.simulatorMarketData),
    settlement: x.custody.settlement,
    reconciliation: {
      runs: x.custody.reconciliation.runs,
      breaks: x.custody.reconciliation.breaks,
      breaksSeen: x.custody.breaksSeen,
    },
    ...(x.timelines ? { latencyWaterfall: buildWaterfall(x.timelines.timelines(), "spans") } : {}),
    ...(x.hops ? { latencyWaterfall: buildWaterfall(x.hops.timelines(), "timestamps") } : {}),
    config: {
      strategies: cfg.strategies,
      strategyIds: x.strategyIds,
      symbols: SYMBOLS,
      venues: VENUES,
      endpoints: x.endpoints as unknown as Record<string, unknown>,
    },
  });
}
