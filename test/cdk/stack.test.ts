// CDK assertions on the synthesized TradingEngine stack, with and without the four functions, plus the
// cdk-nag gate (AwsSolutions as a validation plugin: an unacknowledged finding makes synthesis throw).
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { App, Stack, Validations } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import * as sqs from "aws-cdk-lib/aws-sqs";
import cdkNag from "cdk-nag";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { envConfig } from "../../cdk/config";
import { TradingEngineStack } from "../../cdk/TradingEngineStack";
import { TABLE_DEFINITION } from "../../lib/adapters/aws/tableDefinition";
import { ROUTES } from "../../lib/routing/routes";
import { readFixture } from "../iam/fixture";

const { AwsSolutionsChecks } = cdkNag;
// Under the repo (git-ignored test-output/): NodejsFunction entries must sit below the project root.
const REPO = path.resolve(import.meta.dirname, "../..");
mkdirSync(path.join(REPO, "test-output"), { recursive: true });
const work = mkdtempSync(path.join(REPO, "test-output", "cdk-test-"));
const noFunctions = path.join(work, "no-functions");
const withFunctions = path.join(work, "functions");
mkdirSync(noFunctions);
for (const r of ROUTES) {
  mkdirSync(path.join(withFunctions, r.functionName), { recursive: true });
  writeFileSync(
    path.join(withFunctions, r.functionName, "handler.ts"),
    `export const handler = async (event: { id?: string }) => ({ ok: true, id: event.id, fn: ${JSON.stringify(r.functionName)} });\n`,
  );
}

interface Synth {
  stack: TradingEngineStack;
  template: Template;
  outdir: string;
}

/** Synthesize one stack with the cdk-nag plugin, exactly like cdk/app.ts does. Throws if nag finds anything. */
function synth(envName: "dev" | "prod", functionsDir: string): Synth {
  const outdir = mkdtempSync(path.join(work, "out-"));
  const app = new App({ outdir });
  const stack = new TradingEngineStack(app, `TradingEngine-${envName}`, { config: envConfig(envName), functionsDir });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  app.synth();
  return { stack, template: Template.fromStack(stack), outdir };
}

interface StatementAction {
  effect: string;
  action: string;
  condition?: unknown;
}

function iamActions(template: Template): StatementAction[] {
  const actions: StatementAction[] = [];
  for (const type of ["AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::Role", "AWS::SQS::QueuePolicy"]) {
    for (const res of Object.values(template.findResources(type)) as { Properties: Record<string, unknown> }[]) {
      const docs = [
        res.Properties.PolicyDocument,
        ...((res.Properties.Policies as { PolicyDocument: unknown }[] | undefined) ?? []).map((p) => p.PolicyDocument),
      ];
      for (const doc of docs as (
        | { Statement?: { Effect: string; Action?: string | string[]; Condition?: unknown }[] }
        | undefined
      )[])
        for (const st of doc?.Statement ?? [])
          for (const action of [st.Action ?? []].flat())
            actions.push({ effect: st.Effect, action, condition: st.Condition });
    }
  }
  return actions;
}

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("TradingEngine stack without functions (dev)", () => {
  let s: Synth;
  beforeAll(() => {
    s = synth("dev", noFunctions);
  });

  it("passes cdk-nag AwsSolutions with no unacknowledged finding", () => {
    const report = JSON.parse(readFileSync(path.join(s.outdir, "validation-report.json"), "utf8"));
    expect(JSON.stringify(report)).not.toMatch(/"status":\s*"failure"/);
  });

  it("has the single table: keys, GSIs, on-demand, PITR, encryption, TTL; destroyable in dev", () => {
    s.template.resourceCountIs("AWS::DynamoDB::Table", 1);
    s.template.hasResource("AWS::DynamoDB::Table", {
      DeletionPolicy: "Delete",
      Properties: Match.objectLike({
        KeySchema: [
          { AttributeName: "pk", KeyType: "HASH" },
          { AttributeName: "sk", KeyType: "RANGE" },
        ],
        BillingMode: "PAY_PER_REQUEST",
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        TimeToLiveSpecification: { AttributeName: TABLE_DEFINITION.timeToLiveAttribute, Enabled: true },
        DeletionProtectionEnabled: false,
        GlobalSecondaryIndexes: TABLE_DEFINITION.globalSecondaryIndexes.map((g) =>
          Match.objectLike({
            IndexName: g.indexName,
            KeySchema: [
              { AttributeName: g.partitionKey, KeyType: "HASH" },
              { AttributeName: g.sortKey, KeyType: "RANGE" },
            ],
            Projection: { ProjectionType: "ALL" },
          }),
        ),
      }),
    });
  });

  it("has the bus and an archive of every engine source", () => {
    s.template.hasResourceProperties("AWS::Events::EventBus", { Name: "tse-dev" });
    s.template.hasResourceProperties("AWS::Events::Archive", {
      EventPattern: { source: ["tse.market", "tse.engine", "tse.exchange", "tse.risk"] },
      RetentionDays: 7,
    });
  });

  it("has one rule per route, on the bus, with the routing table's pattern verbatim", () => {
    const rules = Object.values(s.template.findResources("AWS::Events::Rule")) as {
      Properties: Record<string, unknown>;
    }[];
    expect(rules).toHaveLength(ROUTES.length);
    for (const route of ROUTES) {
      const matching = rules.filter(
        (r) => JSON.stringify(r.Properties.EventPattern) === JSON.stringify(route.eventPattern),
      );
      expect(matching, route.functionName).toHaveLength(1);
      expect(matching[0]?.Properties.EventBusName).toEqual({
        Ref: s.stack.getLogicalId(s.stack.bus.node.defaultChild as never),
      });
    }
  });

  it("has an encrypted, SSL-only DLQ and a DLQ-depth alarm per route", () => {
    s.template.resourcePropertiesCountIs(
      "AWS::SQS::Queue",
      { SqsManagedSseEnabled: true, MessageRetentionPeriod: 1_209_600 },
      ROUTES.length,
    );
    s.template.resourcePropertiesCountIs(
      "AWS::SQS::QueuePolicy",
      {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
          ]),
        },
      },
      ROUTES.length,
    );
    s.template.resourcePropertiesCountIs(
      "AWS::CloudWatch::Alarm",
      { MetricName: "ApproximateNumberOfMessagesVisible", Threshold: 0 },
      ROUTES.length,
    );
  });

  it("creates no function while functions/<name>/handler.ts is missing", () => {
    s.template.resourceCountIs("AWS::Lambda::Function", 0);
    expect(Object.values(s.stack.routes).every((r) => r.fn === undefined)).toBe(true);
  });
});

describe("TradingEngine stack with the four functions (prod)", () => {
  let s: Synth;
  beforeAll(() => {
    s = synth("prod", withFunctions);
  }, 120_000);

  it("passes cdk-nag AwsSolutions (acknowledgements carry reasons)", () => {
    const report = JSON.parse(readFileSync(path.join(s.outdir, "validation-report.json"), "utf8"));
    expect(JSON.stringify(report)).not.toMatch(/"status":\s*"failure"/);
  });

  it("retains data in prod: table Retain + deletion protection, archive Retain", () => {
    s.template.hasResource("AWS::DynamoDB::Table", {
      DeletionPolicy: "Retain",
      UpdateReplacePolicy: "Retain",
      Properties: Match.objectLike({ DeletionProtectionEnabled: true }),
    });
    s.template.hasResource("AWS::Events::Archive", { DeletionPolicy: "Retain" });
  });

  it("has one Node 22 arm64 function per route (five) with tracing and JSON logs", () => {
    s.template.resourcePropertiesCountIs(
      "AWS::Lambda::Function",
      {
        Runtime: "nodejs22.x",
        Architectures: ["arm64"],
        TracingConfig: { Mode: "Active" },
        LoggingConfig: Match.objectLike({ LogFormat: "JSON" }),
      },
      ROUTES.length,
    );
    s.template.hasResourceProperties("AWS::Lambda::Function", {
      Description: Match.stringLikeRegexp("^Position changes"),
      ReservedConcurrentExecutions: 1,
    });
  });

  it("targets every route's rule at its function with the DLQ and a retry policy", () => {
    for (const [name, res] of Object.entries(s.stack.routes)) {
      expect(res.fn, name).toBeDefined();
      const ruleId = s.stack.getLogicalId(res.rule.node.defaultChild as never);
      const rule = s.template.toJSON().Resources[ruleId];
      expect(rule.Properties.Targets, name).toEqual([
        expect.objectContaining({
          Arn: { "Fn::GetAtt": [s.stack.getLogicalId(res.fn?.node.defaultChild as never), "Arn"] },
          DeadLetterConfig: {
            Arn: { "Fn::GetAtt": [s.stack.getLogicalId(res.dlq.node.defaultChild as never), "Arn"] },
          },
          RetryPolicy: { MaximumEventAgeInSeconds: 6 * 3600, MaximumRetryAttempts: 8 },
        }),
      ]);
    }
    // The reporting schedule (default bus) reuses the reporting DLQ.
    s.template.hasResourceProperties("AWS::Events::Rule", {
      ScheduleExpression: "rate(5 minutes)",
      Targets: [
        Match.objectLike({ DeadLetterConfig: Match.anyValue(), Input: JSON.stringify({ trigger: "SCHEDULE" }) }),
      ],
    });
    // The reconciliation schedule targets the settlement function with its own DLQ.
    const settlement = s.stack.routes.settlement!;
    s.template.hasResourceProperties("AWS::Events::Rule", {
      ScheduleExpression: "rate(5 minutes)",
      Targets: [
        Match.objectLike({
          Arn: { "Fn::GetAtt": [s.stack.getLogicalId(settlement.fn?.node.defaultChild as never), "Arn"] },
          DeadLetterConfig: {
            Arn: { "Fn::GetAtt": [s.stack.getLogicalId(settlement.dlq.node.defaultChild as never), "Arn"] },
          },
          Input: JSON.stringify({ action: "reconcile", trigger: "SCHEDULE" }),
        }),
      ],
    });
  });

  it("has error and throttle alarms per function", () => {
    s.template.resourcePropertiesCountIs(
      "AWS::CloudWatch::Alarm",
      { MetricName: "Errors", Namespace: "AWS/Lambda" },
      ROUTES.length,
    );
    s.template.resourcePropertiesCountIs(
      "AWS::CloudWatch::Alarm",
      { MetricName: "Throttles", Namespace: "AWS/Lambda" },
      ROUTES.length,
    );
  });

  it("no IAM statement grants a wildcard action (the only wildcard is the DLQs' deny of non-TLS access)", () => {
    const statements = iamActions(s.template);
    const allowed = statements.filter((st) => st.effect === "Allow").map((st) => st.action);
    expect(allowed.length).toBeGreaterThan(10);
    expect(allowed.filter((a) => a.includes("*"))).toEqual([]);
    // Every action a function's recorded requests used (test/fixtures) is granted.
    const recorded = readFixture()
      .filter((r) => r.principal !== "quoter")
      .map((r) => r.action);
    expect(recorded.length).toBeGreaterThan(10);
    expect(allowed).toEqual(expect.arrayContaining(recorded));
    const wildcardDenies = statements.filter((st) => st.action.includes("*"));
    expect(wildcardDenies).toHaveLength(ROUTES.length);
    for (const d of wildcardDenies)
      expect(d).toEqual({ effect: "Deny", action: "sqs:*", condition: { Bool: { "aws:SecureTransport": "false" } } });
  });

  it("bundles each function offline with esbuild: minified ESM + source map", () => {
    const assets = readdirSync(s.outdir).filter((d) => d.startsWith("asset."));
    expect(assets.length).toBeGreaterThanOrEqual(4);
    for (const a of assets.filter((d) => existsSync(path.join(s.outdir, d, "index.mjs")))) {
      const code = readFileSync(path.join(s.outdir, a, "index.mjs"), "utf8");
      expect(existsSync(path.join(s.outdir, a, "index.mjs.map"))).toBe(true);
      expect(code).toContain("createRequire");
      expect(code.split("\n").length).toBeLessThan(6);
    }
  });
});

describe("cdk-nag gate", () => {
  it("interrupts synthesis on an unacknowledged finding", () => {
    const app = new App({ outdir: mkdtempSync(path.join(work, "bad-")) });
    const stack = new Stack(app, "Bad");
    new sqs.Queue(stack, "PlainQueue", { encryption: sqs.QueueEncryption.UNENCRYPTED });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS2/);
  });

  it("rejects an unknown env context", () => {
    expect(() => envConfig("staging")).toThrow(/context 'env' must be one of dev, prod; got "staging"/);
  });
});
