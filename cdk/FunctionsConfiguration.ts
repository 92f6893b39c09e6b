// Configuration of the deployed functions: the engine-settings defaults (the functions' base settings under the
// configuration service's live values) as JSON in each function's TSE_SETTINGS, written at deploy time. No SSM
// parameter: a function reads no SSM (no client in its bundle, no cold-start round trip), and a change of these
// defaults is a function configuration update, which replaces every container at once (docs/functions.md).

import type { NodejsFunction } from "aws-cdk-lib/aws-lambda-nodejs";
import { Construct } from "constructs";
import { type EngineSettings, type EngineSettingsInput, parseEngineSettings } from "../lib/app/settings";
import type { EnvName } from "./config";

/** Per-environment defaults (everything else: lib/app/settings.ts). */
export const SETTINGS_BY_ENV: Record<EnvName, EngineSettingsInput> = {
  // Deployed engines size buys by the custodian's available balance (fail-closed when it cannot be read).
  dev: { settlement: { balanceSource: "custodian" } },
  // Production acts on fresher books and reports less often per position change.
  prod: {
    snapshotMaxAgeMs: 2000,
    reporting: { debounceMs: 30_000, periodMs: 300_000 },
    settlement: { balanceSource: "custodian" },
  },
};

/**
 * Lambda allows 4 KB for all of a function's variables together; the settings keep to 3 KB of it. Larger settings
 * (e.g. many accounts' opening balances) fail the synth here, naming the size, not the deployment.
 */
export const MAX_SETTINGS_ENV_CHARS = 3072;

export interface FunctionsConfigurationProps {
  envName: EnvName;
  functions: readonly NodejsFunction[];
  /** Overrides over SETTINGS_BY_ENV[envName]. */
  settings?: EngineSettingsInput;
  /** The configuration-service environment the functions read (default: the stack's env name). */
  configEnvironment?: string;
  /** The functions that read the configuration service (signal and reporting take TSE_SETTINGS only). */
  configClients?: readonly NodejsFunction[];
}

export class FunctionsConfiguration extends Construct {
  /** The validated settings every function gets in TSE_SETTINGS. */
  readonly settings: EngineSettings;

  constructor(scope: Construct, id: string, props: FunctionsConfigurationProps) {
    super(scope, id);
    const base = SETTINGS_BY_ENV[props.envName];
    this.settings = parseEngineSettings({
      ...base,
      ...props.settings,
      arbitrage: { ...(base.arbitrage ?? {}), ...(props.settings?.arbitrage ?? {}) },
      reporting: { ...(base.reporting ?? {}), ...(props.settings?.reporting ?? {}) },
      settlement: { ...(base.settlement ?? {}), ...(props.settings?.settlement ?? {}) },
    });
    const json = JSON.stringify(this.settings);
    if (json.length > MAX_SETTINGS_ENV_CHARS)
      throw new Error(
        `TSE_SETTINGS: the function settings are ${json.length} characters of JSON, over the ${MAX_SETTINGS_ENV_CHARS} this stack allows in Lambda's 4 KB environment`,
      );
    for (const fn of props.functions) fn.addEnvironment("TSE_SETTINGS", json);
    for (const fn of props.configClients ?? props.functions)
      fn.addEnvironment("TSE_CONFIG_ENVIRONMENT", props.configEnvironment ?? props.envName);
  }
}
