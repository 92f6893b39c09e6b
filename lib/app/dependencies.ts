// Composition root of the functions: which adapters back the ports. DynamoDB + EventBridge when
// TSE_TABLE_NAME / TSE_EVENT_BUS_NAME are set (Lambda, LocalStack), in-process adapters otherwise; gRPC peers
// through the client layer's discovery (TSE_<SERVICE>_ENDPOINT, registry, default ports).

import { GrpcExchange } from "../adapters/GrpcExchange";
import type { InstrumentRegistry } from "../domain/instruments";
import { ClientManager } from "../grpc/ClientManager";
import { ConfigurationServiceClient } from "../grpc/ConfigurationServiceClient";
import { CustodianClient } from "../grpc/CustodianClient";
import { ExchangeClient } from "../grpc/ExchangeClient";
import { RiskMonitorClient } from "../grpc/RiskMonitorClient";
import type { Clock } from "../ports/Clock";
import type { CustodianPort } from "../ports/Custodian";
import type { EventBus } from "../ports/EventBus";
import type { ExchangePort } from "../ports/Exchange";
import type { RiskMonitorPort } from "../ports/RiskMonitor";
import type { StateStore } from "../ports/StateStore";
import { type BuyingPowerPort, CustodianBuyingPower } from "./buyingPower";
import { ConfigServiceSettingsSource, type EngineSettingsInput, type SettingsSource } from "./settings";
import { createBaseDependencies, type Provider, settingsDefaults, settingsFromEnv } from "./wiring/base";

export type { ExchangePort } from "../ports/Exchange";
export type { RiskMonitorPort } from "../ports/RiskMonitor";
export { memoizeDependencies } from "./wiring/base";
/**
 * A host's settings defaults: `TSE_SETTINGS`, then the SSM parameter named by `TSE_SETTINGS_PARAMETER` (read only
 * when set, its client loaded only then), then `extra`. The deployed functions take TSE_SETTINGS alone.
 */
export function hostSettingsDefaults(
  env: NodeJS.ProcessEnv,
  extra: EngineSettingsInput = {},
): EngineSettingsInput | (() => Promise<EngineSettingsInput>) {
  const name = env.TSE_SETTINGS_PARAMETER;
  if (!name) return settingsDefaults(env, extra);
  return async () => {
    const { loadSettingsParameter } = await import("./wiring/ssmSettings");
    return { ...settingsFromEnv(env), ...(await loadSettingsParameter(name)), ...extra };
  };
}

export interface EngineDependencies {
  store: StateStore;
  bus: EventBus;
  settings: SettingsSource;
  exchange: ExchangePort;
  riskMonitor: RiskMonitorPort;
  instruments: InstrumentRegistry;
  /** Where fills settle and balances are read (settlement function, reconciliation). */
  custodian?: CustodianPort;
  /** The balance rule's available quote when settings.settlement.balanceSource is "custodian" (fail-closed). */
  buyingPower?: BuyingPowerPort;
  /** Wall clock (epoch ms): expiry, staleness at decision time, report time. State writes use event time. */
  clock: Clock;
}

export type DependenciesProvider = Provider<EngineDependencies>;

export interface CreateEngineDependenciesOptions {
  /** Override any dependency (tests, the embedded runner). */
  overrides?: Partial<EngineDependencies>;
  /** Base settings under the configuration service's values. */
  settings?: EngineSettingsInput;
}

/** The peers the functions talk to (only these clients: the others would only add to the bundle and its init). */
export interface FunctionPeers {
  manager: ClientManager;
  exchange: ExchangeClient;
  risk: RiskMonitorClient;
  config: ConfigurationServiceClient;
  custodian: CustodianClient;
  close(): Promise<void>;
}

export function createFunctionPeers(configEnvironment: string, configTtlMs: number): FunctionPeers {
  const manager = new ClientManager();
  const config = new ConfigurationServiceClient(manager, { environment: configEnvironment, ttlMs: configTtlMs });
  return {
    manager,
    exchange: new ExchangeClient(manager),
    risk: new RiskMonitorClient(manager),
    config,
    custodian: new CustodianClient(manager),
    async close() {
      await config.close();
      await manager.close();
    },
  };
}

export interface CreatedDependencies extends EngineDependencies {
  peers: FunctionPeers | undefined;
  /** Close gRPC channels and the config watch. */
  close(): Promise<void>;
}

/**
 * Every adapter from the environment, for hosts and tests that run all the functions in one process (each
 * deployed function builds only its own: lib/app/wiring/*):
 * - `TSE_TABLE_NAME` → DynamoDbStateStore (else InMemoryStateStore);
 * - `TSE_EVENT_BUS_NAME` → EventBridgeEventBus (else an InProcessEventBus over the routing table);
 * - `TSE_CONFIG_ENVIRONMENT` (default "default"), `TSE_CONFIG_TTL_MS` (default 30000) for the config client;
 * - settings defaults (under the config service's values): hostSettingsDefaults (`TSE_SETTINGS`, the SSM parameter
 *   named by `TSE_SETTINGS_PARAMETER` when set, `options.settings`).
 */
export function createEngineDependencies(
  env: NodeJS.ProcessEnv = process.env,
  options: CreateEngineDependenciesOptions = {},
): CreatedDependencies {
  const o = options.overrides ?? {};
  const needPeers = !o.exchange || !o.riskMonitor || !o.settings || !o.custodian;
  const ttl = Number(env.TSE_CONFIG_TTL_MS ?? 30_000);
  const peers = needPeers
    ? createFunctionPeers(env.TSE_CONFIG_ENVIRONMENT ?? "default", Number.isFinite(ttl) && ttl > 0 ? ttl : 30_000)
    : undefined;
  const base = createBaseDependencies(env, {
    ...o,
    settings: o.settings ?? new ConfigServiceSettingsSource(peers!.config, hostSettingsDefaults(env, options.settings)),
  });
  const custodian = o.custodian ?? peers!.custodian;
  return {
    ...base,
    exchange: o.exchange ?? new GrpcExchange(peers!.exchange),
    riskMonitor: o.riskMonitor ?? peers!.risk,
    custodian,
    buyingPower: o.buyingPower ?? new CustodianBuyingPower(custodian),
    peers,
    async close() {
      await peers?.close();
    },
  };
}
