// The engine's deployable stack: the single state table, the event bus with its archive, and — built from
// the routing table — one rule per routed function with an encrypted SQS DLQ and a retry policy. A function
// (NodejsFunction: Node 22, arm64, local esbuild, minified + source maps) is created for a route as soon as
// functions/<name>/handler.ts exists; until then its rule has no target but its DLQ and alarm are in place.
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { CfnOutput, Duration, Stack, type StackProps, Validations } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { NodejsFunction, OutputFormat } from "aws-cdk-lib/aws-lambda-nodejs";
import * as logs from "aws-cdk-lib/aws-logs";
import * as sqs from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
import { TABLE_DEFINITION } from "../lib/adapters/aws/tableDefinition";
import type { EngineSettingsInput } from "../lib/app/settings";
import { EVENT_SOURCES, ROUTES, type Route } from "../lib/routing/routes";
import { FUNCTION_ACCESS, grantAccess } from "./access";
import type { EnvConfig } from "./config";
import { FunctionsConfiguration } from "./FunctionsConfiguration";
import { FUNCTION_BUNDLING, FUNCTION_ESBUILD_ARGS } from "./functionBundling";

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Sizing per function. Reserved concurrency only where ordering matters. */

/** Functions whose wiring includes the configuration client; signal and reporting take TSE_SETTINGS only. */
const CONFIG_CLIENT_FUNCTIONS = new Set(["order-placement", "fill-handling", "settlement"]);
export interface FunctionSettings {
  memorySize: number;
  timeout: Duration;
  /** Caps concurrent executions (1 = strictly one at a time). */
  reservedConcurrency?: number;
}

/** Every function's architecture (the cost model prices duration by it). */
export const FUNCTION_ARCHITECTURE = lambda.Architecture.ARM_64;

export const FUNCTION_SETTINGS: Record<string, FunctionSettings> = {
  signal: { memorySize: 512, timeout: Duration.seconds(10) },
  "order-placement": { memorySize: 512, timeout: Duration.seconds(20) },
  // One fill at a time: fills of a position apply in arrival order (optimistic locking keeps them correct anyway).
  "fill-handling": { memorySize: 512, timeout: Duration.seconds(20), reservedConcurrency: 1 },
  // One report computation at a time: PositionChanged bursts are debounced, not raced.
  reporting: { memorySize: 1024, timeout: Duration.seconds(60), reservedConcurrency: 1 },
  // Instructions are idempotent by fill id at the custodian; reconciliation reads every fill.
  settlement: { memorySize: 512, timeout: Duration.seconds(30) },
};

export interface TradingEngineStackProps extends StackProps {
  config: EnvConfig;
  /** Where functions/<name>/handler.ts live (tests point this elsewhere). Default: <repo>/functions. */
  functionsDir?: string;
  /** Project root for bundling (package-lock.json lives here). Default: the repo root. */
  projectRoot?: string;
  /** Strategy plug-in files (absolute) bundled into every function; each registers itself on import. */
  strategyModules?: readonly string[];
  /** Overrides of the functions' settings defaults (e.g. from a configuration file). */
  settings?: EngineSettingsInput;
}

export interface RouteResources {
  route: Route;
  rule: events.Rule;
  dlq: sqs.Queue;
  dlqAlarm: cloudwatch.Alarm;
  fn?: NodejsFunction;
}

/** cdk-nag v3 finding ids are `<pack>::<rule>[<finding>]`. */
const NAG = "AwsSolutions::AwsSolutions";

const pascal = (name: string) => name.replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase());

export class TradingEngineStack extends Stack {
  readonly table: dynamodb.Table;
  readonly bus: events.EventBus;
  readonly archive: events.Archive;
  readonly routes: Readonly<Record<string, RouteResources>>;
  private readonly strategyModules: readonly string[];

  constructor(scope: Construct, id: string, props: TradingEngineStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.strategyModules = props.strategyModules ?? [];
    const functionsDir = props.functionsDir ?? path.join(REPO_ROOT, "functions");
    const projectRoot = props.projectRoot ?? REPO_ROOT;

    this.table = this.createTable(config);

    this.bus = new events.EventBus(this, "Bus", { eventBusName: `tse-${config.envName}` });
    this.archive = new events.Archive(this, "BusArchive", {
      sourceEventBus: this.bus,
      description: "Every engine event, for replay",
      eventPattern: { source: Object.values(EVENT_SOURCES) },
      retention: config.archiveRetention,
    });
    this.archive.applyRemovalPolicy(config.removalPolicy);

    const routes: Record<string, RouteResources> = {};
    for (const route of ROUTES) {
      const handlerPath = path.join(functionsDir, route.functionName, "handler.ts");
      routes[route.functionName] = this.createRoute(
        route,
        config,
        existsSync(handlerPath) ? handlerPath : undefined,
        projectRoot,
      );
    }
    this.routes = routes;

    const reporting = routes.reporting?.fn;
    if (reporting) {
      // Schedules only run on the default bus.
      new events.Rule(this, "ReportingSchedule", {
        description: "Periodic strategy report",
        schedule: events.Schedule.rate(config.reportingRate),
        targets: [
          new targets.LambdaFunction(reporting, {
            deadLetterQueue: routes.reporting?.dlq,
            maxEventAge: config.targetMaxEventAge,
            retryAttempts: config.targetRetryAttempts,
            event: events.RuleTargetInput.fromObject({ trigger: "SCHEDULE" }),
          }),
        ],
      });
    }

    const settlement = routes.settlement?.fn;
    if (settlement) {
      new events.Rule(this, "ReconciliationSchedule", {
        description: "Periodic reconciliation of the custodian's balances with the engine's books",
        schedule: events.Schedule.rate(config.reconciliationRate),
        targets: [
          new targets.LambdaFunction(settlement, {
            deadLetterQueue: routes.settlement?.dlq,
            maxEventAge: config.targetMaxEventAge,
            retryAttempts: config.targetRetryAttempts,
            event: events.RuleTargetInput.fromObject({ action: "reconcile", trigger: "SCHEDULE" }),
          }),
        ],
      });
    }

    const fns = Object.values(routes).flatMap((r) => (r.fn ? [r.fn] : []));
    if (fns.length > 0)
      new FunctionsConfiguration(this, "FunctionsConfiguration", {
        envName: config.envName,
        functions: fns,
        // The functions wired with the configuration client (lib/app/wiring/grpc.ts).
        configClients: Object.values(routes).flatMap((r) =>
          r.fn && CONFIG_CLIENT_FUNCTIONS.has(r.route.functionName) ? [r.fn] : [],
        ),
        ...(props.settings ? { settings: props.settings } : {}),
      });
    // Each function gets exactly what it does (cdk/access.ts; proven by test/iam against the recorded requests).
    for (const r of Object.values(routes))
      if (r.fn) grantAccess(r.fn, FUNCTION_ACCESS[r.route.functionName] ?? {}, { table: this.table, bus: this.bus });

    new CfnOutput(this, "TableName", { value: this.table.tableName });
    new CfnOutput(this, "EventBusName", { value: this.bus.eventBusName });
    new CfnOutput(this, "EventBusArn", { value: this.bus.eventBusArn });
  }

  private createTable(config: EnvConfig): dynamodb.Table {
    const def = TABLE_DEFINITION;
    const table = new dynamodb.Table(this, "StateTable", {
      partitionKey: { name: def.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: def.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // AWS managed key: encrypted at rest with no key policy to keep in step with every function role.
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      // Only idempotency records carry this attribute, so TTL never removes trading state.
      timeToLiveAttribute: def.timeToLiveAttribute,
      deletionProtection: config.retainData,
      removalPolicy: config.removalPolicy,
    });
    for (const gsi of def.globalSecondaryIndexes) {
      table.addGlobalSecondaryIndex({
        indexName: gsi.indexName,
        partitionKey: { name: gsi.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: gsi.sortKey, type: dynamodb.AttributeType.STRING },
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }
    return table;
  }

  private createRoute(
    route: Route,
    config: EnvConfig,
    handlerPath: string | undefined,
    projectRoot: string,
  ): RouteResources {
    const id = pascal(route.functionName);
    const dlq = new sqs.Queue(this, `${id}Dlq`, {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: config.dlqRetention,
      removalPolicy: config.removalPolicy,
    });
    Validations.of(dlq).acknowledge({
      id: `${NAG}-SQS3`,
      reason: `This queue IS the dead-letter queue of the ${route.functionName} rule target; a DLQ of a DLQ would only hide failures.`,
    });
    const dlqAlarm = new cloudwatch.Alarm(this, `${id}DlqAlarm`, {
      alarmDescription: `Events that could not be delivered to ${route.functionName} are waiting in its DLQ`,
      metric: dlq.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: "Maximum" }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    const rule = new events.Rule(this, `${id}Rule`, {
      eventBus: this.bus,
      description: route.description.slice(0, 512),
      // Placeholder so the construct validates; the exact pattern from the routing table is set below.
      eventPattern: { source: ["tse.placeholder"] },
    });
    // The routing table's pattern verbatim (operators such as exists / anything-but included).
    (rule.node.defaultChild as events.CfnRule).addPropertyOverride("EventPattern", route.eventPattern);

    let fn: NodejsFunction | undefined;
    if (handlerPath) {
      fn = this.createFunction(route, id, config, handlerPath, projectRoot);
      rule.addTarget(
        new targets.LambdaFunction(fn, {
          deadLetterQueue: dlq,
          maxEventAge: config.targetMaxEventAge,
          retryAttempts: config.targetRetryAttempts,
        }),
      );
    }
    new CfnOutput(this, `${id}DlqUrl`, { value: dlq.queueUrl });
    return { route, rule, dlq, dlqAlarm, fn };
  }

  private createFunction(
    route: Route,
    id: string,
    config: EnvConfig,
    entry: string,
    projectRoot: string,
  ): NodejsFunction {
    const settings = FUNCTION_SETTINGS[route.functionName] ?? { memorySize: 512, timeout: Duration.seconds(15) };
    const logGroup = new logs.LogGroup(this, `${id}Logs`, {
      retention: config.logRetentionDays as logs.RetentionDays,
      removalPolicy: config.removalPolicy,
    });
    // Own role instead of the AWSLambdaBasicExecutionRole managed policy: logs only to its own group.
    const role = new iam.Role(this, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
      description: `${route.functionName} function`,
    });
    logGroup.grantWrite(role);

    const fn = new NodejsFunction(this, `${id}Function`, {
      entry,
      handler: "handler",
      projectRoot,
      depsLockFilePath: path.join(projectRoot, "package-lock.json"),
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: FUNCTION_ARCHITECTURE,
      memorySize: settings.memorySize,
      timeout: settings.timeout,
      reservedConcurrentExecutions: settings.reservedConcurrency,
      role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      tracing: lambda.Tracing.ACTIVE,
      description: route.description.slice(0, 256),
      environment: {
        TSE_TABLE_NAME: this.table.tableName,
        TSE_EVENT_BUS_NAME: this.bus.eventBusName,
        POWERTOOLS_SERVICE_NAME: `tse-${route.functionName}`,
        POWERTOOLS_METRICS_NAMESPACE: "TradingSystemEngine",
        // The same constant the bundle is built with (FUNCTION_BUNDLING.define).
        POWERTOOLS_TRACE_ENABLED: JSON.parse(FUNCTION_BUNDLING.define["process.env.POWERTOOLS_TRACE_ENABLED"]),
        NODE_OPTIONS: "--enable-source-maps",
      },
      bundling: {
        forceDockerBundling: false,
        minify: true,
        sourceMap: true,
        target: FUNCTION_BUNDLING.target,
        format: OutputFormat.ESM,
        mainFields: [...FUNCTION_BUNDLING.mainFields],
        externalModules: [...FUNCTION_BUNDLING.externalModules],
        define: { ...FUNCTION_BUNDLING.define },
        // Bundled (tree-shaken, minified ESM) rather than the runtime's CommonJS copy: about half the import
        // time of the handler (bench/functions.bench.ts measures both).
        bundleAwsSDK: true,
        banner: FUNCTION_BUNDLING.banner,
        esbuildArgs: { "--alias": [...FUNCTION_ESBUILD_ARGS["--alias"]] },
        // Strategy plug-ins: esbuild evaluates each injected file first, so it registers itself.
        ...(this.strategyModules.length > 0 ? { inject: [...this.strategyModules] } : {}),
      },
    });

    for (const [name, metric] of [
      ["Errors", fn.metricErrors({ period: Duration.minutes(1), statistic: "Sum" })],
      ["Throttles", fn.metricThrottles({ period: Duration.minutes(1), statistic: "Sum" })],
    ] as const) {
      new cloudwatch.Alarm(this, `${id}${name}Alarm`, {
        alarmDescription: `${route.functionName}: ${name.toLowerCase()} in the last minute`,
        metric,
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    Validations.of(role).acknowledge({
      id: `${NAG}-IAM5[Resource::*]`,
      reason:
        "xray:PutTraceSegments and xray:PutTelemetryRecords (active tracing) support no resource-level scoping. No action is wildcarded.",
    });
    Validations.of(fn).acknowledge({
      id: `${NAG}-L1`,
      reason:
        "Node.js 22 is the platform's pinned Lambda runtime (DESIGN.md); L1 flags anything but the newest runtime.",
    });
    return fn;
  }
}
