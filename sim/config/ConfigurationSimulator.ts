// gRPC configuration service simulator: get, list, watch and an admin set/delete over a ConfigStore.
import {
  ChangeType,
  type ConfigChange,
  type ConfigurationServiceServer,
  ConfigurationServiceService,
  type DeleteValueRequest,
  type DeleteValueResponse,
  type GetValueRequest,
  type GetValueResponse,
  type ListValuesRequest,
  type ListValuesResponse,
  type SetValueRequest,
  type WatchValuesRequest,
} from "../../gen/proto/tse/config/config";
import { ConfigStore } from "../../lib/config/ConfigStore";
import { defaultStringBounds, MAX_ID_CHARS } from "../../lib/domain/bounds";
import { invalidArgument, notFound } from "../common/grpcErrors";
import { StreamRegistry, streaming, unary } from "../common/handlers";

/** A config value may be JSON (limits, strategy parameters): longer than an id, still bounded. */
const CONFIG_BOUNDS = (key: string) =>
  key === "value" ? 16_384 : key === "key" ? 2 * MAX_ID_CHARS : defaultStringBounds(key);

import { type ServiceEntry, SimServer, type SimServerOptions } from "../common/SimServer";

export const CONFIG_SERVICE_NAME = "tse.config.ConfigurationService";
export const DEFAULT_CONFIG_PORT = 50090;
export const DEFAULT_CONFIG_FILE = "config/defaults.yaml";

export interface ConfigurationSimulatorOptions extends SimServerOptions {
  /** Seed file (YAML or JSON). Ignored when `store` is given. */
  file?: string;
  store?: ConfigStore;
  /** Environment used when a request leaves it empty (default "default"). */
  environment?: string;
}

export class ConfigurationSimulator extends SimServer {
  readonly store: ConfigStore;
  private readonly environment: string;
  private readonly streams = new StreamRegistry();

  constructor(opts: ConfigurationSimulatorOptions = {}) {
    super("config-sim", opts);
    this.store = opts.store ?? (opts.file ? ConfigStore.fromFile(opts.file) : new ConfigStore());
    this.environment = opts.environment ?? "default";
  }

  protected override onStop(): void {
    this.streams.endAll();
  }

  private env(e: string): string {
    return e || this.environment;
  }

  protected services(): ServiceEntry[] {
    const store = this.store;
    return [
      {
        name: CONFIG_SERVICE_NAME,
        definition: ConfigurationServiceService,
        impl: {
          getValue: unary<GetValueRequest, GetValueResponse>((req) => {
            if (!req.key) throw invalidArgument("key", req.key, "must not be empty");
            const value = store.get(req.key, this.env(req.environment));
            if (!value) throw notFound("config key", req.key);
            return { value };
          }),
          listValues: unary<ListValuesRequest, ListValuesResponse>((req) => {
            const environment = this.env(req.environment);
            return { values: store.list(req.prefix, environment), environment };
          }),
          watchValues: streaming<WatchValuesRequest, ConfigChange>((call) => {
            const req = call.request;
            const environment = this.env(req.environment);
            const matches = (key: string) => req.prefixes.length === 0 || req.prefixes.some((p) => key.startsWith(p));
            if (req.sendInitial) {
              for (const v of store.list("", environment)) {
                if (matches(v.key)) call.write({ changeType: ChangeType.INITIAL, value: v });
              }
            }
            const off = store.onChange((change) => {
              if (matches(change.value!.key) && store.affects(change, environment)) call.write(change);
            });
            this.streams.add(call, off);
          }),
          setValue: unary<SetValueRequest, GetValueResponse>((req) => {
            const value = store.set(req.key, this.env(req.environment), req.type, req.value);
            this.log.info("config set", { key: value.key, environment: value.environment, version: value.version });
            return { value };
          }, CONFIG_BOUNDS),
          deleteValue: unary<DeleteValueRequest, DeleteValueResponse>((req) => {
            if (!req.key) throw invalidArgument("key", req.key, "must not be empty");
            return { deleted: store.delete(req.key, this.env(req.environment)) };
          }),
        } satisfies ConfigurationServiceServer,
      },
    ];
  }
}
