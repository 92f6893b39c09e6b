// CDK assertions for the REAL functions (functions/<name>/handler.ts bundled by the local esbuild): each is
// wired to its rule and DLQ, gets its settings defaults in TSE_SETTINGS, fill-handling is serialised,
// cdk-nag passes, and each bundle actually loads in a fresh Node process and exports `handler`.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import path from "node:path";
import { App, Stack, Validations } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import cdkNag from "cdk-nag";
import { beforeAll, describe, expect, it } from "vitest";
import { envConfig } from "../../cdk/config";
import { FunctionsConfiguration, SETTINGS_BY_ENV } from "../../cdk/FunctionsConfiguration";
import { TradingEngineStack } from "../../cdk/TradingEngineStack";
import { parseEngineSettings } from "../../lib/app/settings";
import { ROUTES } from "../../lib/routing/routes";

const { AwsSolutionsChecks } = cdkNag;
const REPO = path.resolve(import.meta.dirname, "../..");
mkdirSync(path.join(REPO, "test-output"), { recursive: true });

let stack: TradingEngineStack;
let template: Template;
let outdir: string;

beforeAll(() => {
  outdir = mkdtempSync(path.join(REPO, "test-output", "cdk-functions-"));
  const app = new App({ outdir });
  stack = new TradingEngineStack(app, "TradingEngine-dev", { config: envConfig("dev") });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  app.synth(); // throws on any unacknowledged cdk-nag finding
  template = Template.fromStack(stack);
}, 180_000);

describe("the four real functions in the stack", () => {
  it("every routed function exists, with its rule targeting it and its encrypted DLQ", () => {
    for (const r of ROUTES) {
      const res = stack.routes[r.functionName];
      expect(res?.fn, r.functionName).toBeDefined();
      const rule = template.toJSON().Resources[stack.getLogicalId(res!.rule.node.defaultChild as never)];
      expect(rule.Properties.Targets[0].Arn).toEqual({
        "Fn::GetAtt": [stack.getLogicalId(res!.fn!.node.defaultChild as never), "Arn"],
      });
      expect(rule.Properties.Targets[0].DeadLetterConfig.Arn).toEqual({
        "Fn::GetAtt": [stack.getLogicalId(res!.dlq.node.defaultChild as never), "Arn"],
      });
      expect(rule.Properties.Targets[0].RetryPolicy).toEqual({
        MaximumEventAgeInSeconds: 3600,
        MaximumRetryAttempts: 3,
      });
    }
  });

  it("fill-handling runs one invocation at a time (ordering), reporting too (debounce)", () => {
    for (const name of ["fill-handling", "reporting"]) {
      const fn = template.toJSON().Resources[stack.getLogicalId(stack.routes[name]!.fn!.node.defaultChild as never)];
      expect(fn.Properties.ReservedConcurrentExecutions, name).toBe(1);
    }
    for (const name of ["signal", "order-placement"]) {
      const fn = template.toJSON().Resources[stack.getLogicalId(stack.routes[name]!.fn!.node.defaultChild as never)];
      expect(fn.Properties.ReservedConcurrentExecutions, name).toBeUndefined();
    }
  });

  it("the settings defaults are every function's TSE_SETTINGS; no SSM parameter, no ssm: grant", () => {
    const json = JSON.stringify(parseEngineSettings(SETTINGS_BY_ENV.dev));
    template.resourcePropertiesCountIs(
      "AWS::Lambda::Function",
      { Environment: { Variables: Match.objectLike({ TSE_SETTINGS: json, TSE_TABLE_NAME: Match.anyValue() }) } },
      5,
    );
    for (const fn of Object.values(template.findResources("AWS::Lambda::Function")))
      expect(fn.Properties.Environment?.Variables?.TSE_SETTINGS_PARAMETER).toBeUndefined();
    template.resourceCountIs("AWS::SSM::Parameter", 0);
    const policies = Object.values(template.findResources("AWS::IAM::Policy")) as {
      Properties: { PolicyDocument: { Statement: { Action: string | string[] }[] } };
    }[];
    const ssm = policies.flatMap((p) =>
      p.Properties.PolicyDocument.Statement.filter((s) => [s.Action].flat().some((a) => a.startsWith("ssm:"))),
    );
    expect(ssm).toEqual([]);
  });

  it("settings over Lambda's environment budget fail the synth, naming the variable", () => {
    const big = Object.fromEntries(
      Array.from({ length: 200 }, (_, i) => [`account-${i}`, { USD: "1000000", BTC: "10" }]),
    );
    expect(
      () =>
        new FunctionsConfiguration(new Stack(), "Big", {
          envName: "dev",
          functions: [],
          settings: { settlement: { openingBalances: big } },
        }),
    ).toThrow(/TSE_SETTINGS: .* characters/);
  });

  it("each bundle is minified ESM with a source map and loads in a fresh Node process, exporting handler", () => {
    const manifest = JSON.parse(readFileSync(path.join(outdir, "TradingEngine-dev.assets.json"), "utf8")) as {
      files: Record<string, { source: { path: string } }>;
    };
    const bundles = Object.values(manifest.files)
      .map((f) => path.join(outdir, f.source.path, "index.mjs"))
      .filter((p) => existsSync(p));
    expect(bundles).toHaveLength(5);
    for (const b of bundles) {
      expect(existsSync(`${b}.map`)).toBe(true);
      // Minified: long lines (the few newlines left are inside string literals and legal comments).
      const code = readFileSync(b, "utf8");
      expect(code.length / code.split("\n").length).toBeGreaterThan(2000);
      // The credential chain is fromEnv alone (FUNCTION_BUNDLING.alias reached esbuild through esbuildArgs).
      expect(code).toContain("@aws-sdk/credential-provider-env - fromEnv");
      expect(code).not.toContain("defaultProvider::fromSSO");
      // Loaded from inside the repo so the externalised @aws-sdk/* resolve as the Lambda runtime provides them.
      const out = execFileSync(
        process.execPath,
        ["--input-type=module", "-e", `const m = await import(${JSON.stringify(b)}); console.log(typeof m.handler);`],
        { cwd: REPO, encoding: "utf8", env: { ...process.env, POWERTOOLS_METRICS_DISABLED: "true" }, timeout: 30_000 },
      );
      expect(out.trim()).toBe("function");
    }
  });
});
