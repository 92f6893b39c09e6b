// Channels of the client manager: one grpc-js client per service, built from discovery, re-resolved after repeated
// UNAVAILABLE and rebuilt when the endpoint moved; each service has its own breaker.
import type { Logger } from "@aws-lambda-powertools/logger";
import * as grpc from "@grpc/grpc-js";
import type { CircuitBreakerPolicy } from "cockatiel";
import { breakerName, serviceBreaker } from "./callPolicy";
import type { BreakerSettings } from "./clientTypes";
import type { Discovery } from "./discovery";
import { ClientClosedError, isServiceError } from "./errors";

export const DEFAULT_CHANNEL_OPTIONS: grpc.ChannelOptions = {
  // Keepalive: detect dead peers on long-lived streams without tripping servers' ping policing.
  "grpc.keepalive_time_ms": 30_000,
  "grpc.keepalive_timeout_ms": 10_000,
  "grpc.keepalive_permit_without_calls": 0,
  // A trading peer coming back should be used within ~1 s, not grpc's default 120 s max backoff.
  "grpc.initial_reconnect_backoff_ms": 100,
  "grpc.max_reconnect_backoff_ms": 1_000,
};

export interface ServiceState {
  name: string;
  breaker: CircuitBreakerPolicy;
  client: grpc.Client | undefined;
  address: string | undefined;
  connecting: Promise<grpc.Client> | undefined;
  consecutiveUnavailable: number;
  stale: boolean;
}

export interface ServiceChannelsOptions {
  discovery: Discovery;
  breaker: BreakerSettings;
  reresolveAfter: number;
  channelOptions: grpc.ChannelOptions;
  credentials: grpc.ChannelCredentials;
  serviceCredentials: Record<string, grpc.ChannelCredentials>;
  log: Pick<Logger, "info" | "warn" | "debug">;
  /** The owner's closed flag: no channel is built once it is set. */
  isClosed: () => boolean;
}

export class ServiceChannels {
  readonly services = new Map<string, ServiceState>();

  constructor(private readonly o: ServiceChannelsOptions) {}

  get breakerSettings(): BreakerSettings {
    return this.o.breaker;
  }

  stateFor(name: string): ServiceState {
    let s = this.services.get(name);
    if (!s) {
      const breaker = serviceBreaker(this.o.breaker);
      const state: ServiceState = {
        name,
        breaker,
        client: undefined,
        address: undefined,
        connecting: undefined,
        consecutiveUnavailable: 0,
        stale: false,
      };
      breaker.onStateChange((st) =>
        this.o.log.warn("circuit breaker state changed", { service: name, state: breakerName(st) }),
      );
      this.services.set(name, state);
      s = state;
    }
    return s;
  }

  clientFor(state: ServiceState): Promise<grpc.Client> | grpc.Client {
    if (this.o.isClosed()) {
      throw new ClientClosedError(`client manager closed`, state.name, "*", grpc.status.CANCELLED, "closed");
    }
    if (state.client && !state.stale) return state.client;
    state.connecting ??= this.connect(state).finally(() => {
      state.connecting = undefined;
    });
    return state.connecting;
  }

  private async connect(state: ServiceState): Promise<grpc.Client> {
    const refresh = state.stale;
    const resolved = await this.o.discovery.resolve(state.name, { refresh });
    state.stale = false;
    if (state.client && state.address === resolved.address) return state.client;
    if (state.client) {
      this.o.log.info("endpoint moved; rebuilding channel", {
        service: state.name,
        from: state.address,
        to: resolved.address,
      });
      state.client.close();
    }
    const creds = this.o.serviceCredentials[state.name] ?? this.o.credentials;
    state.client = new grpc.Client(resolved.address, creds, this.o.channelOptions);
    state.address = resolved.address;
    return state.client;
  }

  /** Tracks consecutive UNAVAILABLE per service; after N, the endpoint is re-resolved on the next call. */
  noteOutcome(state: ServiceState, err: unknown): void {
    if (isServiceError(err) && err.code === grpc.status.UNAVAILABLE) {
      state.consecutiveUnavailable++;
      if (state.consecutiveUnavailable >= this.o.reresolveAfter && !state.stale) {
        state.stale = true;
        this.o.discovery.invalidate(state.name);
        this.o.log.warn("peer unavailable repeatedly; will re-resolve endpoint", {
          service: state.name,
          address: state.address,
          consecutiveUnavailable: state.consecutiveUnavailable,
        });
      }
    } else {
      state.consecutiveUnavailable = 0;
    }
  }

  /** Closes every channel (the states, breakers included, stay for health/metrics). */
  closeAll(): void {
    for (const s of this.services.values()) {
      s.client?.close();
      s.client = undefined;
    }
  }
}
