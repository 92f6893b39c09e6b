// Strategies registered by name with their zod config schema. The engine builds strategies only through
// createStrategy, so every config is validated (defaults applied, typed error naming field + value).
import type { z } from "zod";
import { InvalidFieldError } from "../errors";
import { ArbitrageConfigSchema, ArbitrageStrategy } from "./arbitrage";
import { AvellanedaStoikovConfigSchema, AvellanedaStoikovStrategy } from "./avellanedaStoikov";
import {
  ChaosCorrelationBreakerConfigSchema,
  ChaosCorrelationBreakerStrategy,
  ChaosRiskIgnorantConfigSchema,
  ChaosRiskIgnorantStrategy,
  ChaosRunawayConfigSchema,
  ChaosRunawayStrategy,
  ChaosSlowLeakConfigSchema,
  ChaosSlowLeakStrategy,
  ChaosVolatilityAmplifierConfigSchema,
  ChaosVolatilityAmplifierStrategy,
} from "./chaos";
import { parseStrategyConfig } from "./config";
import { MarketMakingConfigSchema, MarketMakingStrategy } from "./marketMaking";
import type { Strategy, StrategyDeps } from "./Strategy";

export type StrategyFactory<C> = (id: string, config: C, deps: StrategyDeps) => Strategy;

export interface StrategyRegistration {
  name: string;
  description: string;
  /** Chaos strategies exist to test the risk layer; never run them by default. */
  chaos: boolean;
  configSchema: z.ZodType;
}

interface Entry extends StrategyRegistration {
  factory: StrategyFactory<unknown>;
}

const entries = new Map<string, Entry>();

export class UnknownStrategyError extends InvalidFieldError {
  override name = "UnknownStrategyError";
  constructor(strategy: string) {
    super("strategy", strategy, `unknown strategy; registered: ${[...entries.keys()].join(", ")}`);
  }
}

export function registerStrategy<S extends z.ZodType>(
  name: string,
  factory: StrategyFactory<z.output<S>>,
  configSchema: S,
  opts: { description?: string; chaos?: boolean; replace?: boolean } = {},
): void {
  if (!/^[a-z][a-z0-9-]*$/.test(name)) throw new InvalidFieldError("name", name, "must be kebab-case");
  if (entries.has(name) && !opts.replace) throw new InvalidFieldError("name", name, "strategy already registered");
  entries.set(name, {
    name,
    description: opts.description ?? "",
    chaos: opts.chaos ?? name.startsWith("chaos-"),
    configSchema,
    factory: factory as StrategyFactory<unknown>,
  });
}

/** Validate rawConfig against the strategy's schema (defaults applied) and build it. */
export function createStrategy(name: string, id: string, rawConfig: unknown = {}, deps: StrategyDeps = {}): Strategy {
  const e = entries.get(name);
  if (!e) throw new UnknownStrategyError(name);
  if (!id) throw new InvalidFieldError("id", id, "strategy id must be non-empty");
  return e.factory(id, parseStrategyConfig(name, e.configSchema, rawConfig), deps);
}

/** Validated config with defaults, without building the strategy. */
export function parseConfigFor(name: string, rawConfig: unknown = {}): unknown {
  const e = entries.get(name);
  if (!e) throw new UnknownStrategyError(name);
  return parseStrategyConfig(name, e.configSchema, rawConfig);
}

export function listStrategies(): StrategyRegistration[] {
  return [...entries.values()].map(({ factory: _f, ...r }) => r);
}

export function hasStrategy(name: string): boolean {
  return entries.has(name);
}

// ---------- built-ins ----------
registerStrategy("market-making", (id, c) => new MarketMakingStrategy(id, c), MarketMakingConfigSchema, {
  description: "Symmetric post-only quotes around mid with inventory skew, levels, refresh tolerance, min spread",
});
registerStrategy("avellaneda-stoikov", (id, c) => new AvellanedaStoikovStrategy(id, c), AvellanedaStoikovConfigSchema, {
  description: "Avellaneda–Stoikov reservation price and optimal spread; EWMA σ; finite or infinite horizon",
});
registerStrategy("arbitrage", (id, c) => new ArbitrageStrategy(id, c), ArbitrageConfigSchema, {
  description: "Cross-venue spread arbitrage after taker fees: two IOC legs, hedge on leg failure",
});
registerStrategy("chaos-runaway", (id, c) => new ChaosRunawayStrategy(id, c), ChaosRunawayConfigSchema, {
  description: "CHAOS (risk-layer testing only): 100 orders per tick",
});
registerStrategy(
  "chaos-risk-ignorant",
  (id, c) => new ChaosRiskIgnorantStrategy(id, c),
  ChaosRiskIgnorantConfigSchema,
  {
    description: "CHAOS (risk-layer testing only): doubles its size on every risk denial",
  },
);
registerStrategy(
  "chaos-volatility-amplifier",
  (id, c) => new ChaosVolatilityAmplifierStrategy(id, c),
  ChaosVolatilityAmplifierConfigSchema,
  { description: "CHAOS (risk-layer testing only): chases moves, 2x size on moves over 1 %" },
);
registerStrategy(
  "chaos-correlation-breaker",
  (id, c) => new ChaosCorrelationBreakerStrategy(id, c),
  ChaosCorrelationBreakerConfigSchema,
  { description: "CHAOS (risk-layer testing only): BTC-USD +2 % → fully short ETH-USD" },
);
registerStrategy(
  "chaos-slow-leak",
  (id, c, deps) => new ChaosSlowLeakStrategy(id, c, deps.rng),
  ChaosSlowLeakConfigSchema,
  { description: "CHAOS (risk-layer testing only): n-th order is erroneous with probability min(0.5, n·0.001)" },
);
