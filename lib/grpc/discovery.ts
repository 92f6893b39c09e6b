// Service discovery: logical peer name → "host:port".
// Order: explicit config, env TSE_<SERVICE>_ENDPOINT, a registry (static map / AWS Cloud Map), default ports.
import { DiscoverInstancesCommand, type ServiceDiscoveryClient } from "@aws-sdk/client-servicediscovery";

/** Default gRPC ports of the ecosystem (DESIGN.md). */
export const DEFAULT_PORTS = {
  custodian: 50053,
  exchange: 50054,
  "market-data": 50055,
  "risk-monitor": 50056,
  engine: 50057,
  "test-coordinator": 50058,
  configuration: 50090,
} as const;

export type KnownService = keyof typeof DEFAULT_PORTS;
/** Known peers plus any other name a deployment registers. */
export type ServiceName = KnownService | (string & {});

export type EndpointSource = "explicit" | "env" | "registry" | "default";
export interface ResolvedEndpoint {
  service: string;
  address: string;
  source: EndpointSource;
}

export class DiscoveryError extends Error {
  constructor(
    message: string,
    readonly field: string,
    readonly value: unknown,
  ) {
    super(message);
    this.name = "DiscoveryError";
  }
}

/** A registry of running instances. Returns undefined when the service is not registered. */
export interface ServiceRegistry {
  lookup(service: string): Promise<string | undefined>;
}

/** Local registry: a map filled by `register` (e.g. the quoter registers its engine endpoint at start-up). */
export class StaticRegistry implements ServiceRegistry {
  private readonly entries = new Map<string, string>();
  constructor(initial: Record<string, string> = {}) {
    for (const [k, v] of Object.entries(initial)) this.register(k, v);
  }
  register(service: string, endpoint: string): void {
    this.entries.set(service, validateEndpoint(endpoint, `registry.${service}`));
  }
  deregister(service: string): void {
    this.entries.delete(service);
  }
  async lookup(service: string): Promise<string | undefined> {
    return this.entries.get(service);
  }
}

/**
 * AWS Cloud Map registry (DiscoverInstances, healthy instances only). The service name maps 1:1 to the
 * Cloud Map service name in `namespace`. Untested against real AWS here: it is the thin SDK call only.
 */
export class CloudMapRegistry implements ServiceRegistry {
  constructor(
    private readonly client: ServiceDiscoveryClient,
    private readonly namespace: string,
  ) {}
  async lookup(service: string): Promise<string | undefined> {
    const out = await this.client.send(
      new DiscoverInstancesCommand({
        NamespaceName: this.namespace,
        ServiceName: service,
        HealthStatus: "HEALTHY_OR_ELSE_ALL",
        MaxResults: 10,
      }),
    );
    const instances = out.Instances ?? [];
    if (instances.length === 0) return undefined;
    // Spread callers over instances; each client keeps its pick until re-resolution.
    const pick = instances[Math.floor(Math.random() * instances.length)];
    const attrs = pick?.Attributes ?? {};
    const host = attrs.AWS_INSTANCE_IPV4 ?? attrs.AWS_INSTANCE_IPV6;
    const port = attrs.AWS_INSTANCE_PORT ?? attrs.GRPC_PORT;
    if (!host || !port) return undefined;
    return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
  }
}

const ENDPOINT_RE = /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):\d{1,5}$/;

/** Checks "host:port" (or unix:/dns: targets grpc-js accepts) and returns it; throws naming the field and value. */
export function validateEndpoint(endpoint: string, field: string): string {
  const e = endpoint.trim();
  if (e.startsWith("unix:") || e.startsWith("dns:") || e.startsWith("ipv4:") || e.startsWith("ipv6:")) return e;
  if (!ENDPOINT_RE.test(e)) {
    throw new DiscoveryError(
      `${field}: invalid endpoint ${JSON.stringify(endpoint)} (expected host:port)`,
      field,
      endpoint,
    );
  }
  const port = Number(e.slice(e.lastIndexOf(":") + 1));
  if (port < 1 || port > 65535) {
    throw new DiscoveryError(`${field}: port out of range in ${JSON.stringify(endpoint)}`, field, endpoint);
  }
  return e;
}

/** `market-data` → `TSE_MARKET_DATA_ENDPOINT`. */
export function envVarFor(service: string): string {
  return `TSE_${service.toUpperCase().replace(/[^A-Z0-9]+/g, "_")}_ENDPOINT`;
}

export interface DiscoveryOptions {
  /** Explicit endpoints, highest priority (e.g. from CLI flags / config files). */
  explicit?: Record<string, string>;
  /** Environment to read `TSE_<SERVICE>_ENDPOINT` from; defaults to process.env. */
  env?: Record<string, string | undefined>;
  /** Registry consulted after explicit/env. Defaults to an empty StaticRegistry. */
  registry?: ServiceRegistry;
  /** Host used with default ports; default 127.0.0.1. */
  defaultHost?: string;
  /** Override/extend the default port table. */
  defaultPorts?: Record<string, number>;
}

export class Discovery {
  readonly registry: ServiceRegistry;
  private readonly explicit: Record<string, string>;
  private readonly env: Record<string, string | undefined>;
  private readonly defaultHost: string;
  private readonly ports: Record<string, number>;
  private readonly cache = new Map<string, ResolvedEndpoint>();
  private resolutions = 0;

  constructor(opts: DiscoveryOptions = {}) {
    this.explicit = opts.explicit ?? {};
    this.env = opts.env ?? process.env;
    this.registry = opts.registry ?? new StaticRegistry();
    this.defaultHost = opts.defaultHost ?? "127.0.0.1";
    this.ports = { ...DEFAULT_PORTS, ...(opts.defaultPorts ?? {}) };
  }

  /** Resolves (cached). `refresh` bypasses the cache, e.g. after repeated UNAVAILABLE from the current endpoint. */
  async resolve(service: ServiceName, opts: { refresh?: boolean } = {}): Promise<ResolvedEndpoint> {
    if (!opts.refresh) {
      const hit = this.cache.get(service);
      if (hit) return hit;
    }
    const resolved = await this.lookup(service);
    this.resolutions++;
    this.cache.set(service, resolved);
    return resolved;
  }

  /** Registers an endpoint in the registry when it is a StaticRegistry (local runs). */
  register(service: ServiceName, endpoint: string): void {
    if (!(this.registry instanceof StaticRegistry)) {
      throw new DiscoveryError(`register(${service}): registry is not a StaticRegistry`, "registry", service);
    }
    this.registry.register(service, endpoint);
    this.cache.delete(service);
  }

  /** Forget the cached endpoint so the next resolve asks again. */
  invalidate(service: ServiceName): void {
    this.cache.delete(service);
  }

  /** Number of non-cached resolutions so far (observability / tests). */
  get resolutionCount(): number {
    return this.resolutions;
  }

  private async lookup(service: string): Promise<ResolvedEndpoint> {
    const explicit = this.explicit[service];
    if (explicit) return { service, address: validateEndpoint(explicit, `explicit.${service}`), source: "explicit" };
    const envName = envVarFor(service);
    const fromEnv = this.env[envName];
    if (fromEnv) return { service, address: validateEndpoint(fromEnv, envName), source: "env" };
    const fromRegistry = await this.registry.lookup(service);
    if (fromRegistry)
      return { service, address: validateEndpoint(fromRegistry, `registry.${service}`), source: "registry" };
    const port = this.ports[service];
    if (port !== undefined) return { service, address: `${this.defaultHost}:${port}`, source: "default" };
    throw new DiscoveryError(
      `no endpoint for service ${JSON.stringify(service)}: set ${envName}, register it, or configure a default port`,
      "service",
      service,
    );
  }
}
