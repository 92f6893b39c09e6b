// CDK app: one TradingEngine stack per environment (`-c env=dev|prod`), checked by cdk-nag's AwsSolutions pack.
// Synth is offline: functions are bundled by the locally installed esbuild, never Docker.
import { App, Validations } from "aws-cdk-lib";
import cdkNag from "cdk-nag";
import { envConfig } from "./config";
import { QuoterServiceConstruct, quoterPropsFromContext } from "./QuoterServiceConstruct";
import { TradingEngineStack } from "./TradingEngineStack";

const { AwsSolutionsChecks } = cdkNag;

const app = new App();
const config = envConfig(app.node.tryGetContext("env") ?? "dev");

const stack = new TradingEngineStack(app, `TradingEngine-${config.envName}`, {
  config,
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
});

// cdk-nag v3 runs as a CDK policy-validation plugin: any unacknowledged finding interrupts synthesis,
// so `npm run synth` fails on it. Acknowledgements (with reasons) live next to the resources they cover.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
