// The engine's control API (tse.engine.EngineService from gen/proto) served by the quoter, with grpc.health.v1.
// Bad input → INVALID_ARGUMENT whose message names the field and (at most 64 chars of) the value, also in trailing
// metadata field/value. Served over TLS; every call but health needs the bearer token (auth.ts).
import { type handleUnaryCall, Metadata, Server, ServerCredentials, type ServiceError, status } from "@grpc/grpc-js";
import { HealthImplementation } from "grpc-health-check";
import {
  type EngineRiskStatus,
  type EngineServiceServer,
  EngineServiceService,
  StrategyState,
  type StrategyStatus,
  type Position as WirePosition,
  type RiskLimits as WireRiskLimits,
  TradingState as WireTradingState,
} from "../../gen/proto/tse/engine/engine";
import {
  checkMessageBounds,
  jsonTextDepthExceeds,
  MAX_ID_CHARS,
  MAX_NESTING_DEPTH,
  MAX_REASON_CHARS,
  preview,
  wellFormed,
} from "../../lib/domain/bounds";
import { Decimal, ZERO } from "../../lib/domain/decimal";
import { DomainError, InvalidFieldError } from "../../lib/domain/errors";
import type { Position } from "../../lib/domain/portfolio/position";
import { unrealizedPnl } from "../../lib/domain/portfolio/position";
import type { RiskLimitsInput } from "../../lib/domain/risk/limits";
import type { TradingState } from "../../lib/domain/types";
import type { Quoter, StrategyStatusView } from "../Quoter";
import {
  AuthAudit,
  type AuthLog,
  bearerInterceptor,
  type ControlAuth,
  stderrAuthLog,
  validateControlAuth,
} from "./auth";
import { type ControlPolicy, checkRaise, DEFAULT_HARD_CAPS } from "./hardCaps";

export const ENGINE_SERVICE_NAME = "tse.engine.EngineService";
export const DEFAULT_ENGINE_PORT = 50057;

class RpcError extends Error {
  readonly metadata = new Metadata();
  constructor(
    readonly code: status,
    message: string,
  ) {
    super(wellFormed(message)); // grpc-js percent-encodes the message; a lone surrogate would fail the status
  }
  get details(): string {
    return this.message;
  }
}

/** At most 64 chars of a value; quoted when a string. */
function show(v: unknown): string {
  const p = preview(v);
  return typeof v === "string" ? JSON.stringify(p) : p;
}

/** Metadata values must be printable ASCII; anything else would fail the status itself. */
const asciiMeta = (s: string) => s.replace(/[^\x20-\x7e]/g, "?");

export function invalidArgument(field: string, value: unknown, reason: string): RpcError {
  const f = preview(field, MAX_ID_CHARS);
  const e = new RpcError(status.INVALID_ARGUMENT, `invalid ${f}=${show(value)}: ${preview(reason, MAX_REASON_CHARS)}`);
  e.metadata.set("field", asciiMeta(f));
  e.metadata.set("value", asciiMeta(show(value)));
  return e;
}

/** Strategy parameters are JSON text: longer than an id, still bounded. */
const MAX_PARAMETERS_JSON_CHARS = 8_192;
const controlBounds = (key: string) =>
  key === "parametersJson" ? MAX_PARAMETERS_JSON_CHARS : key === "reason" ? MAX_REASON_CHARS : MAX_ID_CHARS;

function toServiceError(err: unknown): Partial<ServiceError> {
  if (err instanceof RpcError) return err;
  if (err instanceof InvalidFieldError) return invalidArgument(err.field, err.value, err.reason ?? err.message);
  if (err instanceof DomainError) return new RpcError(status.FAILED_PRECONDITION, err.message);
  const e = err instanceof Error ? err : new Error(String(err));
  return new RpcError(status.INTERNAL, preview(e.message, MAX_REASON_CHARS));
}

function unary<Req, Res>(fn: (req: Req) => Promise<Res> | Res): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    Promise.resolve()
      .then(() => {
        checkMessageBounds(call.request, controlBounds);
        return fn(call.request);
      })
      .then(
        (res) => callback(null, res),
        (err: unknown) => callback(toServiceError(err) as ServiceError),
      );
  };
}

const RUN_STATE: Record<StrategyStatusView["state"], StrategyState> = {
  STARTING: StrategyState.STARTING,
  RUNNING: StrategyState.RUNNING,
  STOPPING: StrategyState.STOPPING,
  STOPPED: StrategyState.STOPPED,
  ERROR: StrategyState.ERROR,
};
const TO_WIRE_STATE: Record<TradingState, WireTradingState> = {
  ACTIVE: WireTradingState.ACTIVE,
  REDUCING: WireTradingState.REDUCING,
  HALTED: WireTradingState.HALTED,
};
const FROM_WIRE_STATE: Partial<Record<number, TradingState>> = {
  [WireTradingState.ACTIVE]: "ACTIVE",
  [WireTradingState.REDUCING]: "REDUCING",
  [WireTradingState.HALTED]: "HALTED",
};

function statusOf(s: StrategyStatusView): StrategyStatus {
  return {
    strategyId: s.id,
    strategyType: s.type,
    state: RUN_STATE[s.state],
    symbols: s.symbols,
    venues: s.venues,
    message: s.message,
    startedAtMs: s.startedAt,
    updatedAtMs: s.updatedAt,
    openOrders: s.openOrders,
    realizedPnl: s.realizedPnl,
    unrealizedPnl: s.unrealizedPnl,
    parametersJson: s.paramsJson,
  };
}

function positionOf(quoter: Quoter, p: Position): WirePosition {
  const mark = quoter.portfolio.mark(p.symbol);
  return {
    strategyId: p.strategyId,
    venue: p.venue,
    symbol: p.symbol,
    quantity: p.quantity.toFixed(),
    averagePrice: p.averageEntryPrice.toFixed(),
    markPrice: mark ? mark.toFixed() : "",
    realizedPnl: p.realizedPnl.toFixed(),
    unrealizedPnl: mark ? unrealizedPnl(p, mark).toFixed() : "",
    version: p.version,
    updatedAtMs: p.updatedAt,
  };
}

const DECIMAL = /^\d+(\.\d+)?$/;
function positiveDecimal(field: string, v: string): number | undefined {
  if (v === "") return undefined;
  if (!DECIMAL.test(v) || !(Number(v) > 0)) throw invalidArgument(field, v, "must be a positive decimal string");
  return Number(v);
}

/** Proto limits view of the domain limits for this quoter's symbols ("" where symbols differ). */
export function wireLimits(quoter: Quoter): WireRiskLimits {
  const L = quoter.risk.limits;
  const same = (pick: (s: string) => number | undefined): string => {
    const vals = quoter.symbols.map(pick);
    const first = vals[0];
    return first !== undefined && vals.every((v) => v === first) ? new Decimal(first).toFixed() : "";
  };
  return {
    maxPositionSize: same((s) => L.instruments[s]?.maxLong),
    maxOrderSize: same((s) => L.instruments[s]?.maxOrderQty),
    maxNotional: new Decimal(L.maxStrategyNotional).toFixed(),
    maxDailyLoss: new Decimal(-L.dailyLossLimit).toFixed(),
    maxDrawdown: new Decimal(L.maxDrawdownPct).toFixed(),
    maxOpenOrders: quoter.maxOpenOrders,
  };
}

export function engineServiceImpl(quoter: Quoter, policy: ControlPolicy = DEFAULT_POLICY): EngineServiceServer {
  const caps = policy.hardCaps;
  const requireId = (id: string) => {
    if (!id) throw invalidArgument("strategy_id", id, "must not be empty");
    if (!quoter.strategyStatus(id)) throw invalidArgument("strategy_id", id, "unknown strategy");
  };
  return {
    startStrategy: unary(async (req) => {
      if (!req.strategyId) throw invalidArgument("strategy_id", req.strategyId, "must not be empty");
      if (!req.strategyType) throw invalidArgument("strategy_type", req.strategyType, "must not be empty");
      if (req.strategyType.replaceAll("_", "-").startsWith("chaos-") && !policy.chaosStrategies)
        throw invalidArgument(
          "strategy_type",
          req.strategyType,
          "chaos strategies are disabled here (configuration engine.chaos_strategies.enabled)",
        );
      let params: Record<string, unknown> = {};
      if (jsonTextDepthExceeds(req.parametersJson))
        throw invalidArgument("parameters_json", req.parametersJson, `nests deeper than ${MAX_NESTING_DEPTH} levels`);
      if (req.parametersJson.trim() !== "") {
        let parsed: unknown;
        try {
          parsed = JSON.parse(req.parametersJson);
        } catch (e) {
          throw invalidArgument("parameters_json", req.parametersJson, `not JSON: ${(e as Error).message}`);
        }
        if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
          throw invalidArgument("parameters_json", req.parametersJson, "must be a JSON object");
        params = parsed as Record<string, unknown>;
      }
      return statusOf(
        quoter.addStrategy({
          id: req.strategyId,
          type: req.strategyType,
          symbols: req.symbols,
          venues: req.venues,
          params,
        }),
      );
    }),
    stopStrategy: unary(async (req) => {
      requireId(req.strategyId);
      return statusOf(
        await quoter.stopStrategy(req.strategyId, {
          cancelOpenOrders: true, // a stopped quoter strategy never leaves quotes resting
          flatten: req.flattenPositions,
          reason: req.reason || "stopped via control API",
        }),
      );
    }),
    getStrategyStatus: unary((req) => {
      requireId(req.strategyId);
      return statusOf(quoter.strategyStatus(req.strategyId)!);
    }),
    listActiveStrategies: unary(() => ({
      strategies: quoter
        .listStrategies()
        .filter((s) => s.state === "RUNNING" || s.state === "STARTING" || s.state === "STOPPING")
        .map(statusOf),
    })),
    getPositions: unary((req) => {
      if (req.symbol && !quoter.instrumentOf(req.symbol))
        throw invalidArgument("symbol", req.symbol, "unknown instrument");
      quoter.refreshMarksNow();
      const positions = quoter
        .positions(req.strategyId || undefined)
        .filter((p) => !req.symbol || p.symbol === req.symbol)
        .map((p) => positionOf(quoter, p));
      return { positions };
    }),
    getPortfolio: unary((req) => {
      quoter.refreshMarksNow();
      const pf = quoter.portfolio;
      const sid = req.strategyId || undefined;
      const positions = pf.positions(sid);
      let gross = ZERO;
      let net = ZERO;
      let unreal = ZERO;
      for (const p of positions) {
        const mark = pf.mark(p.symbol);
        if (!mark || p.quantity.isZero()) continue;
        gross = gross.plus(p.quantity.abs().times(mark));
        net = net.plus(p.quantity.times(mark));
        unreal = unreal.plus(unrealizedPnl(p, mark));
      }
      let equity = "";
      try {
        equity = pf.equity().toFixed();
      } catch {
        equity = ""; // an asset without a mark yet
      }
      return {
        cash: pf.cash(pf.valuationCurrency).toFixed(),
        equity,
        realizedPnl: pf.realizedPnl(sid).toFixed(),
        unrealizedPnl: unreal.toFixed(),
        feesPaid: pf.strategyFees(sid).toFixed(),
        grossExposure: gross.toFixed(),
        netExposure: net.toFixed(),
        positions: positions.map((p) => positionOf(quoter, p)),
        timestampMs: Date.now(),
      };
    }),
    setRiskLimits: unary((req) => {
      if (req.strategyId)
        throw invalidArgument("strategy_id", req.strategyId, "per-strategy limits are not supported; leave it empty");
      const l = req.limits;
      if (!l) throw invalidArgument("limits", l, "required");
      const pos = positiveDecimal("limits.max_position_size", l.maxPositionSize);
      const ord = positiveDecimal("limits.max_order_size", l.maxOrderSize);
      const notional = positiveDecimal("limits.max_notional", l.maxNotional);
      const loss = positiveDecimal("limits.max_daily_loss", l.maxDailyLoss);
      const dd = positiveDecimal("limits.max_drawdown", l.maxDrawdown);
      if (dd !== undefined && dd >= 1)
        throw invalidArgument("limits.max_drawdown", l.maxDrawdown, "must be a fraction < 1");
      const cur = quoter.risk.limits;
      // Lowering is always allowed; raising only up to the deployment's hard caps.
      for (const sym of quoter.symbols) {
        const i = cur.instruments[sym];
        if (pos !== undefined)
          checkRaise(
            "limits.max_position_size",
            pos,
            Math.max(i?.maxLong ?? 0, i?.maxShort ?? 0),
            "max_position_size",
            caps,
          );
        if (ord !== undefined) checkRaise("limits.max_order_size", ord, i?.maxOrderQty ?? 0, "max_order_size", caps);
      }
      if (notional !== undefined)
        checkRaise("limits.max_notional", notional, cur.maxStrategyNotional, "max_notional", caps);
      if (loss !== undefined) checkRaise("limits.max_daily_loss", loss, -cur.dailyLossLimit, "max_daily_loss", caps);
      if (dd !== undefined) checkRaise("limits.max_drawdown", dd, cur.maxDrawdownPct, "max_drawdown", caps);
      if (l.maxOpenOrders > 0)
        checkRaise("limits.max_open_orders", l.maxOpenOrders, quoter.maxOpenOrders, "max_open_orders", caps);
      const instruments = { ...cur.instruments };
      for (const s of quoter.symbols) {
        const i = instruments[s] ?? { maxOrderQty: ord ?? 1, maxLong: pos ?? 0, maxShort: pos ?? 0 };
        instruments[s] = {
          maxOrderQty: ord ?? i.maxOrderQty,
          maxLong: pos ?? i.maxLong,
          maxShort: pos ?? i.maxShort,
        };
      }
      const next: RiskLimitsInput = {
        ...cur,
        instruments,
        ...(notional !== undefined ? { maxStrategyNotional: notional } : {}),
        ...(loss !== undefined ? { dailyLossLimit: -loss } : {}),
        ...(dd !== undefined ? { maxDrawdownPct: dd } : {}),
      };
      quoter.risk.setLimits(next);
      if (l.maxOpenOrders > 0) quoter.maxOpenOrders = l.maxOpenOrders;
      return wireLimits(quoter);
    }),
    getRiskStatus: unary((req): EngineRiskStatus => {
      if (req.strategyId) requireId(req.strategyId);
      const state = req.strategyId ? quoter.risk.effectiveState(req.strategyId) : quoter.risk.tradingState;
      const eq = quoter.risk.equityStatus();
      const L = quoter.risk.limits;
      const utilisations = [];
      for (const p of quoter.positions(req.strategyId || undefined)) {
        const lim = L.instruments[p.symbol];
        if (!lim || p.quantity.isZero()) continue;
        const cap = p.quantity.gt(0) ? lim.maxLong : lim.maxShort;
        if (!(cap > 0)) continue;
        const u = p.quantity.abs().div(cap);
        const n = u.toNumber();
        utilisations.push({
          strategyId: p.strategyId,
          symbol: p.symbol,
          limit: p.quantity.gt(0) ? "max_long" : "max_short",
          utilisation: u.toDecimalPlaces(6).toFixed(),
          severity: n >= 1 ? "critical" : n >= 0.9 ? "high" : n >= 0.75 ? "medium" : n >= 0.5 ? "low" : "",
        });
      }
      const last = [...quoter.risk.stateChanges()]
        .reverse()
        .find((c) => !req.strategyId || c.scope === req.strategyId || c.scope === "portfolio");
      return {
        tradingState: TO_WIRE_STATE[state],
        limits: wireLimits(quoter),
        utilisations,
        dailyPnl: Number.isFinite(eq.dailyPnl) ? String(eq.dailyPnl) : "0",
        drawdown: Number.isFinite(eq.drawdownPct) ? String(eq.drawdownPct) : "0",
        reason: last?.reason ?? "",
      };
    }),
    forcePositionClose: unary((req) => {
      requireId(req.strategyId);
      const r = quoter.forcePositionClose(
        req.strategyId,
        req.symbol || undefined,
        req.venue || undefined,
        req.reason || "force close via control API",
      );
      return { clientOrderIds: r.clientOrderIds, positionsClosed: r.positionsClosed.map((p) => positionOf(quoter, p)) };
    }),
    setTradingState: unary((req) => {
      const state = FROM_WIRE_STATE[req.state];
      if (!state) throw invalidArgument("state", req.state, "must be ACTIVE, REDUCING or HALTED");
      const r = quoter.setTradingState(state, req.reason || "set via control API");
      return { previous: TO_WIRE_STATE[r.previous], current: TO_WIRE_STATE[r.current] };
    }),
  };
}

/**
 * Bytes a control request may have on the wire. The longest legitimate one (StartStrategy with 8 KiB of parameters)
 * is far below; anything above is refused (RESOURCE_EXHAUSTED) at its length prefix, before it is buffered, so a
 * flood of megabyte requests cannot grow the engine's memory.
 */
export const MAX_CONTROL_MESSAGE_BYTES = 128 * 1024;

const DEFAULT_POLICY: ControlPolicy = { hardCaps: DEFAULT_HARD_CAPS, chaosStrategies: false };

export interface EngineControlOptions {
  /** TLS pair and accepted bearer tokens (required: the control API never serves plaintext or anonymously). */
  auth: ControlAuth;
  /** Hard caps and chaos switch from configuration. Default: declared caps, chaos off. */
  policy?: ControlPolicy;
  /** Where refused attempts are logged. Default stderr JSON. */
  log?: AuthLog;
}

/** grpc-js server for the control API; `start(0)` binds an ephemeral port. */
export class EngineControlServer {
  private server: Server | undefined;
  readonly health = new HealthImplementation({ "": "NOT_SERVING", [ENGINE_SERVICE_NAME]: "NOT_SERVING" });
  readonly audit: AuthAudit;
  port: number | undefined;
  private readonly auth: ControlAuth;

  constructor(
    private readonly quoter: Quoter,
    private readonly opts: EngineControlOptions,
  ) {
    this.auth = validateControlAuth(opts?.auth);
    this.audit = new AuthAudit(opts.log ?? stderrAuthLog);
  }

  async start(port = DEFAULT_ENGINE_PORT, host = "127.0.0.1"): Promise<number> {
    const server = new Server({
      interceptors: [bearerInterceptor(this.auth.tokens, this.audit)],
      "grpc.max_receive_message_length": MAX_CONTROL_MESSAGE_BYTES,
    });
    server.addService(EngineServiceService, engineServiceImpl(this.quoter, this.opts.policy));
    this.health.addToServer(server);
    const { certPem, keyPem } = this.auth.tls;
    const creds = ServerCredentials.createSsl(
      null,
      [{ cert_chain: Buffer.from(certPem), private_key: Buffer.from(keyPem) }],
      false,
    );
    this.port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`${host}:${port}`, creds, (err, p) => (err ? reject(err) : resolve(p))),
    );
    this.server = server;
    this.setServing(true);
    return this.port;
  }

  setServing(serving: boolean): void {
    const s = serving ? "SERVING" : "NOT_SERVING";
    this.health.setStatus("", s);
    this.health.setStatus(ENGINE_SERVICE_NAME, s);
  }

  async stop(timeoutMs = 1_000): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.setServing(false);
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, timeoutMs);
      server.tryShutdown(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}
