// One configuration file for `tse backtest`, `tse start`, `tse synth` and `tse config`: the configuration seed's
// format (config/defaults.yaml; YAML or JSON), layered over config/defaults.yaml. The seed part goes to the
// configuration service as it always did (session, functions, risk monitor); the same keys drive the backtester.
// An old-style backtest JSON ({ strategy, risk, initialCash, … }) still works: it is translated, with a notice
// naming each new key. See docs/configuration.md.
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { EngineSettingsInput } from "../app/settings";
import { type BacktestConfigFile, BacktestConfigFileSchema } from "../backtest/runBacktestFile";
import { parseRiskLimits } from "../domain/risk/limits";
import { listStrategies, parseConfigFor } from "../domain/strategies/registry";
import { ConfigValidationError, readConfigDocument, unwrapTyped, validateConfigDocument } from "./configFile";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const DEFAULTS_FILE = join(REPO_ROOT, "config", "defaults.yaml");
export const DEFAULT_ENVIRONMENT = "default";

type Tree = Record<string, unknown>;

/** A configuration file, validated, with where its strategy modules are. */
export interface LoadedConfig {
  file: string;
  /** The seed document (`environments`, `instruments`, `venues`, `strategyModules`). */
  doc: Tree;
  /** Absolute paths of `strategyModules` (relative entries are relative to the file). */
  strategyModules: string[];
  /** Set when the file was an old-style backtest config: which new key each old key became. */
  notice?: string;
}

/** `{ type, value }` → value, as the configuration service reads it. */
export const unwrap = unwrapTyped;
export { readConfigDocument };

// ---------- old-style backtest configs ----------

const LEGACY_KEYS: Record<keyof BacktestConfigFile, string> = {
  strategy: "environments.default.strategies.<strategy>",
  strategyId: "environments.default.backtest.strategy_id",
  risk: "environments.default.risk.engine_limits",
  instruments: "instruments",
  venues: "venues",
  initialCash: "environments.default.backtest.initial_cash",
  equitySampleMs: "environments.default.backtest.equity_sample_ms",
  timerMs: "environments.default.backtest.timer_ms",
  fillModel: "environments.default.backtest.fill_model",
  latency: "environments.default.backtest.latency",
  throttle: "environments.default.backtest.throttle",
  valuation: "environments.default.backtest.valuation",
  dataQuality: "environments.default.backtest.data_quality",
};

export function isLegacyBacktestConfig(doc: unknown): boolean {
  return doc !== null && typeof doc === "object" && !Array.isArray(doc) && !("environments" in doc);
}

/** Translate `{ strategy, risk, … }` into the seed format; `strategy` needs the strategy's name. */
export function legacyToSeed(raw: unknown, file: string, strategyName?: string): { doc: Tree; notice: string } {
  const r = BacktestConfigFileSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const key = String(issue.path[0] ?? (issue as { keys?: string[] }).keys?.[0] ?? "");
    const k = issue.code === "unrecognized_keys" ? ((issue as { keys: string[] }).keys[0] ?? key) : key;
    const value = (raw as Tree)[k];
    throw new ConfigValidationError(
      file,
      k || "(root)",
      value,
      issue.code === "unrecognized_keys"
        ? "unknown key (a configuration file has a top-level `environments` map: see docs/configuration.md)"
        : `${issue.message} (old backtest key; the new key is ${LEGACY_KEYS[k as keyof BacktestConfigFile] ?? "?"})`,
    );
  }
  const old = r.data;
  const env: Tree = {};
  const moved: string[] = [];
  const put = (oldKey: keyof BacktestConfigFile, path: string[], value: unknown) => {
    let node = env;
    for (const p of path.slice(0, -1)) {
      node[p] ??= {};
      node = node[p] as Tree;
    }
    node[path.at(-1)!] = value;
    moved.push(`${oldKey} -> ${LEGACY_KEYS[oldKey].replace("<strategy>", strategySeedKey(strategyName ?? "?"))}`);
  };
  if (old.strategy) {
    if (!strategyName)
      throw new ConfigValidationError(
        file,
        "strategy",
        old.strategy,
        "old backtest key: name the strategy to place it",
      );
    put("strategy", ["strategies", strategySeedKey(strategyName)], {
      type: "json",
      value: strategyConfigToSeed(strategyName, old.strategy),
    });
  }
  if (old.risk) put("risk", ["risk", "engine_limits"], { type: "json", value: old.risk });
  if (old.strategyId) put("strategyId", ["backtest", "strategy_id"], old.strategyId);
  if (old.initialCash) put("initialCash", ["backtest", "initial_cash"], { type: "json", value: old.initialCash });
  if (old.equitySampleMs) put("equitySampleMs", ["backtest", "equity_sample_ms"], old.equitySampleMs);
  if (old.timerMs) put("timerMs", ["backtest", "timer_ms"], old.timerMs);
  if (old.fillModel) put("fillModel", ["backtest", "fill_model"], old.fillModel);
  if (old.latency) put("latency", ["backtest", "latency"], old.latency);
  if (old.throttle !== undefined) put("throttle", ["backtest", "throttle"], old.throttle);
  if (old.valuation) put("valuation", ["backtest", "valuation"], old.valuation);
  if (old.dataQuality) put("dataQuality", ["backtest", "data_quality"], old.dataQuality);
  const doc: Tree = { environments: { default: env } };
  if (old.instruments) {
    doc.instruments = old.instruments;
    moved.push("instruments -> instruments");
  }
  if (old.venues) {
    doc.venues = old.venues;
    moved.push("venues -> venues");
  }
  const notice = `${file}: old-style backtest config, read as the configuration format (docs/configuration.md): ${
    moved.join(", ") || "(empty)"
  }`;
  return { doc, notice };
}

// ---------- loading ----------

/** Read, translate an old backtest config if need be, and validate as a configuration seed. */
export function loadConfigFile(file: string, opts: { strategy?: string } = {}): LoadedConfig {
  const raw = readConfigDocument(file);
  let doc = raw as Tree;
  let notice: string | undefined;
  if (isLegacyBacktestConfig(raw)) ({ doc, notice } = legacyToSeed(raw, file, opts.strategy));
  validateConfigDocument(doc, file);
  const base = dirname(resolve(file));
  const strategyModules = ((doc.strategyModules as string[] | undefined) ?? []).map((m) =>
    isAbsolute(m) ? m : resolve(base, m),
  );
  return { file, doc, strategyModules, ...(notice ? { notice } : {}) };
}

/** Import strategy plug-ins; each registers itself with registerStrategy on import. Errors name the file. */
export async function loadStrategyModules(paths: readonly string[]): Promise<string[]> {
  const loaded: string[] = [];
  for (const p of paths) {
    const abs = resolve(p);
    const before = new Set(listStrategies().map((s) => s.name));
    try {
      await import(pathToFileURL(abs).href);
    } catch (e) {
      const why = (e as NodeJS.ErrnoException).code === "ERR_MODULE_NOT_FOUND" ? "module not found" : String(e);
      throw new ConfigValidationError(p, "strategy-module", p, `could not load: ${why.slice(0, 300)}`);
    }
    loaded.push(...listStrategies().flatMap((s) => (before.has(s.name) ? [] : [s.name])));
  }
  return loaded;
}

/** Deep merge of plain objects (arrays and typed `{ type, value }` leaves are replaced whole). */
function merge(a: unknown, b: unknown): unknown {
  const plain = (x: unknown): x is Tree => x !== null && typeof x === "object" && !Array.isArray(x) && unwrap(x) === x;
  if (!plain(a) || !plain(b)) return b;
  const out: Tree = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = k in out ? merge(out[k], v) : v;
  return out;
}

/** config/defaults.yaml, then each file over it: the document a session seeds its configuration service with. */
export function layeredDocument(files: readonly LoadedConfig[], defaultsFile = DEFAULTS_FILE): Tree {
  let doc = readConfigDocument(defaultsFile) as Tree;
  for (const f of files) {
    const { strategyModules: _m, ...rest } = f.doc;
    doc = merge(doc, rest) as Tree;
  }
  return doc;
}

/** One environment's tree with "default" under it, leaves unwrapped where asked. */
export function environmentTree(doc: Tree, env = DEFAULT_ENVIRONMENT): Tree {
  const envs = (doc.environments ?? {}) as Record<string, Tree | null>;
  const base = envs[DEFAULT_ENVIRONMENT] ?? {};
  return (env === DEFAULT_ENVIRONMENT ? base : merge(base, envs[env] ?? {})) as Tree;
}

/** The (unwrapped) value at a dotted path of a tree. */
export function at(tree: Tree, path: string): unknown {
  let cur: unknown = tree;
  for (const k of path.split(".")) {
    cur = unwrap(cur);
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Tree)[k];
  }
  return unwrap(cur);
}

// ---------- strategies ----------

/** `market-making` → `market_making`: the key under `strategies.` (the configuration service's spelling). */
export function strategySeedKey(name: string): string {
  return name.replace(/-/g, "_");
}

/** Seed spellings that are not just snake_case of the strategy's own config keys. */
const ALIASES: Record<string, Record<string, string>> = {
  "market-making": { quote_size: "orderQuantity", max_inventory: "maxPosition" },
  arbitrage: { min_edge_bps: "minSpreadBps", max_size: "maxQuantity", min_size: "minQuantity" },
};
/** Seed keys other parts of the engine read (not the strategy itself). */
const ENGINE_KEYS: Record<string, string[]> = { "market-making": ["refresh_ms"], arbitrage: ["signal_ttl_ms"] };

const camel = (k: string) => k.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** A strategy's own config → its `strategies.<name>` section (snake_case, the seed's aliases). */
export function strategyConfigToSeed(name: string, cfg: Tree): Tree {
  const reverse = Object.fromEntries(Object.entries(ALIASES[name] ?? {}).map(([k, v]) => [v, k]));
  return Object.fromEntries(Object.entries(cfg).map(([k, v]) => [reverse[k] ?? snake(k), v]));
}

/** `strategies.<name>` (snake_case or the strategy's own keys) → the config its schema validates. */
export function strategyConfigFromSeed(name: string, value: unknown, file = "config"): Tree {
  const v = unwrap(value);
  if (v === undefined || v === null) return {};
  if (typeof v !== "object" || Array.isArray(v))
    throw new ConfigValidationError(file, `strategies.${strategySeedKey(name)}`, v, "must be a map");
  const out: Tree = {};
  for (const [k, x] of Object.entries(v as Tree)) {
    if (ENGINE_KEYS[name]?.includes(k)) continue;
    out[ALIASES[name]?.[k] ?? camel(k)] = x;
  }
  return out;
}

/** Validate one strategy's section with its own schema, unknown keys included. */
export function checkStrategySection(name: string, value: unknown, file: string): Tree {
  const cfg = strategyConfigFromSeed(name, value, file);
  const reg = listStrategies().find((s) => s.name === name);
  const shape = (reg?.configSchema as { shape?: Record<string, unknown> } | undefined)?.shape;
  if (shape)
    for (const k of Object.keys(cfg))
      if (!(k in shape))
        throw new ConfigValidationError(file, `strategies.${strategySeedKey(name)}.${k}`, cfg[k], "unknown key");
  try {
    parseConfigFor(name, cfg);
  } catch (e) {
    throw new ConfigValidationError(
      file,
      `strategies.${strategySeedKey(name)}`,
      value,
      e instanceof Error ? e.message : String(e),
    );
  }
  return cfg;
}

// ---------- the uses ----------

/** What `tse backtest` takes from the layered configuration (the backtester's own input shape). */
export function backtestConfigFrom(cfg: LoadedConfig, strategy: string, env = DEFAULT_ENVIRONMENT) {
  const { file, doc } = cfg;
  const tree = environmentTree(doc, env);
  const limits = at(tree, "risk.engine_limits");
  const bt = (unwrap(tree.backtest) ?? {}) as Tree;
  const cash = unwrap(bt.initial_cash);
  const out: BacktestConfigFile = {
    strategy: checkStrategySection(strategy, at(tree, `strategies.${strategySeedKey(strategy)}`), file),
    ...(limits ? { risk: limits as Tree } : {}),
    ...(doc.instruments ? { instruments: doc.instruments as unknown[] } : {}),
    ...(doc.venues ? { venues: doc.venues as unknown[] } : {}),
    ...(bt.strategy_id !== undefined ? { strategyId: String(unwrap(bt.strategy_id)) } : {}),
    ...(cash ? { initialCash: cash as Record<string, string> } : {}),
    ...(bt.equity_sample_ms !== undefined ? { equitySampleMs: Number(unwrap(bt.equity_sample_ms)) } : {}),
    ...(bt.timer_ms !== undefined ? { timerMs: Number(unwrap(bt.timer_ms)) } : {}),
    ...(bt.fill_model !== undefined ? { fillModel: unwrap(bt.fill_model) as never } : {}),
    ...(bt.latency !== undefined ? { latency: unwrap(bt.latency) as never } : {}),
    ...(bt.throttle !== undefined ? { throttle: unwrap(bt.throttle) as boolean } : {}),
    ...(bt.valuation !== undefined ? { valuation: unwrap(bt.valuation) as never } : {}),
    ...(bt.data_quality !== undefined ? { dataQuality: unwrap(bt.data_quality) as never } : {}),
  };
  const r = BacktestConfigFileSchema.safeParse(out);
  if (!r.success) {
    const k = String(r.error.issues[0]!.path[0] ?? "");
    throw new ConfigValidationError(file, LEGACY_KEYS[k as keyof BacktestConfigFile] ?? k, (out as Tree)[k], "invalid");
  }
  return r.data;
}

/** Both uses of a file: as a session/deployment seed and as a backtest config. Throws naming the key. */
export function checkUses(cfg: LoadedConfig, env = DEFAULT_ENVIRONMENT): { strategies: string[] } {
  const tree = environmentTree(cfg.doc, env);
  const limits = at(tree, "risk.engine_limits");
  if (limits !== undefined) {
    try {
      parseRiskLimits(limits);
    } catch (e) {
      throw new ConfigValidationError(cfg.file, "risk.engine_limits", limits, (e as Error).message);
    }
  }
  const strategies = (unwrap(tree.strategies) ?? {}) as Tree;
  const known = new Set(listStrategies().map((s) => s.name));
  const checked: string[] = [];
  for (const [key, value] of Object.entries(strategies)) {
    if (key === "arbitrage_id") continue; // the serverless arbitrage's strategy id, not a strategy
    const name = key.replace(/_/g, "-");
    if (!known.has(name))
      throw new ConfigValidationError(
        cfg.file,
        `strategies.${key}`,
        key,
        `no such strategy; registered: ${[...known].join(", ")} (a plug-in needs strategyModules)`,
      );
    checkStrategySection(name, value, cfg.file);
    checked.push(name);
  }
  backtestConfigFrom(cfg, checked[0] ?? "market-making", env);
  return { strategies: checked };
}

/** What the deployed functions take from the file (their TSE_SETTINGS defaults; the config service overrides). */
export function functionSettingsFrom(cfg: LoadedConfig, env = DEFAULT_ENVIRONMENT): EngineSettingsInput {
  const tree = environmentTree(cfg.doc, env);
  const limits = at(tree, "risk.engine_limits");
  const arb = (at(tree, "strategies.arbitrage") ?? {}) as Tree;
  const arbitrage = strategyConfigFromSeed("arbitrage", arb, cfg.file);
  delete arbitrage.minQuantity; // the functions size by maxQuantity only
  if (arb.signal_ttl_ms !== undefined) arbitrage.signalTtlMs = arb.signal_ttl_ms;
  const id = at(tree, "strategies.arbitrage_id");
  const maxAge = at(tree, "signal.snapshot_max_age_ms");
  const debounce = at(tree, "reporting.debounce_ms");
  const period = at(tree, "reporting.period_ms");
  return {
    ...(limits ? { riskLimits: limits as Tree } : {}),
    ...(Object.keys(arbitrage).length > 0 ? { arbitrage: arbitrage as EngineSettingsInput["arbitrage"] } : {}),
    ...(id !== undefined ? { strategyId: String(id) } : {}),
    ...(maxAge !== undefined ? { snapshotMaxAgeMs: Number(maxAge) } : {}),
    ...(debounce !== undefined || period !== undefined
      ? {
          reporting: {
            ...(debounce !== undefined ? { debounceMs: Number(debounce) } : {}),
            ...(period !== undefined ? { periodMs: Number(period) } : {}),
          },
        }
      : {}),
  };
}
