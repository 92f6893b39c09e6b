// Public surface of the gRPC client layer.
export * from "./ClientManager";
export * from "./ConfigurationServiceClient";
export * from "./CustodianClient";
export * from "./discovery";
export * from "./EngineClient";
export * from "./ExchangeClient";
export * from "./errors";
export * from "./hdrLatency";
export * from "./latency";
export * from "./MarketDataClient";
export * from "./metrics";
export * from "./ResumableStream";
export * from "./RiskMonitorClient";
export * from "./TestCoordinatorClient";

import { ClientManager, type ClientManagerOptions } from "./ClientManager";
import { type ConfigClientOptions, ConfigurationServiceClient } from "./ConfigurationServiceClient";
import { CustodianClient } from "./CustodianClient";
import { EngineClient } from "./EngineClient";
import { ExchangeClient } from "./ExchangeClient";
import { MarketDataClient, type MarketDataClientOptions } from "./MarketDataClient";
import { RiskMonitorClient } from "./RiskMonitorClient";
import { TestCoordinatorClient } from "./TestCoordinatorClient";

export interface PeerClients {
  manager: ClientManager;
  exchange: ExchangeClient;
  marketData: MarketDataClient;
  risk: RiskMonitorClient;
  coordinator: TestCoordinatorClient;
  engine: EngineClient;
  custodian: CustodianClient;
  config: ConfigurationServiceClient;
  /** Closes the config watch, open streams and every channel. */
  close(): Promise<void>;
}

/** One manager (shared channels, breakers, stats) and every typed client on top of it. Channels open lazily. */
export function createPeerClients(
  opts: ClientManagerOptions & { config?: ConfigClientOptions; marketData?: MarketDataClientOptions } = {},
): PeerClients {
  const manager = new ClientManager(opts);
  const config = new ConfigurationServiceClient(manager, opts.config);
  return {
    manager,
    exchange: new ExchangeClient(manager),
    marketData: new MarketDataClient(manager, opts.marketData),
    risk: new RiskMonitorClient(manager),
    coordinator: new TestCoordinatorClient(manager),
    engine: new EngineClient(manager),
    custodian: new CustodianClient(manager),
    config,
    async close() {
      await config.close();
      await manager.close();
    },
  };
}
