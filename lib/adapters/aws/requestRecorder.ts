// Records every AWS request as (principal, IAM action, resource ARN) into a JSONL file, so a test can evaluate
// each one against the synthesized IAM policies (LocalStack enforces no IAM). Off unless TSE_AWS_REQUEST_LOG
// names the file. The principal is the client's own (a dedicated client per deployed principal, as in AWS),
// else the function running now (runAsPrincipal, set by the local function host), else
// TSE_AWS_REQUEST_PRINCIPAL (a spawned quoter process), else "test-harness" (excluded from evaluation).
import { AsyncLocalStorage } from "node:async_hooks";
import { openSync, writeSync } from "node:fs";

export const TEST_HARNESS_PRINCIPAL = "test-harness";
/** LocalStack's account: recorded ARNs carry it; the evaluator maps them onto the stack's resources. */
const LOCAL_ACCOUNT = "000000000000";

export interface RecordedRequest {
  principal: string;
  /** IAM action, e.g. "dynamodb:PutItem" (a transaction is one action per item, as IAM authorizes it). */
  action: string;
  /** Resource ARN, or "*" for actions without resource-level scoping. */
  resource: string;
  /** The SDK operation that caused it, e.g. "TransactWriteItems". */
  operation: string;
  /** Who recorded it (the test file, or the process's principal). */
  source?: string;
}

// biome-ignore lint/suspicious/noExplicitAny: any Smithy client; only its middleware stack and config are used
type AnyClient = { middlewareStack: { add: (...a: any[]) => void }; config: { region?: unknown } };

const principalScope = new AsyncLocalStorage<string>();
const instrumented = new WeakSet<object>();
let envForTests: NodeJS.ProcessEnv = process.env;

/** Run `fn` (and everything it awaits) as `principal`: the local function host does so per invocation. */
export function runAsPrincipal<T>(principal: string, fn: () => T): T {
  return principalScope.run(principal, fn);
}

/**
 * `target` whose every method runs as `principal`: for a component that shares a client with others in one
 * process (the local session's quoter). Set at each call, so no context leaked through a shared socket wins.
 */
export function asPrincipal<T extends object>(principal: string, target: T): T {
  return new Proxy(target, {
    get(t, key, receiver) {
      const v = Reflect.get(t, key, receiver);
      return typeof v === "function"
        ? (...args: unknown[]) => runAsPrincipal(principal, () => (v as (...a: unknown[]) => unknown).apply(t, args))
        : v;
    },
  });
}

export function currentPrincipal(): string | undefined {
  return principalScope.getStore();
}

const descriptors = new Map<string, number>();
/** One append descriptor per file for the process (closed by the OS at exit). */
function descriptor(file: string): number {
  let fd = descriptors.get(file);
  if (fd === undefined) {
    fd = openSync(file, "a");
    descriptors.set(file, fd);
  }
  return fd;
}

/** Where records go (TSE_AWS_REQUEST_LOG); undefined = recording off. */
export function requestLogPath(env: NodeJS.ProcessEnv = envForTests): string | undefined {
  return env.TSE_AWS_REQUEST_LOG || undefined;
}

/** Override the environment the recorder reads (unit tests). */
export function setRecorderEnv(env: NodeJS.ProcessEnv): void {
  envForTests = env;
}

const SERVICE_OF_CLIENT: Record<string, string> = {
  DynamoDBClient: "dynamodb",
  EventBridgeClient: "events",
  SSMClient: "ssm",
  SecretsManagerClient: "secretsmanager",
  SQSClient: "sqs",
  STSClient: "sts",
  CloudFormationClient: "cloudformation",
  IAMClient: "iam",
  S3Client: "s3",
  ServiceDiscoveryClient: "servicediscovery",
};

// biome-ignore lint/suspicious/noExplicitAny: SDK command inputs of many shapes
type Input = Record<string, any>;

const arn = (service: string, region: string, resource: string) =>
  `arn:aws:${service}:${region}:${LOCAL_ACCOUNT}:${resource}`;
const tableArn = (region: string, table: string) =>
  table.startsWith("arn:") ? table : arn("dynamodb", region, `table/${table}`);
const busArn = (region: string, bus: string | undefined) =>
  bus?.startsWith("arn:") ? bus : arn("events", region, `event-bus/${bus || "default"}`);
const parameterArn = (region: string, name: string) =>
  arn("ssm", region, `parameter/${name.startsWith("/") ? name.slice(1) : name}`);

const TRANSACT_WRITE_ACTIONS: Record<string, string> = {
  Put: "dynamodb:PutItem",
  Update: "dynamodb:UpdateItem",
  Delete: "dynamodb:DeleteItem",
  ConditionCheck: "dynamodb:ConditionCheckItem",
};

/**
 * The IAM (action, resource) pairs one SDK call is authorized as. DynamoDB transactions have no IAM action of
 * their own: each item needs its own action on its table (DynamoDB developer guide, "Using IAM with DynamoDB
 * transactions").
 */
export function iamRequestsOf(
  service: string,
  operation: string,
  input: Input,
  region: string,
): { action: string; resource: string }[] {
  const one = (resource: string) => [{ action: `${service}:${operation}`, resource }];
  switch (service) {
    case "dynamodb": {
      if (operation === "TransactWriteItems")
        return (input.TransactItems ?? []).flatMap((item: Input) =>
          Object.entries(item).map(([kind, body]) => ({
            action: TRANSACT_WRITE_ACTIONS[kind] ?? `dynamodb:${kind}`,
            resource: tableArn(region, (body as Input).TableName),
          })),
        );
      if (operation === "TransactGetItems")
        return (input.TransactItems ?? []).map((item: Input) => ({
          action: "dynamodb:GetItem",
          resource: tableArn(region, item.Get?.TableName),
        }));
      if (operation === "BatchGetItem" || operation === "BatchWriteItem")
        return Object.keys(input.RequestItems ?? {}).map((t) => ({
          action: `dynamodb:${operation}`,
          resource: tableArn(region, t),
        }));
      if (typeof input.TableName === "string") {
        const table = tableArn(region, input.TableName);
        return one(input.IndexName ? `${table}/index/${input.IndexName}` : table);
      }
      return one("*");
    }
    case "events":
      if (operation === "PutEvents") {
        const buses = new Set<string>((input.Entries ?? []).map((e: Input) => busArn(region, e.EventBusName)));
        return [...buses].map((resource) => ({ action: "events:PutEvents", resource }));
      }
      if (typeof input.EventBusName === "string" || typeof input.Name === "string")
        return one(
          typeof input.Name === "string" && operation.includes("Rule")
            ? arn("events", region, `rule/${input.EventBusName ?? "default"}/${input.Name}`)
            : busArn(region, input.EventBusName ?? input.Name),
        );
      return one("*");
    case "ssm":
      if (typeof input.Name === "string") return one(parameterArn(region, input.Name));
      if (Array.isArray(input.Names))
        return input.Names.map((n: string) => ({ action: `ssm:${operation}`, resource: parameterArn(region, n) }));
      if (typeof input.Path === "string") return one(parameterArn(region, input.Path));
      return one("*");
    case "secretsmanager":
      // SecretId is the ARN the stack passes (or a name): recorded as a secret ARN either way.
      if (typeof input.SecretId === "string")
        return one(
          input.SecretId.startsWith("arn:")
            ? input.SecretId
            : arn("secretsmanager", region, `secret:${input.SecretId}`),
        );
      return one("*");
    case "sqs":
      if (typeof input.QueueUrl === "string")
        return one(arn("sqs", region, input.QueueUrl.split("/").filter(Boolean).at(-1) ?? ""));
      if (typeof input.QueueName === "string") return one(arn("sqs", region, input.QueueName));
      return one("*");
    default:
      return one("*");
  }
}

/**
 * Attach the recording middleware to a client (idempotent; a no-op while recording is off). `principal` fixes
 * the principal of every request the client sends (a dedicated client per deployed principal).
 */
export function instrumentAwsClient<C extends object>(client: C, options: { principal?: string } = {}): C {
  const file = requestLogPath();
  if (!file || instrumented.has(client)) return client;
  instrumented.add(client);
  const c = client as unknown as AnyClient;
  const env = envForTests;
  c.middlewareStack.add(
    // biome-ignore lint/suspicious/noExplicitAny: Smithy middleware signature
    (next: (a: any) => Promise<unknown>, context: { clientName?: string; commandName?: string }) =>
      // biome-ignore lint/suspicious/noExplicitAny: Smithy middleware signature
      async (args: any) => {
        const service = SERVICE_OF_CLIENT[context.clientName ?? ""] ?? context.clientName ?? "unknown";
        const operation = (context.commandName ?? "unknown").replace(/Command$/, "");
        const r = c.config.region;
        const region = String((typeof r === "function" ? await r() : r) ?? "us-east-1");
        const principal =
          options.principal ?? currentPrincipal() ?? env.TSE_AWS_REQUEST_PRINCIPAL ?? TEST_HARNESS_PRINCIPAL;
        const source = env.TSE_AWS_REQUEST_SOURCE;
        const lines = iamRequestsOf(service, operation, args.input ?? {}, region).map(
          (q) => `${JSON.stringify({ principal, ...q, operation, ...(source ? { source } : {}) })}\n`,
        );
        // One write per request on an O_APPEND descriptor: lines stay whole when processes share the file.
        if (lines.length) writeSync(descriptor(file), lines.join(""));
        return next(args);
      },
    // initialize: once per call (not per retry), before the DocumentClient marshals the input.
    { step: "initialize", name: "tseRequestRecorder", priority: "high" },
  );
  return client;
}
