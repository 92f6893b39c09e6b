// Configuration of the deployed functions: the engine-settings defaults as an SSM parameter (JSON, the
// functions' base settings under the configuration service's live values) and the environment that points them
// at it. Read access (ssm:GetParameter on that one parameter) is granted with the rest in cdk/access.ts.

import type { NodejsFunction } from "aws-cdk-lib/aws-lambda-nodejs";
import * as ssm from "aws-cdk-lib/aws-ssm";
import { Construct } from "constructs";
import { type EngineSettingsInput, parseEngineSettings } from "../lib/app/settings";
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

export interface FunctionsConfigurationProps {
  envName: EnvName;
  functions: readonly NodejsFunction[];
  /** Overrides over SETTINGS_BY_ENV[envName]. */
  settings?: EngineSettingsInput;
  /** The configuration-service environment the functions read (default: the stack's env name). */
  configEnvironment?: string;
  /** The functions that read the configuration service (signal and reporting take their settings from SSM only). */
  configClients?: readonly NodejsFunction[];
}

export class FunctionsConfiguration extends Construct {
  readonly settingsParameter: ssm.StringParameter;

  constructor(scope: Construct, id: string, props: FunctionsConfigurationProps) {
    super(scope, id);
    const base = SETTINGS_BY_ENV[props.envName];
    const settings = parseEngineSettings({
      ...base,
      ...props.settings,
      arbitrage: { ...(base.arbitrage ?? {}), ...(props.settings?.arbitrage ?? {}) },
      reporting: { ...(base.reporting ?? {}), ...(props.settings?.reporting ?? {}) },
      settlement: { ...(base.settlement ?? {}), ...(props.settings?.settlement ?? {}) },
    });
    this.settingsParameter = new ssm.StringParameter(this, "SettingsDefaults", {
      parameterName: `/tse/${props.envName}/functions/settings`,
      description: "Trading engine function settings (defaults; the configuration service overrides them live)",
      stringValue: JSON.stringify(settings),
      tier: ssm.ParameterTier.STANDARD,
    });
    for (const fn of props.functions) {
      fn.addEnvironment("TSE_SETTINGS_PARAMETER", this.settingsParameter.parameterName);
    }
    for (const fn of props.configClients ?? props.functions)
      fn.addEnvironment("TSE_CONFIG_ENVIRONMENT", props.configEnvironment ?? props.envName);
  }
}
