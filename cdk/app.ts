// CDK app: one TradingEngine stack per environment (`-c env=dev|prod`), checked by cdk-nag's AwsSolutions pack.
// Synth is offline: functions are bundled by the locally installed esbuild, never Docker.
import { App, Validations } from "aws-cdk-lib";
import cdkNag from "cdk-nag";
import { checkUses, functionSettingsFrom, loadConfigFile, loadStrategyModules } from "../lib/config/engineConfig";
import { envConfig } from "./config";
import { QuoterServiceConstruct, quoterPropsFromContext, strategyModulesFromContext } from "./QuoterServiceConstruct";
import { TradingEngineStack } from "./TradingEngineStack";

const { AwsSolutionsChecks } = cdkNag;

const app = new App();
const config = envConfig(app.node.tryGetContext("env") ?? "dev");

// Context `tseConfig`: the configuration file tse backtest and tse start take (tse synth --config). Its
// strategyModules are bundled like context `strategyModules`; its risk limits and arbitrage settings become the
// functions' settings defaults.
const configPath = app.node.tryGetContext("tseConfig") as string | undefined;
const file = configPath ? loadConfigFile(configPath) : undefined;
const strategyModules = [...strategyModulesFromContext(app.node), ...(file?.strategyModules ?? [])];
await loadStrategyModules(strategyModules);
if (file) checkUses(file);

const stack = new TradingEngineStack(app, `TradingEngine-${config.envName}`, {
  config,
  ...(strategyModules.length > 0 ? { strategyModules } : {}),
  ...(file ? { settings: functionSettingsFrom(file) } : {}),
  description: `Trading System Engine (${config.envName}): state table, event bus, routed functions`,
  // Environment-agnostic unless the caller's account/region are known (deploy time).
  env:
    process.env.CDK_DEFAULT_ACCOUNT && process.env.CDK_DEFAULT_REGION
      ? { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION }
      : undefined,
});

// The always-on quoter (ECS Fargate, one task per shard; shards from context `quoterShards`).
new QuoterServiceConstruct(stack, "Quoter", {
  envName: config.envName,
  table: stack.table,
  bus: stack.bus,
  logRetentionDays: config.logRetentionDays,
  removalPolicy: config.removalPolicy,
  ...quoterPropsFromContext(app.node),
  ...(strategyModules.length > 0 ? { strategyModules } : {}),
});

// cdk-nag v3 runs as a CDK policy-validation plugin: any unacknowledged finding interrupts synthesis,
// so `npm run synth` fails on it. Acknowledgements (with reasons) live next to the resources they cover.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
