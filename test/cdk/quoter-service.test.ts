// CDK assertions on the quoter's Fargate service: one service per shard from context, log group, health check,
// non-root read-only container, SIGTERM-friendly deployment, a task role with exactly the quoter's recorded
// requests (test/fixtures/iam-recorded-requests.json), control ports closed but to one security group; cdk-nag clean.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import path from "node:path";
import { App, Validations } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import cdkNag from "cdk-nag";
import { afterAll, describe, expect, it } from "vitest";
import { envConfig } from "../../cdk/config";
import { QuoterServiceConstruct, quoterPropsFromContext } from "../../cdk/QuoterServiceConstruct";
import { TradingEngineStack } from "../../cdk/TradingEngineStack";
import { readFixture } from "../iam/fixture";
import { stackPolicies } from "../iam/stackPolicies";

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

  it("gives each task role exactly the quoter's recorded requests (test/fixtures), no wildcard", () => {
    const { template, stack, quoter } = synth();
    const policies = stackPolicies({ stack, quoter, template: template.toJSON() });
    const expected = readFixture()
      .filter((r) => r.principal === "quoter")
      .map((r) => `${r.action} ${policies.arnOf(r.resource)}`)
      .sort();
    expect(expected.length).toBeGreaterThanOrEqual(4);
    expect(policies.roles.quoter).toHaveLength(2);
    for (const role of policies.roles.quoter) {
      const all = role.policies
        .flatMap((d) => d.Statement)
        .flatMap((s) => [s.Action].flat().flatMap((a) => [s.Resource].flat().map((r) => `${a} ${r}`)))
        .sort();
      // secret.grantRead pairs DescribeSecret (never called; allow-listed) with the recorded GetSecretValue.
      const granted = all.filter((g) => !g.startsWith("secretsmanager:DescribeSecret"));
      expect(granted, role.logicalId).toEqual(expected);
      expect(all.filter((g) => g.startsWith("secretsmanager:")).map((g) => g.split(" ")[0])).toEqual([
        "secretsmanager:DescribeSecret",
        "secretsmanager:GetSecretValue",
      ]);
      expect(granted.some((g) => g.includes("*"))).toBe(false);
    }
  });

  it("admits the control ports only from the control-client security group (context, else created), no CIDR", () => {
    const ingressOf = (t: Template) =>
      Object.values(t.findResources("AWS::EC2::SecurityGroupIngress")).map(
        (r) => (r as { Properties: Record<string, unknown> }).Properties,
      );
    const inlineCidr = (t: Template) =>
      Object.values(t.findResources("AWS::EC2::SecurityGroup")).flatMap(
        (r) =>
          ((r as { Properties: { SecurityGroupIngress?: unknown[] } }).Properties.SecurityGroupIngress ??
            []) as object[],
      );
    const created = synth();
    const clientsId = created.stack.getLogicalId(created.quoter.controlClientSecurityGroup.node.defaultChild as never);
    const ingress = ingressOf(created.template);
    expect(ingress.map((i) => i.FromPort).sort()).toEqual([50057, 8087]);
    for (const i of ingress) {
      expect(i.SourceSecurityGroupId).toEqual({ "Fn::GetAtt": [clientsId, "GroupId"] });
      expect(i.CidrIp).toBeUndefined();
    }
    expect(inlineCidr(created.template)).toEqual([]);
    created.template.hasOutput("*", { Value: { "Fn::GetAtt": [clientsId, "GroupId"] } });

    const named = synth({ quoterControlSecurityGroup: "sg-0123456789abcdef0" });
    const namedIngress = ingressOf(named.template);
    expect(namedIngress).toHaveLength(2);
    for (const i of namedIngress) expect(i.SourceSecurityGroupId).toBe("sg-0123456789abcdef0");
    expect(() => synth({ quoterControlSecurityGroup: "10.0.0.0/8" })).toThrow(
      /context 'quoterControlSecurityGroup' must be a security group id/,
    );
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
