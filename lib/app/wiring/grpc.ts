// The gRPC part of the functions' wiring: one client manager and the configuration client (settings over the
// defaults). Each gRPC function's factory adds only the peer clients it calls (wiring/<function>.ts).
import { ClientManager } from "../../grpc/ClientManager";
import { ConfigurationServiceClient } from "../../grpc/ConfigurationServiceClient";
import { ConfigServiceSettingsSource } from "../settings";
import { type BaseDependencies, createBaseDependencies, settingsDefaults } from "./base";

export interface GrpcBase {
  base: BaseDependencies;
  manager: ClientManager;
  config: ConfigurationServiceClient;
  /** Close the config watch and the channels. */
  close(): Promise<void>;
}

/** `TSE_CONFIG_ENVIRONMENT` (default "default"), `TSE_CONFIG_TTL_MS` (default 30000); peers by discovery. */
export function createGrpcBase(env: NodeJS.ProcessEnv = process.env): GrpcBase {
  const manager = new ClientManager();
  const ttl = Number(env.TSE_CONFIG_TTL_MS ?? 30_000);
  const config = new ConfigurationServiceClient(manager, {
    environment: env.TSE_CONFIG_ENVIRONMENT ?? "default",
    ttlMs: Number.isFinite(ttl) && ttl > 0 ? ttl : 30_000,
  });
  const settings = new ConfigServiceSettingsSource(config, settingsDefaults(env));
  return {
    base: createBaseDependencies(env, { settings }),
    manager,
    config,
    async close() {
      await config.close();
      await manager.close();
    },
  };
}
