// Quoter process entry: flags/env → clients, bridge, state store → Quoter + control API (gRPC) + HTTP ops.
// SIGTERM/SIGINT: stop quoting, cancel every open order, flush the bridge, exit 0 (forced exit 1 after 10 s).

import { Logger } from "@aws-lambda-powertools/logger";
import { Command, InvalidArgumentError, Option } from "commander";
import { DynamoDbStateStore } from "../lib/adapters/aws/DynamoDbStateStore";
import { EventBridgeEventBus } from "../lib/adapters/aws/EventBridgeEventBus";
import { ClientManager } from "../lib/grpc/ClientManager";
import { Discovery, StaticRegistry } from "../lib/grpc/discovery";
import { ExchangeClient } from "../lib/grpc/ExchangeClient";
import { hdrLatencyHistogram } from "../lib/grpc/hdrLatency";
import { MarketDataClient } from "../lib/grpc/MarketDataClient";
import { traceFields } from "../lib/telemetry/spans";
import { startTracing, tracing } from "../lib/telemetry/tracing";
import { BusBridge } from "./bridge/BusBridge";
import { buildQuoter } from "./build";
import { loadControlAuthFromSecretsManager, readControlCredentialsDir } from "./control/credentials";
import { DEFAULT_ENGINE_PORT, EngineControlServer } from "./control/EngineControlServer";
import { parseHardCaps } from "./control/hardCaps";
import { DEFAULT_HTTP_PORT, QuoterHttpServer } from "./control/httpServer";
import { startRuntimeStats } from "./runtimeStats";
import type { QuoterStrategySpec } from "./types";

const list = (v: string) =>
  v
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
const int = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0)
    throw new InvalidArgumentError(`${name} must be a non-negative integer (got ${JSON.stringify(v)})`);
  return n;
};
const num = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0)
    throw new InvalidArgumentError(`${name} must be a non-negative number (got ${JSON.stringify(v)})`);
  return n;
};

const program = new Command("quoter")
  .description("Always-on market-making quoter for one shard of symbols")
  .addOption(
    new Option("--symbols <list>", "shard symbols").env("TSE_QUOTER_SYMBOLS").default(["BTC-USD"]).argParser(list),
  )
  .addOption(
    new Option("--venues <list>", "venues to quote")
      .env("TSE_QUOTER_VENUES")
      .default(["venue-a", "venue-b"])
      .argParser(list),
  )
  .addOption(
    new Option("--strategies <json>", "JSON array of {id,type,symbols?,venues?,params?}").env("TSE_QUOTER_STRATEGIES"),
  )
  .addOption(
    new Option("--strategy-type <name>", "default strategy when --strategies is absent")
      .env("TSE_QUOTER_STRATEGY")
      .default("market-making"),
  )
  .addOption(new Option("--strategy-params <json>", "params of the default strategy").env("TSE_QUOTER_STRATEGY_PARAMS"))
  .addOption(new Option("--quoter-id <id>", "prefix of client order ids").env("TSE_QUOTER_ID").default("quoter"))
  .addOption(new Option("--account <id>", "exchange account").env("TSE_QUOTER_ACCOUNT").default("default"))
  .addOption(
    new Option("--grpc-port <n>", "control API port (0 = ephemeral)")
      .env("TSE_QUOTER_GRPC_PORT")
      .default(DEFAULT_ENGINE_PORT)
      .argParser(int("grpc-port")),
  )
  .addOption(
    new Option("--http-port <n>", "health/metrics port (0 = ephemeral)")
      .env("TSE_QUOTER_HTTP_PORT")
      .default(DEFAULT_HTTP_PORT)
      .argParser(int("http-port")),
  )
  .addOption(new Option("--host <host>", "interface to bind").env("TSE_QUOTER_HOST").default("127.0.0.1"))
  .addOption(new Option("--advertise-host <host>", "host registered with discovery").env("TSE_QUOTER_ADVERTISE_HOST"))
  .addOption(
    new Option("--md-interval-ms <n>", "market-data push interval")
      .env("TSE_QUOTER_MD_INTERVAL_MS")
      .default(100)
      .argParser(int("md-interval-ms")),
  )
  .addOption(
    new Option("--stale-quote-ms <n>", "pull our orders on a book without market data this long (0 = off)")
      .env("TSE_QUOTER_STALE_QUOTE_MS")
      .default(3_000)
      .argParser(int("stale-quote-ms")),
  )
  .addOption(
    new Option("--reconcile-ms <n>", "reconciliation period (0 = off)")
      .env("TSE_QUOTER_RECONCILE_MS")
      .default(30_000)
      .argParser(int("reconcile-ms")),
  )
  .addOption(
    new Option("--max-orders-per-second <n>", "risk rate limit per strategy")
      .env("TSE_QUOTER_MAX_ORDERS_PER_SECOND")
      .default(200)
      .argParser(int("max-orders-per-second")),
  )
  .addOption(
    new Option("--max-open-orders <n>", "quoter-wide cap on open orders")
      .env("TSE_QUOTER_MAX_OPEN_ORDERS")
      .default(200)
      .argParser(int("max-open-orders")),
  )
  .addOption(
    new Option("--risk-limits <json>", "domain risk limits JSON (overrides the rate above)").env(
      "TSE_QUOTER_RISK_LIMITS",
    ),
  )
  .addOption(
    new Option("--event-bus <name>", "EventBridge bus for the bridges (off when empty)").env("TSE_EVENT_BUS_NAME"),
  )
  .addOption(new Option("--table <name>", "DynamoDB table for reconciliation (off when empty)").env("TSE_TABLE_NAME"))
  .addOption(
    new Option("--snapshot-interval-ms <n>", "MarketSnapshot at most every N ms per venue+symbol")
      .env("TSE_QUOTER_SNAPSHOT_INTERVAL_MS")
      .default(1000)
      .argParser(int("snapshot-interval-ms")),
  )
  .addOption(
    new Option("--snapshot-move-bps <n>", "…or when mid moved more than this")
      .env("TSE_QUOTER_SNAPSHOT_MOVE_BPS")
      .default(5)
      .argParser(num("snapshot-move-bps")),
  )
  .addOption(
    new Option("--snapshot-spread-bps <n>", "…or when the spread changed more than this")
      .env("TSE_QUOTER_SNAPSHOT_SPREAD_BPS")
      .default(2)
      .argParser(num("snapshot-spread-bps")),
  )
  .addOption(
    new Option(
      "--snapshot-mode <mode>",
      "per-book: a MarketSnapshot per venue+symbol; batch: one MarketSnapshotBatch of every book per interval",
    )
      .env("TSE_QUOTER_SNAPSHOT_MODE")
      .choices(["batch", "per-book"])
      .default("batch"),
  )
  .addOption(
    new Option("--bridge-queue <n>", "bridge queue bound")
      .env("TSE_QUOTER_BRIDGE_QUEUE")
      .default(10_000)
      .argParser(int("bridge-queue")),
  )
  .addOption(new Option("--log-level <level>", "DEBUG|INFO|WARN|ERROR").env("TSE_LOG_LEVEL").default("INFO"))
  // guard: control-plane credentials and policy (see quoter/control/credentials.ts, hardCaps.ts).
  .addOption(
    new Option("--control-secret <arn>", "Secrets Manager secret with the control TLS pair and token").env(
      "TSE_QUOTER_CONTROL_SECRET_ARN",
    ),
  )
  .addOption(
    new Option("--control-dir <dir>", "directory with cert.pem, key.pem and token (local runs)").env(
      "TSE_QUOTER_CONTROL_DIR",
    ),
  )
  .addOption(new Option("--hard-caps <json>", "risk.hard_caps for SetRiskLimits (JSON)").env("TSE_QUOTER_HARD_CAPS"))
  .addOption(
    new Option("--chaos-strategies", "let StartStrategy run chaos-* strategies").env("TSE_QUOTER_CHAOS_STRATEGIES"),
  );

function parseJson<T>(field: string, text: string | undefined): T | undefined {
  if (text === undefined || text.trim() === "") return undefined;
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new InvalidArgumentError(`${field} is not JSON (${(e as Error).message}): ${JSON.stringify(text)}`);
  }
}

async function main(): Promise<void> {
  program.parse();
  const o = program.opts();
  // OTEL_* configure it; nothing set → no SDK loaded. The quoter's spans nest within a tick's turn and its deferred
  // calls resume their tick's scope, so no AsyncLocalStorage (a hook on every promise) is needed.
  await startTracing("tse-quoter", { contextManager: "synchronous" });
  const plogger = new Logger({ serviceName: "tse-quoter", logLevel: o.logLevel });
  // Powertools' Logger takes (message, ...extra objects); adapt to the quoter's (msg, attrs) shape.
  // Inside a span, a line carries its trace_id and span_id.
  const logger = {
    debug: (m: string, a?: Record<string, unknown>) => plogger.debug(m, { ...traceFields(), ...a }),
    info: (m: string, a?: Record<string, unknown>) => plogger.info(m, { ...traceFields(), ...a }),
    warn: (m: string, a?: Record<string, unknown>) => plogger.warn(m, { ...traceFields(), ...a }),
    error: (m: string, a?: Record<string, unknown>) => plogger.error(m, { ...traceFields(), ...a }),
  };
  const symbols = o.symbols as string[];
  const venues = o.venues as string[];
  const strategies: QuoterStrategySpec[] = parseJson<QuoterStrategySpec[]>("--strategies", o.strategies) ?? [
    {
      id: `${o.quoterId}-${o.strategyType}`,
      type: o.strategyType,
      params: parseJson<Record<string, unknown>>("--strategy-params", o.strategyParams) ?? {},
    },
  ];
  const registry = new StaticRegistry();
  const discovery = new Discovery({ registry });
  const manager = new ClientManager({ discovery, logger: plogger, latencyHistogram: hdrLatencyHistogram });
  const store = o.table ? new DynamoDbStateStore({ tableName: o.table }) : undefined;
  const marketData = new MarketDataClient(manager);
  const ebBus = o.eventBus ? new EventBridgeEventBus({ eventBusName: o.eventBus }) : undefined;
  const bridge = ebBus
    ? new BusBridge({
        bus: ebBus,
        maxQueue: o.bridgeQueue,
        putEventsStats: () => ebBus.getStats(),
        messaging: { system: "aws_eventbridge", destination: o.eventBus },
        snapshots: {
          minIntervalMs: o.snapshotIntervalMs,
          priceMoveBps: o.snapshotMoveBps,
          spreadMoveBps: o.snapshotSpreadBps,
          // Batch mode is the deployed default: about 40x fewer entries and signal invocations (bench/cost.bench.ts).
          batch: o.snapshotMode === "batch",
        },
        logger,
      })
    : undefined;
  const riskLimits = parseJson<Record<string, unknown>>("--risk-limits", o.riskLimits) ?? {
    maxOrdersPerSecond: o.maxOrdersPerSecond,
  };
  const { quoter, riskSync } = buildQuoter({
    manager,
    exchange: new ExchangeClient(manager),
    marketData,
    ...(store ? { store } : {}),
    ...(bridge ? { bridge } : {}),
    onError: (m, e) => logger.error(m, e === undefined ? {} : { error: e instanceof Error ? e.message : String(e) }),
    options: {
      symbols,
      venues,
      accountId: o.account,
      quoterId: o.quoterId,
      strategies,
      // Plug-ins bundled into the image (CDK context strategyModules) run when the operator names them.
      pluginStrategyTypes: strategies.map((s) => s.type),
      riskLimits,
      marketDataIntervalMs: o.mdIntervalMs,
      staleQuoteMs: o.staleQuoteMs,
      reconcileIntervalMs: o.reconcileMs,
      maxOpenOrders: o.maxOpenOrders,
      allowChaosStrategies: o.chaosStrategies === true,
      logger,
    },
  });
  await riskSync?.start();
  // guard: TLS + bearer token on the control API and /metrics; hard caps and the chaos switch from configuration.
  if (!o.controlSecret && !o.controlDir)
    throw new InvalidArgumentError("one of --control-secret (Secrets Manager ARN) or --control-dir is required");
  const auth = o.controlSecret
    ? await loadControlAuthFromSecretsManager(o.controlSecret)
    : readControlCredentialsDir(o.controlDir);
  const policy = {
    hardCaps: parseHardCaps(parseJson<Record<string, unknown>>("--hard-caps", o.hardCaps)),
    chaosStrategies: o.chaosStrategies === true,
  };
  const control = new EngineControlServer(quoter, { auth, policy, log: logger });
  const http = new QuoterHttpServer(quoter, { auth, log: logger });
  const grpcPort = await control.start(o.grpcPort, o.host);
  const httpPort = await http.start(o.httpPort, o.host);
  const advertised = `${o.advertiseHost ?? (o.host === "0.0.0.0" ? "127.0.0.1" : o.host)}:${grpcPort}`;
  discovery.register("engine", advertised);
  if (process.env.TSE_QUOTER_RUNTIME_STATS === "1") startRuntimeStats(); // GC, loop delay, allocations on /metrics
  await quoter.start();
  logger.info("quoter ready to serve", { grpcPort, httpPort, engineEndpoint: advertised, symbols, venues });
  // One machine-readable line for parents that spawned us with port 0.
  process.stdout.write(`${JSON.stringify({ event: "quoter-listening", grpcPort, httpPort, pid: process.pid })}\n`);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info("shutting down", { signal });
    const force = setTimeout(() => {
      logger.error("shutdown exceeded 10 s; forcing exit");
      process.exit(1);
    }, 10_000);
    force.unref();
    control.setServing(false);
    const r = await quoter.stop(8_000);
    await Promise.allSettled([control.stop(500), http.stop(), riskSync?.stop()]);
    await manager.close();
    ebBus?.close();
    store?.client.destroy();
    await tracing()
      .shutdown()
      .catch(() => {});
    logger.info("shutdown complete", { ...r });
    clearTimeout(force);
    process.exit(r.remaining === 0 ? 0 : 1);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

main().catch((err: unknown) => {
  process.stderr.write(
    `${JSON.stringify({ level: "ERROR", service: "tse-quoter", message: "start-up failed", error: String(err) })}\n`,
  );
  process.exit(2);
});
