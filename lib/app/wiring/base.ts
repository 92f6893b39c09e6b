// The functions' wiring without the gRPC layer: state store, event bus and settings defaults from the environment.
// A function imports only the wiring it calls, so a bundle carries no peer client it never calls.
import { DynamoDbStateStore } from "../../adapters/aws/DynamoDbStateStore";
import { EventBridgeEventBus } from "../../adapters/aws/EventBridgeEventBus";
import { InMemoryStateStore } from "../../adapters/embedded/InMemoryStateStore";
import { InProcessEventBus } from "../../adapters/embedded/InProcessEventBus";
import { InvalidFieldError } from "../../domain/errors";
import { InstrumentRegistry } from "../../domain/instruments";
import type { EventBus } from "../../ports/EventBus";
import type { StateStore } from "../../ports/StateStore";
import type { EngineDependencies } from "../dependencies";
import { type EngineSettingsInput, LoadedSettingsSource, parseEngineSettings } from "../settings";

/** What every function gets; the gRPC functions add their peers (wiring/grpc.ts). */
export type BaseDependencies = Pick<EngineDependencies, "store" | "bus" | "settings" | "instruments" | "clock">;

export type Provider<D> = D | (() => Promise<D>);

/** Resolve a provider once (Lambda reuses it across warm invocations); a failure is retried next time. */
export function memoizeDependencies<D>(provider: Provider<D>): () => Promise<D> {
  if (typeof provider !== "function") return async () => provider;
  let p: Promise<D> | undefined;
  return () => {
    p ??= (provider as () => Promise<D>)().catch((e) => {
      p = undefined;
      throw e;
    });
    return p;
  };
}

export const createStore = (env: NodeJS.ProcessEnv): StateStore =>
  env.TSE_TABLE_NAME ? new DynamoDbStateStore({ tableName: env.TSE_TABLE_NAME }) : new InMemoryStateStore();

export const createBus = (env: NodeJS.ProcessEnv): EventBus =>
  env.TSE_EVENT_BUS_NAME ? new EventBridgeEventBus({ eventBusName: env.TSE_EVENT_BUS_NAME }) : new InProcessEventBus();

/** `TSE_SETTINGS`: the settings defaults as a JSON object in the environment (validated, naming the variable). */
export function settingsFromEnv(env: NodeJS.ProcessEnv): EngineSettingsInput {
  const text = env.TSE_SETTINGS;
  if (!text) return {};
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new InvalidFieldError("TSE_SETTINGS", text, "must be a JSON object of engine settings");
  }
  if (json === null || typeof json !== "object" || Array.isArray(json))
    throw new InvalidFieldError("TSE_SETTINGS", text, "must be a JSON object of engine settings");
  parseEngineSettings(json); // validate now, with the variable's own error
  return json as EngineSettingsInput;
}

/**
 * A function's settings defaults: `TSE_SETTINGS` (the stack sets it at deploy time), under `extra` (hosts, tests).
 * A function reads no SSM parameter (its bundle carries no SSM client, docs/functions.md): `TSE_SETTINGS_PARAMETER`
 * is refused here, naming it, rather than ignored. Hosts read it through createEngineDependencies.
 */
export function settingsDefaults(env: NodeJS.ProcessEnv, extra: EngineSettingsInput = {}): EngineSettingsInput {
  if (env.TSE_SETTINGS_PARAMETER)
    throw new InvalidFieldError(
      "TSE_SETTINGS_PARAMETER",
      env.TSE_SETTINGS_PARAMETER,
      "a function takes its settings defaults from TSE_SETTINGS, not SSM",
    );
  return { ...settingsFromEnv(env), ...extra };
}

/** Store, bus, settings (the defaults above, no configuration service), instruments, clock. */
export function createBaseDependencies(
  env: NodeJS.ProcessEnv = process.env,
  overrides: Partial<BaseDependencies> = {},
): BaseDependencies {
  return {
    store: overrides.store ?? createStore(env),
    bus: overrides.bus ?? createBus(env),
    settings: overrides.settings ?? new LoadedSettingsSource(settingsDefaults(env)),
    instruments: overrides.instruments ?? new InstrumentRegistry(),
    clock: overrides.clock ?? Date.now,
  };
}
