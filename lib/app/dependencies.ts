// Composition root of the functions: which adapters back the ports. DynamoDB + EventBridge when
// TSE_TABLE_NAME / TSE_EVENT_BUS_NAME are set (Lambda, LocalStack), in-process adapters otherwise; gRPC peers
// through the client layer's discovery (TSE_<SERVICE>_ENDPOINT, registry, default ports).

import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { DynamoDbStateStore } from "../adapters/aws/DynamoDbStateStore";
import { EventBridgeEventBus } from "../adapters/aws/EventBridgeEventBus";
import { instrumentAwsClient } from "../adapters/aws/requestRecorder";
import { InMemoryStateStore } from "../adapters/embedded/InMemoryStateStore";
import { InProcessEventBus } from "../adapters/embedded/InProcessEventBus";
import { GrpcExchange } from "../adapters/GrpcExchange";
import { InvalidFieldError } from "../domain/errors";
import { InstrumentRegistry } from "../domain/instruments";
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
import {
  ConfigServiceSettingsSource,
  type EngineSettingsInput,
  parseEngineSettings,
  type SettingsSource,
} from "./settings";

export type { ExchangePort } from "../ports/Exchange";
export type { RiskMonitorPort } from "../ports/RiskMonitor";

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

export type DependenciesProvider = EngineDependencies | (() => Promise<EngineDependencies>);

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
 * Build the adapters from the environment:
 * - `TSE_TABLE_NAME` → DynamoDbStateStore (else InMemoryStateStore);
 * - `TSE_EVENT_BUS_NAME` → EventBridgeEventBus (else an InProcessEventBus over the routing table);
 * - `TSE_CONFIG_ENVIRONMENT` (default "default"), `TSE_CONFIG_TTL_MS` (default 30000) for the config client;
 * - `TSE_SETTINGS_PARAMETER`: SSM parameter (JSON) with the settings defaults under the config service's values.
 */
export function createEngineDependencies(
  env: NodeJS.ProcessEnv = process.env,
  options: CreateEngineDependenciesOptions = {},
): CreatedDependencies {
  const o = options.overrides ?? {};
  const store =
    o.store ??
    (env.TSE_TABLE_NAME ? new DynamoDbStateStore({ tableName: env.TSE_TABLE_NAME }) : new InMemoryStateStore());
  const bus =
    o.bus ??
    (env.TSE_EVENT_BUS_NAME
      ? new EventBridgeEventBus({ eventBusName: env.TSE_EVENT_BUS_NAME })
      : new InProcessEventBus());
  const needPeers = !o.exchange || !o.riskMonitor || !o.settings || !o.custodian;
  const ttl = Number(env.TSE_CONFIG_TTL_MS ?? 30_000);
  const peers = needPeers
    ? createFunctionPeers(env.TSE_CONFIG_ENVIRONMENT ?? "default", Number.isFinite(ttl) && ttl > 0 ? ttl : 30_000)
    : undefined;
  return {
    store,
    bus,
    settings:
      o.settings ??
      new ConfigServiceSettingsSource(
        peers!.config,
        env.TSE_SETTINGS_PARAMETER
          ? async () => ({ ...(await loadSettingsParameter(env.TSE_SETTINGS_PARAMETER!)), ...options.settings })
          : (options.settings ?? {}),
      ),
    exchange: o.exchange ?? new GrpcExchange(peers!.exchange),
    riskMonitor: o.riskMonitor ?? peers!.risk,
    instruments: o.instruments ?? new InstrumentRegistry(),
    custodian: o.custodian ?? peers!.custodian,
    buyingPower: o.buyingPower ?? new CustodianBuyingPower(o.custodian ?? peers!.custodian),
    clock: o.clock ?? Date.now,
    peers,
    async close() {
      await peers?.close();
    },
  };
}

/** Resolve a provider once (Lambda reuses it across warm invocations). */
export function memoizeDependencies(provider: DependenciesProvider): () => Promise<EngineDependencies> {
  if (typeof provider !== "function") return async () => provider;
  let p: Promise<EngineDependencies> | undefined;
  return () => {
    p ??= provider().catch((e) => {
      p = undefined;
      throw e;
    });
    return p;
  };
}

/** The settings defaults stored as JSON in an SSM parameter (validated; a bad value names the parameter). */
export async function loadSettingsParameter(name: string, client = new SSMClient({})): Promise<EngineSettingsInput> {
  const res = await instrumentAwsClient(client).send(new GetParameterCommand({ Name: name }));
  const text = res.Parameter?.Value ?? "";
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new InvalidFieldError(name, text, "must be a JSON object of engine settings");
  }
  parseEngineSettings(json); // validate now, with the parameter's own error
  return json as EngineSettingsInput;
}
