// Shared lifecycle for every simulator: grpc-js server, grpc.health.v1, bind, graceful stop.
import { Server, ServerCredentials, type ServiceDefinition, type UntypedServiceImplementation } from "@grpc/grpc-js";
import { HealthImplementation } from "grpc-health-check";
import { createJsonLogger, type SimLogger } from "./logger";

export interface SimServerOptions {
  /** Silence logs (tests). */
  quiet?: boolean;
  logger?: SimLogger;
  /** How long stop() waits for in-flight calls before forcing. */
  shutdownTimeoutMs?: number;
}

export interface ServiceEntry {
  /** Fully-qualified gRPC service name, e.g. tse.exchange.ExchangeService (health status key). */
  name: string;
  /** Further grpc.health keys with the same status (e.g. upstream's short "market-data"). */
  healthAliases?: readonly string[];
  definition: ServiceDefinition;
  impl: UntypedServiceImplementation;
}

export abstract class SimServer {
  protected readonly log: SimLogger;
  protected server: Server | undefined;
  protected readonly health = new HealthImplementation({ "": "NOT_SERVING" });
  private boundPort: number | undefined;
  private readonly shutdownTimeoutMs: number;

  constructor(
    readonly serviceName: string,
    opts: SimServerOptions = {},
  ) {
    this.log = opts.logger ?? createJsonLogger(serviceName, { quiet: opts.quiet });
    this.shutdownTimeoutMs = opts.shutdownTimeoutMs ?? 2_000;
  }

  /** Fully-qualified gRPC service names served (for health status) with their implementations. */
  protected abstract services(): ServiceEntry[];
  private entries: ServiceEntry[] | undefined;

  private serviceEntries(): ServiceEntry[] {
    this.entries ??= this.services();
    return this.entries;
  }

  /** Hooks for background work (tickers). */
  protected onStart(): void {}
  protected onStop(): void {}

  get port(): number | undefined {
    return this.boundPort;
  }

  get address(): string {
    if (this.boundPort === undefined) throw new Error(`${this.serviceName} not started`);
    return `127.0.0.1:${this.boundPort}`;
  }

  /** Binds and starts serving; returns the bound port (port 0 = ephemeral). */
  async start(port = 0, host = "127.0.0.1"): Promise<number> {
    if (this.server) throw new Error(`${this.serviceName} already started`);
    const server = new Server({ "grpc.max_receive_message_length": 16 * 1024 * 1024 });
    for (const s of this.serviceEntries()) {
      server.addService(s.definition, s.impl);
    }
    this.health.addToServer(server);
    const bound = await new Promise<number>((resolve, reject) => {
      server.bindAsync(`${host}:${port}`, ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      );
    });
    this.server = server;
    this.boundPort = bound;
    this.health.setStatus("", "SERVING");
    this.setServiceHealth("SERVING");
    this.onStart();
    this.log.info("started", { host, port: bound });
    return bound;
  }

  private setServiceHealth(status: "SERVING" | "NOT_SERVING"): void {
    for (const s of this.serviceEntries())
      for (const key of [s.name, ...(s.healthAliases ?? [])]) this.health.setStatus(key, status);
  }

  /** Graceful: NOT_SERVING, tryShutdown, then forceShutdown after the timeout. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.health.setStatus("", "NOT_SERVING");
    this.setServiceHealth("NOT_SERVING");
    this.onStop();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, this.shutdownTimeoutMs);
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.log.info("stopped", { port: this.boundPort });
    this.boundPort = undefined;
  }
}
