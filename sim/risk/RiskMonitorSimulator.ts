// gRPC risk-monitor simulator: limits from configuration (or defaults), pre-trade checks, positions,
// strategy statuses, and alerts by utilisation (LOW 0.5, MEDIUM 0.75, HIGH 0.9, CRITICAL 1.0).

import { type ClientReadableStream, credentials } from "@grpc/grpc-js";
import Decimal from "decimal.js";
import {
  ChangeType,
  type ConfigChange,
  ConfigurationServiceClient,
  ValueType,
} from "../../gen/proto/tse/config/config";
import {
  type CheckOrderRequest,
  type CheckOrderResponse,
  type GetRiskStatusRequest,
  type LimitUtilisation,
  type Position,
  type ReportPositionRequest,
  type ReportPositionResponse,
  type ReportStrategyStatusRequest,
  type ReportStrategyStatusResponse,
  type RiskAlert,
  type RiskLimits,
  type RiskMonitorServiceServer,
  RiskMonitorServiceService,
  type RiskStatus,
  Severity,
  Side,
  type StrategyStatus,
  type StreamAlertsRequest,
} from "../../gen/proto/tse/risk/risk";
import type { ConfigStore } from "../../lib/config/ConfigStore";
import { InvalidFieldError } from "../../lib/domain/errors";
import { tradingDay, utcTimeOfDayMs } from "../../lib/domain/risk/riskMemory";
import { invalidArgument } from "../common/grpcErrors";
import { StreamRegistry, streaming, unary } from "../common/handlers";
import { closeRemote } from "../common/remoteStream";
import { type ServiceEntry, SimServer, type SimServerOptions } from "../common/SimServer";

export const RISK_SERVICE_NAME = "tse.risk.RiskMonitorService";
export const DEFAULT_RISK_PORT = 50056;

export const DEFAULT_RISK_LIMITS: Readonly<RiskLimits> = {
  maxPositionSize: "2",
  maxOrderSize: "1",
  maxNotional: "250000",
  maxDailyLoss: "5000",
};

/** Config keys read for limits (environment from options). */
export const RISK_LIMIT_KEYS: Readonly<Record<keyof RiskLimits, string>> = {
  maxPositionSize: "risk.limits.max_position_size",
  maxOrderSize: "risk.limits.max_order_size",
  maxNotional: "risk.limits.max_notional",
  maxDailyLoss: "risk.limits.max_daily_loss",
};

export const SEVERITY_THRESHOLDS: ReadonlyArray<[number, Severity]> = [
  [1.0, Severity.CRITICAL],
  [0.9, Severity.HIGH],
  [0.75, Severity.MEDIUM],
  [0.5, Severity.LOW],
];

export function severityFor(utilisation: Decimal): Severity {
  for (const [t, s] of SEVERITY_THRESHOLDS) if (utilisation.gte(t)) return s;
  return Severity.UNSPECIFIED;
}

export interface RiskMonitorSimulatorOptions extends SimServerOptions {
  limits?: Partial<RiskLimits>;
  /** Read limits from this store (and follow its changes). Explicit `limits` win. */
  config?: ConfigStore;
  /** Or follow a remote configuration service (host:port) with WatchValues; reconnects every second. */
  configAddress?: string;
  environment?: string;
  now?: () => number;
  /** Start of the trading day (UTC "HH:MM"): daily loss counts from the PnL at this boundary. Default "00:00". */
  dailyResetUtc?: string;
}

function dec(field: string, raw: string, opts: { positive?: boolean; allowNegative?: boolean } = {}): Decimal {
  let d: Decimal;
  try {
    d = new Decimal(raw.trim());
  } catch {
    throw invalidArgument(field, raw, "not a decimal number");
  }
  if (!d.isFinite() || raw.trim() === "") throw invalidArgument(field, raw, "not a finite number");
  if (opts.positive && d.lte(0)) throw invalidArgument(field, raw, "must be > 0");
  if (!opts.positive && !opts.allowNegative && d.lt(0)) throw invalidArgument(field, raw, "must be >= 0");
  return d;
}

export class RiskMonitorSimulator extends SimServer {
  private limits: RiskLimits;
  private readonly explicit: Partial<RiskLimits>;
  private readonly config: ConfigStore | undefined;
  private readonly environment: string;
  private readonly now: () => number;
  private readonly positions = new Map<string, Position>();
  private readonly strategies = new Map<string, StrategyStatus>();
  private readonly active = new Map<string, RiskAlert>();
  private readonly alertListeners = new Set<(a: RiskAlert) => void>();
  private readonly streams = new StreamRegistry();
  private unsubscribeConfig: (() => void) | undefined;
  private readonly configAddress: string | undefined;
  private readonly remoteLimits: Partial<RiskLimits> = {};
  private remote:
    | { client: ConfigurationServiceClient; stream?: ClientReadableStream<ConfigChange>; retry?: NodeJS.Timeout }
    | undefined;
  private seq = 0;
  private alertSeq = 0;
  private readonly dayOffsetMs: number;
  /** Per strategy: the trading day, the PnL it started at, and the latest PnL seen. */
  private readonly days = new Map<string, { day: number; start: Decimal; last: Decimal }>();
  private readonly counters = { checks: 0, rejected: 0, positionReports: 0, strategyReports: 0, alerts: 0 };

  constructor(opts: RiskMonitorSimulatorOptions = {}) {
    super("risk-sim", opts);
    this.explicit = opts.limits ?? {};
    this.config = opts.config;
    this.configAddress = opts.configAddress;
    this.environment = opts.environment ?? "default";
    this.now = opts.now ?? Date.now;
    const reset = opts.dailyResetUtc ?? "00:00";
    if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(reset))
      throw new InvalidFieldError("dailyResetUtc", reset, 'must be a UTC time "HH:MM"');
    this.dayOffsetMs = utcTimeOfDayMs(reset);
    this.limits = this.resolveLimits();
    this.unsubscribeConfig = this.config?.onChange((c) => {
      if (c.value?.key.startsWith("risk.limits.")) {
        this.limits = this.resolveLimits();
        this.log.info("limits reloaded", { ...this.limits });
      }
    });
  }

  private resolveLimits(): RiskLimits {
    const out = { ...DEFAULT_RISK_LIMITS };
    for (const k of Object.keys(RISK_LIMIT_KEYS) as Array<keyof RiskLimits>) {
      const fromConfig = this.config?.number(RISK_LIMIT_KEYS[k], this.environment);
      if (fromConfig) out[k] = fromConfig.toFixed();
      const fromRemote = this.remoteLimits[k];
      if (fromRemote !== undefined) out[k] = fromRemote;
      const e = this.explicit[k];
      if (e !== undefined) out[k] = e;
    }
    return out;
  }

  getLimits(): RiskLimits {
    return { ...this.limits };
  }

  protected override onStart(): void {
    if (this.configAddress) this.watchRemoteConfig(this.configAddress);
  }

  protected override onStop(): void {
    this.remote = closeRemote(this.remote);
    this.streams.endAll();
  }

  private watchRemoteConfig(address: string): void {
    this.remote ??= { client: new ConfigurationServiceClient(address, credentials.createInsecure()) };
    const remote = this.remote;
    const stream = remote.client.watchValues({
      prefixes: ["risk.limits."],
      environment: this.environment,
      sendInitial: true,
    });
    remote.stream = stream;
    const byKey = new Map(Object.entries(RISK_LIMIT_KEYS).map(([field, key]) => [key, field as keyof RiskLimits]));
    stream.on("data", (c: ConfigChange) => {
      const field = c.value ? byKey.get(c.value.key) : undefined;
      if (!field || !c.value) return;
      if (c.changeType === ChangeType.DELETED) delete this.remoteLimits[field];
      else if (c.value.type === ValueType.NUMBER) this.remoteLimits[field] = c.value.value;
      this.limits = this.resolveLimits();
      this.log.info("limits from configuration service", { ...this.limits });
    });
    const again = () => {
      if (remote.retry) clearTimeout(remote.retry);
      if (this.server && this.remote === remote) {
        remote.retry = setTimeout(() => this.watchRemoteConfig(address), 1_000);
      }
    };
    stream.on("error", (err: Error) => {
      this.log.warn("configuration watch lost; keeping last limits and retrying", { address, error: err.message });
      again();
    });
    stream.on("end", again);
  }

  /** Also detaches from the config store (call when discarding the instance). */
  dispose(): void {
    this.unsubscribeConfig?.();
  }

  private strategyPositions(strategyId: string): Position[] {
    return [...this.positions.values()].filter((p) => p.strategyId === strategyId);
  }

  private netQuantity(strategyId: string, symbol: string): Decimal {
    return this.strategyPositions(strategyId)
      .filter((p) => p.symbol === symbol)
      .reduce((s, p) => s.plus(p.quantity), new Decimal(0));
  }

  private grossNotional(strategyId: string): Decimal {
    return this.strategyPositions(strategyId).reduce(
      (s, p) => s.plus(new Decimal(p.quantity).abs().mul(p.markPrice || p.averagePrice || "0")),
      new Decimal(0),
    );
  }

  private utilisations(strategyId?: string): LimitUtilisation[] {
    const l = this.limits;
    const out: LimitUtilisation[] = [];
    const ids = strategyId ? [strategyId] : [...new Set([...this.positions.values()].map((p) => p.strategyId))];
    const u = (value: Decimal, limit: string) => (new Decimal(limit).gt(0) ? value.div(limit) : new Decimal(0));
    for (const id of ids) {
      const symbols = [...new Set(this.strategyPositions(id).map((p) => p.symbol))];
      for (const symbol of symbols) {
        const x = u(this.netQuantity(id, symbol).abs(), l.maxPositionSize);
        out.push({
          strategyId: id,
          symbol,
          limit: "position_size",
          utilisation: x.toFixed(6),
          severity: severityFor(x),
        });
      }
      const n = u(this.grossNotional(id), l.maxNotional);
      out.push({ strategyId: id, symbol: "", limit: "notional", utilisation: n.toFixed(6), severity: severityFor(n) });
      const loss = u(Decimal.max(0, this.dailyPnl(id).neg()), l.maxDailyLoss);
      out.push({
        strategyId: id,
        symbol: "",
        limit: "daily_loss",
        utilisation: loss.toFixed(6),
        severity: severityFor(loss),
      });
    }
    return out.map((x) => ({ ...x, utilisation: new Decimal(x.utilisation).toFixed() }));
  }

  /** Today's PnL of a strategy: its PnL now minus its PnL when the trading day began (the same boundary as the engine's). */
  private dailyPnl(strategyId: string): Decimal {
    const pnl = this.strategyPositions(strategyId).reduce(
      (s, p) => s.plus(p.realizedPnl || "0").plus(p.unrealizedPnl || "0"),
      new Decimal(0),
    );
    const day = tradingDay(this.now(), this.dayOffsetMs);
    let d = this.days.get(strategyId);
    if (!d) d = { day, start: new Decimal(0), last: pnl };
    else if (day > d.day) d = { day, start: d.last, last: pnl };
    d.last = pnl;
    this.days.set(strategyId, d);
    return pnl.minus(d.start);
  }

  /** Raise an alert whenever a utilisation enters a higher severity band; clear when it falls below LOW. */
  private evaluate(strategyId: string): RiskAlert[] {
    const raised: RiskAlert[] = [];
    for (const u of this.utilisations(strategyId)) {
      const key = `${u.strategyId}|${u.symbol}|${u.limit}`;
      const prev = this.active.get(key);
      if (u.severity === Severity.UNSPECIFIED) {
        this.active.delete(key);
        continue;
      }
      if (prev && prev.severity >= u.severity) {
        if (prev.severity > u.severity)
          this.active.set(key, { ...prev, severity: u.severity, utilisation: u.utilisation });
        continue;
      }
      const alert: RiskAlert = {
        alertId: `alert-${(++this.alertSeq).toString().padStart(6, "0")}`,
        severity: u.severity,
        strategyId: u.strategyId,
        symbol: u.symbol,
        limit: u.limit,
        utilisation: u.utilisation,
        message: `${u.limit} utilisation ${u.utilisation} for ${u.strategyId}${u.symbol ? ` ${u.symbol}` : ""} is ${Severity[u.severity]}`,
        timestampMs: this.now(),
      };
      this.active.set(key, alert);
      this.counters.alerts++;
      raised.push(alert);
      this.log.warn("risk alert", { ...alert, severity: Severity[alert.severity] });
      for (const l of this.alertListeners) l(alert);
    }
    return raised;
  }

  checkOrder(req: CheckOrderRequest): CheckOrderResponse {
    if (!req.strategyId) throw invalidArgument("strategy_id", req.strategyId, "must not be empty");
    if (!req.symbol) throw invalidArgument("symbol", req.symbol, "must not be empty");
    if (req.side !== Side.BUY && req.side !== Side.SELL) throw invalidArgument("side", req.side, "must be BUY or SELL");
    const qty = dec("quantity", req.quantity, { positive: true });
    const price = dec("price", req.price, { positive: true });
    this.counters.checks++;
    const l = this.limits;
    const reasons: string[] = [];
    if (qty.gt(l.maxOrderSize)) reasons.push(`order size ${qty.toFixed()} exceeds max_order_size ${l.maxOrderSize}`);
    const projected = this.netQuantity(req.strategyId, req.symbol).plus(req.side === Side.BUY ? qty : qty.neg());
    if (projected.abs().gt(l.maxPositionSize)) {
      reasons.push(`projected position ${projected.toFixed()} exceeds max_position_size ${l.maxPositionSize}`);
    }
    const notional = this.grossNotional(req.strategyId).plus(qty.mul(price));
    if (notional.gt(l.maxNotional))
      reasons.push(`projected notional ${notional.toFixed()} exceeds max_notional ${l.maxNotional}`);
    if (reasons.length > 0) this.counters.rejected++;
    const limit = new Decimal(l.maxPositionSize);
    return {
      approved: reasons.length === 0,
      checkId: `chk-${(++this.seq).toString().padStart(8, "0")}`,
      reasons,
      projectedUtilisation: limit.gt(0) ? projected.abs().div(limit).toFixed() : "0",
    };
  }

  reportPosition(req: ReportPositionRequest): ReportPositionResponse {
    const p = req.position;
    if (!p) throw invalidArgument("position", p, "required");
    if (!p.strategyId) throw invalidArgument("position.strategy_id", p.strategyId, "must not be empty");
    if (!p.symbol) throw invalidArgument("position.symbol", p.symbol, "must not be empty");
    dec("position.quantity", p.quantity, { allowNegative: true });
    for (const [field, v] of [
      ["position.average_price", p.averagePrice],
      ["position.mark_price", p.markPrice],
    ] as const) {
      if (v !== "") dec(field, v);
    }
    for (const [field, v] of [
      ["position.unrealized_pnl", p.unrealizedPnl],
      ["position.realized_pnl", p.realizedPnl],
    ] as const) {
      if (v !== "") dec(field, v, { allowNegative: true });
    }
    const key = `${p.strategyId}|${p.venue}|${p.symbol}`;
    // ReportPosition is idempotent: a client's retry of a report that did arrive (its answer was late) carries
    // the same position version and is the same report, not another one.
    const held = this.positions.get(key);
    const retry = p.updatedAtMs > 0 && held?.updatedAtMs === p.updatedAtMs && held.quantity === p.quantity;
    if (!retry) this.counters.positionReports++;
    this.positions.set(key, { ...p, updatedAtMs: p.updatedAtMs || this.now() });
    return { alerts: this.evaluate(p.strategyId), positionReportsTotal: this.counters.positionReports };
  }

  reportStrategyStatus(req: ReportStrategyStatusRequest): ReportStrategyStatusResponse {
    if (!req.strategyId) throw invalidArgument("strategy_id", req.strategyId, "must not be empty");
    if (!req.status) throw invalidArgument("status", req.status, "must not be empty");
    if (req.pnl !== "") dec("pnl", req.pnl, { allowNegative: true });
    this.counters.strategyReports++;
    this.strategies.set(req.strategyId, {
      strategyId: req.strategyId,
      status: req.status,
      message: req.message,
      pnl: req.pnl,
      updatedAtMs: req.timestampMs || this.now(),
    });
    return { acknowledged: true };
  }

  status(strategyId = ""): RiskStatus {
    const match = <T extends { strategyId: string }>(x: T) => !strategyId || x.strategyId === strategyId;
    return {
      limits: { ...this.limits },
      positions: [...this.positions.values()].filter(match),
      utilisations: this.utilisations(strategyId || undefined),
      activeAlerts: [...this.active.values()].filter(match),
      strategies: [...this.strategies.values()].filter(match),
      checksTotal: this.counters.checks,
      checksRejected: this.counters.rejected,
      positionReportsTotal: this.counters.positionReports,
      strategyReportsTotal: this.counters.strategyReports,
      alertsTotal: this.counters.alerts,
    };
  }

  onAlert(listener: (a: RiskAlert) => void): () => void {
    this.alertListeners.add(listener);
    return () => this.alertListeners.delete(listener);
  }

  protected services(): ServiceEntry[] {
    return [
      {
        name: RISK_SERVICE_NAME,
        definition: RiskMonitorServiceService,
        impl: {
          checkOrder: unary<CheckOrderRequest, CheckOrderResponse>((req) => this.checkOrder(req)),
          reportPosition: unary<ReportPositionRequest, ReportPositionResponse>((req) => this.reportPosition(req)),
          reportStrategyStatus: unary<ReportStrategyStatusRequest, ReportStrategyStatusResponse>((req) =>
            this.reportStrategyStatus(req),
          ),
          getRiskStatus: unary<GetRiskStatusRequest, RiskStatus>((req) => this.status(req.strategyId)),
          streamAlerts: streaming<StreamAlertsRequest, RiskAlert>((call) => {
            const req = call.request;
            const matches = (a: RiskAlert) =>
              a.severity >= req.minSeverity && (!req.strategyId || a.strategyId === req.strategyId);
            if (req.includeActive) for (const a of this.active.values()) if (matches(a)) call.write(a);
            const off = this.onAlert((a) => {
              if (matches(a)) call.write(a);
            });
            this.streams.add(call, off);
          }),
        } satisfies RiskMonitorServiceServer,
      },
    ];
  }
}
