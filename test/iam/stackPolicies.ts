// The synthesized stack's IAM, resolved for evaluation: the app as cdk/app.ts builds it (bundling skipped), each
// deployed principal's role policies with CloudFormation intrinsics resolved to concrete ARNs in one canonical
// account/region, and the mapping from recorded LocalStack ARNs onto the stack's resources:
// - any DynamoDB table -> the stack's one state table (every test table is created from TABLE_DEFINITION, the
//   stack's too; the table has no fixed physical name, so its logical id stands for it), index names verbatim;
// - any event bus but "default" -> the engine bus (tse-<env>); "default" stays the default bus;
// - any SSM parameter -> the stack's one settings parameter;
// - any Secrets Manager secret -> the stack's one control secret (the quoter's TLS pair and token);
// - anything else stays as recorded (and so is allowed by no role).
import path from "node:path";
import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { envConfig } from "../../cdk/config";
import { QuoterServiceConstruct, quoterPropsFromContext } from "../../cdk/QuoterServiceConstruct";
import { TradingEngineStack } from "../../cdk/TradingEngineStack";
import type { RecordedRequest } from "../../lib/adapters/aws/requestRecorder";
import { FUNCTION_NAMES } from "../../lib/app/handlers";
import { TEST_ONLY_PRINCIPALS } from "./allowList";

export const ACCOUNT = "123456789012";
export const REGION = "us-east-1";
export const DEPLOYED_PRINCIPALS = [...FUNCTION_NAMES, "quoter"] as const;
export type DeployedPrincipal = (typeof DEPLOYED_PRINCIPALS)[number];

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation template JSON
export type Cfn = Record<string, any>;

export interface PolicyStatement {
  Effect: "Allow" | "Deny";
  Action: string | string[];
  Resource: string | string[];
  Condition?: unknown;
}
export interface PolicyDocument {
  Version: string;
  Statement: PolicyStatement[];
}

export interface StackPolicies {
  template: Cfn;
  /** Per deployed principal: its role(s) (one per quoter shard; none for a function the stack lacks). */
  roles: Record<DeployedPrincipal, { logicalId: string; arn: string; policies: PolicyDocument[] }[]>;
  /** Every other role in the template (execution roles, CDK helpers). */
  otherRoles: string[];
  /** Canonical ARN of a recorded request's symbolic resource (see symbolicResource). */
  arnOf(symbolic: string): string;
}

const REPO = path.resolve(import.meta.dirname, "../..");

/** Synthesize the deployed app like cdk/app.ts, without bundling the functions (their roles are what matters). */
export function synthDeployedApp(context: Record<string, unknown> = {}) {
  const app = new App({ context: { "aws:cdk:bundling-stacks": [], ...context } });
  const config = envConfig("dev");
  const stack = new TradingEngineStack(app, "TradingEngine-dev", {
    config,
    functionsDir: path.join(REPO, "functions"),
  });
  const quoter = new QuoterServiceConstruct(stack, "Quoter", {
    envName: config.envName,
    table: stack.table,
    bus: stack.bus,
    logRetentionDays: config.logRetentionDays,
    removalPolicy: config.removalPolicy,
    ...quoterPropsFromContext(app.node),
  });
  return { app, stack, quoter, template: Template.fromStack(stack).toJSON() as Cfn };
}

/**
 * Resolve CloudFormation intrinsics to strings with canonical names. An intrinsic it does not know throws; an
 * attribute of a resource type it does not know becomes an ARN no request can match.
 */
export function resolver(template: Cfn): (v: unknown) => string {
  const resources = template.Resources as Cfn;
  const pseudo: Record<string, string> = {
    "AWS::Partition": "aws",
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::URLSuffix": "amazonaws.com",
  };
  const attr = (id: string, name: string, resolve: (v: unknown) => string): string => {
    const r = resources[id];
    if (!r) throw new Error(`unknown resource ${id}`);
    const p = r.Properties ?? {};
    const at = `${REGION}:${ACCOUNT}`;
    switch (`${r.Type}.${name}`) {
      case "AWS::DynamoDB::Table.Ref":
        return id;
      case "AWS::DynamoDB::Table.Arn":
        return `arn:aws:dynamodb:${at}:table/${id}`;
      case "AWS::Events::EventBus.Ref":
      case "AWS::Events::EventBus.Name":
        return resolve(p.Name);
      case "AWS::Events::EventBus.Arn":
        return `arn:aws:events:${at}:event-bus/${resolve(p.Name)}`;
      case "AWS::SSM::Parameter.Ref":
        return resolve(p.Name);
      case "AWS::SecretsManager::Secret.Ref":
        return `arn:aws:secretsmanager:${at}:secret:${id}`;
      case "AWS::Logs::LogGroup.Ref":
        return p.LogGroupName ? resolve(p.LogGroupName) : id;
      case "AWS::Logs::LogGroup.Arn":
        return `arn:aws:logs:${at}:log-group:${p.LogGroupName ? resolve(p.LogGroupName) : id}:*`;
      case "AWS::SQS::Queue.Arn":
        return `arn:aws:sqs:${at}:${id}`;
      case "AWS::Lambda::Function.Arn":
        return `arn:aws:lambda:${at}:function:${id}`;
      case "AWS::IAM::Role.Arn":
        return `arn:aws:iam::${ACCOUNT}:role/${id}`;
      default:
        return `arn:aws:cloudformation:${at}:resource/${r.Type}/${id}/${name}`;
    }
  };
  const resolve = (v: unknown): string => {
    if (typeof v === "string") return v;
    const o = v as Cfn;
    if (o && typeof o === "object") {
      if ("Ref" in o) return pseudo[o.Ref] ?? attr(o.Ref, "Ref", resolve);
      if ("Fn::GetAtt" in o) return attr(o["Fn::GetAtt"][0], o["Fn::GetAtt"][1], resolve);
      if ("Fn::Join" in o) return (o["Fn::Join"][1] as unknown[]).map(resolve).join(o["Fn::Join"][0]);
      if ("Fn::Select" in o) return resolve((o["Fn::Select"][1] as unknown[])[Number(o["Fn::Select"][0])]);
    }
    throw new Error(`cannot resolve ${JSON.stringify(v).slice(0, 200)}`);
  };
  return resolve;
}

function resolvedDocument(doc: Cfn, resolve: (v: unknown) => string): PolicyDocument {
  return {
    Version: doc.Version ?? "2012-10-17",
    Statement: (doc.Statement as Cfn[]).map((s) => ({
      ...s,
      Effect: s.Effect,
      Action: s.Action,
      Resource: [s.Resource].flat().map(resolve),
    })) as PolicyStatement[],
  };
}

/** The deployed principals' roles and resolved policies in a synthesized template. */
export function stackPolicies(
  synth: { stack: TradingEngineStack; quoter: QuoterServiceConstruct; template: Cfn },
  template: Cfn = synth.template,
): StackPolicies {
  const { stack, quoter } = synth;
  const resolve = resolver(template);
  const resources = template.Resources as Cfn;
  const idOf = (c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as never);
  const roleIds: Record<DeployedPrincipal, string[]> = {
    ...(Object.fromEntries(
      FUNCTION_NAMES.map((f) => {
        const fn = stack.routes[f]?.fn;
        return [f, fn ? [idOf(fn.role as never)] : []];
      }),
    ) as Record<(typeof FUNCTION_NAMES)[number], string[]>),
    quoter: quoter.taskRoles.map(idOf),
  };
  const policiesOf = (roleId: string): PolicyDocument[] => {
    const role = resources[roleId];
    if (role?.Type !== "AWS::IAM::Role") throw new Error(`${roleId} is not a role`);
    if (role.Properties.ManagedPolicyArns?.length) throw new Error(`${roleId} has managed policies`);
    const inline = ((role.Properties.Policies as Cfn[] | undefined) ?? []).map((p) => p.PolicyDocument);
    const attached = Object.values(resources)
      .filter((r: Cfn) => r.Type === "AWS::IAM::Policy" && (r.Properties.Roles as Cfn[]).some((x) => x.Ref === roleId))
      .map((r: Cfn) => r.Properties.PolicyDocument);
    return [...inline, ...attached].map((d) => resolvedDocument(d, resolve));
  };
  const roles = Object.fromEntries(
    Object.entries(roleIds).map(([p, ids]) => [
      p,
      ids.map((id) => ({ logicalId: id, arn: resolve({ "Fn::GetAtt": [id, "Arn"] }), policies: policiesOf(id) })),
    ]),
  ) as StackPolicies["roles"];
  const principalRoleIds = new Set(Object.values(roleIds).flat());
  const otherRoles = Object.entries(resources)
    .filter(([id, r]) => (r as Cfn).Type === "AWS::IAM::Role" && !principalRoleIds.has(id))
    .map(([id]) => id);
  const tableId = idOf(stack.table);
  const busArn = resolve({ "Fn::GetAtt": [idOf(stack.bus), "Arn"] });
  const parameters = Object.entries(resources).filter(([, r]) => (r as Cfn).Type === "AWS::SSM::Parameter");
  const parameterArn = () => {
    // The stack has none (the functions' settings are in TSE_SETTINGS): a recorded SSM read matches no grant.
    if (parameters.length === 0) return `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/no-settings-parameter-in-the-stack`;
    if (parameters.length !== 1) throw new Error(`expected the one settings parameter, found ${parameters.length}`);
    return `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/${resolve({ Ref: parameters[0]![0] }).replace(/^\//, "")}`;
  };
  const secrets = Object.entries(resources).filter(([, r]) => (r as Cfn).Type === "AWS::SecretsManager::Secret");
  const secretArn = () => {
    if (secrets.length !== 1) throw new Error(`expected the one control secret, found ${secrets.length}`);
    return `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${secrets[0]![0]}`;
  };
  const arnOf = (symbolic: string): string => {
    if (symbolic === "table/state") return `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${tableId}`;
    const index = /^table\/state\/index\/(.+)$/.exec(symbolic);
    if (index) return `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${tableId}/index/${index[1]}`;
    if (symbolic === "event-bus/engine") return busArn;
    if (symbolic === "event-bus/default") return `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/default`;
    if (symbolic === "parameter/settings") return parameterArn();
    if (symbolic === "secret/control") return secretArn();
    return symbolic;
  };
  return { template, roles, otherRoles, arnOf };
}

/** A recorded LocalStack ARN as the stack resource it stands for ("table/state", "event-bus/engine", …). */
export function symbolicResource(arn: string): string {
  const m = /^arn:aws:([a-z0-9-]+):[^:]*:[^:]*:(.*)$/.exec(arn);
  if (!m) return arn;
  const [, service, rest] = m as unknown as [string, string, string];
  if (service === "dynamodb") {
    const t = /^table\/[^/]+(\/index\/(.+))?$/.exec(rest);
    if (t) return t[2] ? `table/state/index/${t[2]}` : "table/state";
  }
  if (service === "events" && rest.startsWith("event-bus/"))
    return rest === "event-bus/default" ? "event-bus/default" : "event-bus/engine";
  if (service === "ssm" && rest.startsWith("parameter/")) return "parameter/settings";
  if (service === "secretsmanager" && rest.startsWith("secret:")) return "secret/control";
  return arn;
}

export interface NormalizedRequest {
  principal: string;
  action: string;
  resource: string;
}

/** Unique (principal, action, symbolic resource), sorted; the test harness and test-only functions left out. */
export function normalize(requests: readonly RecordedRequest[]): NormalizedRequest[] {
  const seen = new Map<string, NormalizedRequest>();
  for (const r of requests) {
    if (r.principal === "test-harness" || TEST_ONLY_PRINCIPALS[r.principal]) continue;
    const n = { principal: r.principal, action: r.action, resource: symbolicResource(r.resource) };
    seen.set(`${n.principal} ${n.action} ${n.resource}`, n);
  }
  return [...seen.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
}
