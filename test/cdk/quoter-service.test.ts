// CDK assertions on the quoter's Fargate service: one service per shard from context, log group, health check,
// non-root read-only container, SIGTERM-friendly deployment, least-privilege task role; cdk-nag stays clean.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import path from "node:path";
import { App, Validations } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import cdkNag from "cdk-nag";
import { afterAll, describe, expect, it } from "vitest";
import { envConfig } from "../../cdk/config";
import { QuoterServiceConstruct, quoterPropsFromContext } from "../../cdk/QuoterServiceConstruct";
import { TradingEngineStack } from "../../cdk/TradingEngineStack";

const { AwsSolutionsChecks } = cdkNag;
const REPO = path.resolve(import.meta.dirname, "../..");
mkdirSync(path.join(REPO, "test-output"), { recursive: true });
const work = mkdtempSync(path.join(REPO, "test-output", "cdk-quoter-"));
const noFunctions = path.join(work, "no-functions");
mkdirSync(noFunctions);
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Synthesizes like cdk/app.ts (cdk-nag plugin on: an unacknowledged finding throws). */
function synth(context: Record<string, unknown> = {}) {
  const app = new App({ outdir: mkdtempSync(path.join(work, "out-")), context });
  const config = envConfig("dev");
  const stack = new TradingEngineStack(app, "TradingEngine-dev", { config, functionsDir: noFunctions });
  const quoter = new QuoterServiceConstruct(stack, "Quoter", {
    envName: config.envName,
    table: stack.table,
    bus: stack.bus,
    logRetentionDays: config.logRetentionDays,
    removalPolicy: config.removalPolicy,
    ...quoterPropsFromContext(app.node),
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  app.synth();
  return { stack, quoter, template: Template.fromStack(stack) };
}

describe("quoter Fargate service", () => {
  it("runs one service (one task) per default shard with logs, health check and a non-root container", () => {
    const { template } = synth();
    template.resourceCountIs("AWS::ECS::Service", 2);
    template.resourceCountIs("AWS::ECS::TaskDefinition", 2);
    template.hasResourceProperties("AWS::ECS::Service", {
      DesiredCount: 1,
      LaunchType: "FARGATE",
      DeploymentConfiguration: Match.objectLike({ MinimumHealthyPercent: 0, MaximumPercent: 100 }),
      NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: "DISABLED" }) },
      ServiceRegistries: Match.anyValue(),
    });
    template.hasResourceProperties("AWS::ECS::TaskDefinition", {
      RequiresCompatibilities: ["FARGATE"],
      RuntimePlatform: { CpuArchitecture: "ARM64", OperatingSystemFamily: "LINUX" },
      ContainerDefinitions: [
        Match.objectLike({
          User: "10001",
          ReadonlyRootFilesystem: true,
          StopTimeout: 15,
          PortMappings: Match.arrayWith([
            Match.objectLike({ ContainerPort: 50057 }),
            Match.objectLike({ ContainerPort: 8087 }),
          ]),
          HealthCheck: Match.objectLike({ Command: Match.arrayWith([Match.stringLikeRegexp("/health")]) }),
          LogConfiguration: Match.objectLike({ LogDriver: "awslogs" }),
          Environment: Match.arrayWith([
            { Name: "TSE_QUOTER_SYMBOLS", Value: "BTC-USD" },
            { Name: "TSE_EVENT_BUS_NAME", Value: Match.anyValue() },
            { Name: "TSE_TABLE_NAME", Value: Match.anyValue() },
          ]),
        }),
      ],
    });
    template.hasResourceProperties("AWS::Logs::LogGroup", {
      LogGroupName: "/tse/dev/quoter/shard-0",
      RetentionInDays: 7,
    });
    template.hasResourceProperties("AWS::Logs::LogGroup", { LogGroupName: "/tse/dev/quoter/shard-1" });
    template.hasResourceProperties("AWS::ECS::Cluster", {
      ClusterSettings: [{ Name: "containerInsights", Value: "enabled" }],
    });
  });

  it("takes the shards' symbols from CDK context", () => {
    const { template } = synth({ quoterShards: JSON.stringify([["BTC-USD", "ETH-USD"], ["SOL-USD"], ["ADA-USD"]]) });
    template.resourceCountIs("AWS::ECS::Service", 3);
    for (const symbols of ["BTC-USD,ETH-USD", "SOL-USD", "ADA-USD"])
      template.hasResourceProperties("AWS::ECS::TaskDefinition", {
        ContainerDefinitions: [
          Match.objectLike({ Environment: Match.arrayWith([{ Name: "TSE_QUOTER_SYMBOLS", Value: symbols }]) }),
        ],
      });
    expect(() => synth({ quoterShards: '[["btc"]]' })).toThrow(/quoterShards/);
    expect(() => synth({ quoterShards: "not json" })).toThrow(/quoterShards/);
  });

  it("gives each task role only PutEvents on the engine bus, Query on the positions index, the RISKSTATE item and a read of the control secret", () => {
    const { template, stack, quoter } = synth();
    const roleIds = quoter.taskRoles.map((r) => stack.getLogicalId(r.node.defaultChild as never));
    const policies = Object.values(template.findResources("AWS::IAM::Policy")) as {
      Properties: {
        Roles: { Ref: string }[];
        PolicyDocument: { Statement: { Action: string | string[]; Resource: unknown }[] };
      };
    }[];
    for (const roleId of roleIds) {
      const attached = policies.filter((p) => p.Properties.Roles.some((r) => r.Ref === roleId));
      const statements = attached.flatMap((p) => p.Properties.PolicyDocument.Statement);
      expect(statements.flatMap((s) => s.Action).sort()).toEqual([
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "events:PutEvents",
        "secretsmanager:DescribeSecret",
        "secretsmanager:GetSecretValue",
      ]);
      // secret.grantRead: GetSecretValue + DescribeSecret on the control secret only.
      const secretRead = statements.find((s) => JSON.stringify(s.Action).includes("secretsmanager:"))!;
      expect(JSON.stringify(secretRead.Resource)).toMatch(/ControlSecret/);
      const query = statements.find((s) => s.Action === "dynamodb:Query")!;
      expect(JSON.stringify(query.Resource)).toMatch(/\/index\/gsi1/);
      // The risk state: only the one item, by its partition key.
      const item = statements.find((s) => Array.isArray(s.Action) && s.Action.includes("dynamodb:PutItem")) as {
        Condition?: unknown;
      };
      expect(item.Condition).toEqual({ "ForAllValues:StringEquals": { "dynamodb:LeadingKeys": ["RISKSTATE"] } });
      expect(JSON.stringify(statements)).not.toMatch(/"\*"/);
    }
  });

  it("stages the image from quoter/Dockerfile without Docker, or uses an image from context", () => {
    const fromAsset = synth();
    const assetImage = JSON.stringify(fromAsset.template.toJSON()).match(/cdk-hnb659fds-container-assets/);
    expect(assetImage).not.toBeNull();
    const fromRegistry = synth({ quoterImage: "123456789012.dkr.ecr.us-east-1.amazonaws.com/tse-quoter:1.0.0" });
    fromRegistry.template.hasResourceProperties("AWS::ECS::TaskDefinition", {
      ContainerDefinitions: [
        Match.objectLike({ Image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/tse-quoter:1.0.0" }),
      ],
    });
  });

  it("passes the control secret's ARN, never its material, and probes /health over HTTPS", () => {
    const { template } = synth();
    const defs = Object.values(template.findResources("AWS::ECS::TaskDefinition")) as {
      Properties: {
        ContainerDefinitions: { Environment: { Name: string; Value: unknown }[]; HealthCheck: { Command: string[] } }[];
      };
    }[];
    for (const d of defs) {
      const c = d.Properties.ContainerDefinitions[0]!;
      const arn = c.Environment.find((e) => e.Name === "TSE_QUOTER_CONTROL_SECRET_ARN");
      expect(JSON.stringify(arn?.Value)).toMatch(/"Ref":"QuoterControlSecret/);
      expect(JSON.stringify(c.Environment)).not.toMatch(/PRIVATE KEY|BEGIN CERTIFICATE|certificatePem/);
      expect(c.HealthCheck.Command.join(" ")).toContain("require('https')");
    }
  });
});
