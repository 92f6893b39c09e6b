// What each configuration key means, who reads it and its built-in default: `tse config explain <key>` prints it
// with the effective value and the file that set it; docs/configuration.md documents the same table (a test
// holds the two together).
import { at, environmentTree, type LoadedConfig, readConfigDocument } from "./engineConfig";

export interface KeyDoc {
  meaning: string;
  /** Which part of the engine reads it. */
  readBy: string;
  /** The value when no file sets it (before config/defaults.yaml). */
  builtIn?: string;
}

const SESSION = "tse start (configuration service)";
const RISK_SIM = "risk monitor simulator";

/** Keys inside `environments.<env>`; `instruments`, `venues`, `strategyModules` are top-level. */
export const CONFIG_KEY_DOCS: Record<string, KeyDoc> = {
  "trading.enabled": { meaning: "trading switched on for the environment", readBy: SESSION, builtIn: "true" },
  "trading.position_limits.max_size": { meaning: "largest position per symbol, base units", readBy: RISK_SIM },
  "trading.position_limits.max_notional": { meaning: "largest notional per strategy, quote units", readBy: RISK_SIM },
  "trading.max_order_size": { meaning: "largest order, base units", readBy: RISK_SIM },
  "trading.symbols": { meaning: "symbols traded", readBy: SESSION },
  "trading.venues": { meaning: "venues traded", readBy: SESSION },
  "risk.limits.max_position_size": { meaning: "risk monitor: largest position per symbol", readBy: RISK_SIM },
  "risk.limits.max_order_size": { meaning: "risk monitor: largest order (pre-trade check)", readBy: RISK_SIM },
  "risk.limits.max_notional": { meaning: "risk monitor: largest notional", readBy: RISK_SIM },
  "risk.limits.max_daily_loss": { meaning: "risk monitor: daily loss that breaches, quote units", readBy: RISK_SIM },
  "risk.limits.max_drawdown": { meaning: "risk monitor: drawdown that breaches, quote units", readBy: RISK_SIM },
  "risk.limits.max_open_orders": { meaning: "risk monitor: most open orders", readBy: RISK_SIM },
  "risk.alert_thresholds": {
    meaning: "utilisation at which the risk monitor alerts (low..critical)",
    readBy: RISK_SIM,
  },
  "risk.fail_closed": { meaning: "deny orders when the risk monitor is unreachable", readBy: RISK_SIM },
  "risk.engine_limits": {
    meaning:
      "the engine's own risk limits (domain keys of lib/domain/risk/limits.ts, e.g. maxOrdersPerSecond, " +
      "dailyLossLimit, maxDrawdownPct, instruments), JSON",
    readBy: "the quoter and the functions in tse start and deployments; tse backtest",
    builtIn: '{"maxOrdersPerSecond":50} in a session (the quoter), the domain defaults elsewhere',
  },
  "strategies.market_making": {
    meaning: "market-making config (snake_case of its keys; quote_size = orderQuantity, max_inventory = maxPosition)",
    readBy: "the quoter in tse start; tse backtest --strategy market-making",
    builtIn: "the strategy schema's defaults (docs/strategies.md)",
  },
  "strategies.arbitrage": {
    meaning: "arbitrage config (min_edge_bps = minSpreadBps, max_size = maxQuantity, cooldown_ms, signal_ttl_ms)",
    readBy: "the signal and order-placement functions; tse backtest --strategy arbitrage",
    builtIn: "lib/app/settings.ts defaults",
  },
  "strategies.<name>": {
    meaning: "config of any registered strategy (built-in or plug-in), keys of its own schema, snake_case or not",
    readBy: "the quoter in tse start; tse backtest --strategy <name>",
    builtIn: "the strategy schema's defaults",
  },
  "strategies.arbitrage_id": {
    meaning: "strategy id the serverless arbitrage books under",
    readBy: "functions",
    builtIn: "arb-1",
  },
  "signal.snapshot_max_age_ms": {
    meaning: "snapshots older than this are ignored",
    readBy: "signal function",
    builtIn: "5000",
  },
  "reporting.debounce_ms": {
    meaning: "skip a report this soon after the last",
    readBy: "reporting function",
    builtIn: "10000",
  },
  "reporting.period_ms": {
    meaning: "nominal equity sampling period of reports",
    readBy: "reporting function",
    builtIn: "60000",
  },
  "exchange.maker_fee": { meaning: "maker fee rate (negative = rebate)", readBy: "exchange simulator" },
  "exchange.taker_fee": { meaning: "taker fee rate", readBy: "exchange simulator" },
  "market_data.update_interval_ms": { meaning: "market data update interval", readBy: "market data simulator" },
  "config.cache_ttl_ms": { meaning: "config client cache TTL", readBy: "configuration clients", builtIn: "5000" },
  "backtest.strategy_id": {
    meaning: "strategy id of the backtested strategy's orders",
    readBy: "tse backtest",
    builtIn: "the strategy name",
  },
  "backtest.initial_cash": {
    meaning: "starting balances per asset, JSON",
    readBy: "tse backtest",
    builtIn: '{"USD":"1000000"}',
  },
  "backtest.equity_sample_ms": {
    meaning: "equity sampling period, ms of data time",
    readBy: "tse backtest",
    builtIn: "1000",
  },
  "backtest.timer_ms": { meaning: "onTimer cadence, ms of data time", readBy: "tse backtest", builtIn: "1000" },
  "backtest.fill_model": {
    meaning: "fill model of resting orders: { kind: quote-through | queue-risk-averse | queue-probabilistic, … }",
    readBy: "tse backtest",
    builtIn: '{"kind":"queue-risk-averse"}',
  },
  "backtest.latency": {
    meaning: "feed / order / ack latency in ms, constant or a seeded distribution",
    readBy: "tse backtest",
    builtIn: "0 (no latency)",
  },
  "backtest.throttle": {
    meaning: "pace placements to the order-rate limit before the risk engine",
    readBy: "tse backtest",
    builtIn: "true",
  },
  "backtest.valuation": {
    meaning: "valuation currency and a rate per other currency (fixed, or { series } in the data)",
    readBy: "tse backtest",
    builtIn: "USD; a currency with no rate is refused",
  },
  "backtest.data_quality": { meaning: "data-quality thresholds, e.g. { gapMs }", readBy: "tse backtest" },
  instruments: {
    meaning: "instrument definitions (tick, lot, min notional), top level",
    readBy: "tse backtest",
    builtIn: "BTC-USD, ETH-USD",
  },
  venues: { meaning: "venue definitions (fees), top level", readBy: "tse backtest", builtIn: "venue-a, venue-b" },
  strategyModules: {
    meaning: "strategy plug-in files, relative to the config file, loaded before strategies are read; top level",
    readBy: "tse backtest, tse start, tse config, tse synth (bundled into the functions and the quoter image)",
    builtIn: "[]",
  },
};

const TOP_LEVEL = new Set(["instruments", "venues", "strategyModules"]);

function docFor(key: string): [string, KeyDoc] | undefined {
  if (CONFIG_KEY_DOCS[key]) return [key, CONFIG_KEY_DOCS[key]!];
  // strategies.<name>.<sub> and deeper keys: the nearest documented parent.
  const parts = key.split(".");
  for (let n = parts.length - 1; n > 0; n--) {
    const parent = parts.slice(0, n).join(".");
    if (CONFIG_KEY_DOCS[parent]) return [parent, CONFIG_KEY_DOCS[parent]!];
  }
  if (parts[0] === "strategies" && parts.length >= 2)
    return ["strategies.<name>", CONFIG_KEY_DOCS["strategies.<name>"]!];
  return undefined;
}

function lookup(doc: Record<string, unknown>, key: string, env: string): unknown {
  return TOP_LEVEL.has(key) ? doc[key] : at(environmentTree(doc, env), key);
}

export interface KeyExplanation {
  key: string;
  documentedAs: string;
  doc: KeyDoc;
  /** Value in config/defaults.yaml, if there. */
  defaultValue?: unknown;
  /** Effective value and the file that set it (the last file that has the key). */
  value?: unknown;
  setBy: string;
}

export class UnknownConfigKeyError extends Error {
  override name = "UnknownConfigKeyError";
}

/** Explain `key` for the files in order (defaults file first, then each --config). */
export function explainKey(
  key: string,
  files: readonly { file: string; doc: Record<string, unknown> }[],
  env = "default",
): KeyExplanation {
  const found = docFor(key);
  if (!found) {
    const near = Object.keys(CONFIG_KEY_DOCS).filter((k) => k.startsWith(key.split(".")[0] ?? key));
    throw new UnknownConfigKeyError(
      `unknown key ${JSON.stringify(key.slice(0, 64))}${near.length ? `; keys under it: ${near.join(", ")}` : ""}`,
    );
  }
  let value: unknown;
  let setBy = "built-in default";
  for (const f of files) {
    const v = lookup(f.doc, key, env);
    if (v !== undefined) {
      value = v;
      setBy = f.file;
    }
  }
  const first = files[0];
  const defaultValue = first ? lookup(first.doc, key, env) : undefined;
  return {
    key,
    documentedAs: found[0],
    doc: found[1],
    ...(defaultValue !== undefined ? { defaultValue } : {}),
    ...(value !== undefined ? { value } : {}),
    setBy,
  };
}

export function formatExplanation(x: KeyExplanation, defaultsFile: string): string {
  const show = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));
  const lines = [
    x.key,
    `  meaning: ${x.doc.meaning}${x.documentedAs !== x.key ? ` (documented as ${x.documentedAs})` : ""}`,
    `  read by: ${x.doc.readBy}`,
    `  default: ${
      x.defaultValue !== undefined ? `${show(x.defaultValue)} (${defaultsFile})` : (x.doc.builtIn ?? "none")
    }${x.defaultValue !== undefined && x.doc.builtIn ? `; built-in ${x.doc.builtIn}` : ""}`,
    `  value:   ${x.value !== undefined ? show(x.value) : (x.doc.builtIn ?? "(unset)")} (set by ${x.setBy})`,
  ];
  return lines.join("\n");
}

/** The defaults file and the given config files, as explainKey wants them. */
export function explainSources(defaultsFile: string, configs: readonly LoadedConfig[], label = defaultsFile) {
  return [{ file: label, doc: readConfigDocument(defaultsFile) as Record<string, unknown> }, ...configs];
}
