// The always-on quoter on ECS Fargate: one service (one task) per shard of symbols, shards from CDK context.
// Image: quoter/Dockerfile as a Docker image asset (staged at synth, built only at deploy — synth needs no Docker),
// or a prebuilt image URI from context `quoterImage`. Each task: its own log group, a container health check on
// /health, SIGTERM-friendly stop timeout, Cloud Map registration (the engine endpoint for discovery) and a task role
// with exactly what the quoter does (cdk/access.ts: journal and trading state, positions index, PutEvents). The
// control ports admit only a control-client security group: context `quoterControlSecurityGroup`, else one created
// here for operators to attach (output `QuoterControlClientSecurityGroupId`).
import path from "node:path";
import { fileURLToPath } from "node:url";
import { CfnOutput, Duration, IgnoreMode, RemovalPolicy, Stack, Validations } from "aws-cdk-lib";
import type * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import { Platform } from "aws-cdk-lib/aws-ecr-assets";
import * as ecs from "aws-cdk-lib/aws-ecs";
import type * as events from "aws-cdk-lib/aws-events";
import * as iam from "aws-cdk-lib/aws-iam";
import * as logs from "aws-cdk-lib/aws-logs";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import { Construct } from "constructs";
import { grantAccess, QUOTER_ACCESS } from "./access";

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const NAG = "AwsSolutions::AwsSolutions";
export const QUOTER_GRPC_PORT = 50057;
export const QUOTER_HTTP_PORT = 8087;
/** CIDR of the VPC this construct creates. */
export const QUOTER_VPC_CIDR = "10.40.0.0/16";

export interface QuoterShard {
  /** Symbols this task quotes, e.g. ["BTC-USD"]. */
  symbols: string[];
}

export interface QuoterServiceProps {
  envName: string;
  table: dynamodb.ITable;
  bus: events.IEventBus;
  shards: QuoterShard[];
  venues?: string[];
  /** Peer endpoints (host:port) passed as TSE_<SERVICE>_ENDPOINT, e.g. { exchange: "exchange.tse.local:50054" }. */
  peerEndpoints?: Record<string, string>;
  /** A prebuilt image (e.g. an ECR URI). Default: quoter/Dockerfile built as an asset at deploy time. */
  imageUri?: string;
  /** Strategy plug-in files inside the repository, bundled into the quoter image (build arg STRATEGY_MODULES). */
  strategyModules?: readonly string[];
  logRetentionDays?: number;
  removalPolicy?: RemovalPolicy;
  vpc?: ec2.IVpc;
  /**
   * The control plane's TLS pair and bearer token (JSON certificatePem, privateKeyPem, token, previousToken?).
   * Default: a new secret with a generated token; the operator puts the certificate in (docs/deployment.md).
   */
  controlSecret?: secretsmanager.ISecret;
  /** The only security group admitted to the control ports (e.g. sg-0123456789abcdef0). Default: one created here. */
  controlClientSecurityGroupId?: string;
}

/** Context `strategyModules`: a JSON array (or comma list) of plug-in files, relative to the repository root. */
export function strategyModulesFromContext(node: Construct["node"]): string[] {
  const raw = node.tryGetContext("strategyModules") as unknown;
  if (raw === undefined || raw === "") return [];
  let list: unknown = raw;
  if (typeof raw === "string") list = raw.trim().startsWith("[") ? JSON.parse(raw) : raw.split(",");
  if (!Array.isArray(list) || !list.every((m) => typeof m === "string" && m.trim() !== ""))
    throw new Error(`context 'strategyModules' must be a JSON array of file paths; got ${JSON.stringify(raw)}`);
  return list.map((m: string) => path.resolve(REPO_ROOT, m.trim()));
}

/** Shards and settings from CDK context: `-c quoterShards='[["BTC-USD"],["ETH-USD"]]'` etc. */
export function quoterPropsFromContext(
  node: Construct["node"],
): Pick<
  QuoterServiceProps,
  "shards" | "venues" | "peerEndpoints" | "imageUri" | "strategyModules" | "controlClientSecurityGroupId"
> {
  const parse = (key: string, v: unknown): unknown => {
    if (typeof v !== "string") return v;
    try {
      return JSON.parse(v);
    } catch {
      throw new Error(`context '${key}' must be JSON; got ${JSON.stringify(v)}`);
    }
  };
  const shardsRaw = parse("quoterShards", node.tryGetContext("quoterShards")) ?? [["BTC-USD"], ["ETH-USD"]];
  if (
    !Array.isArray(shardsRaw) ||
    shardsRaw.length === 0 ||
    !shardsRaw.every(
      (s) =>
        Array.isArray(s) && s.length > 0 && s.every((x) => typeof x === "string" && /^[A-Z0-9]+-[A-Z0-9]+$/.test(x)),
    )
  )
    throw new Error(
      `context 'quoterShards' must be a non-empty array of non-empty symbol arrays; got ${JSON.stringify(shardsRaw)}`,
    );
  const venues = parse("quoterVenues", node.tryGetContext("quoterVenues")) as string[] | undefined;
  const peers = parse("quoterPeerEndpoints", node.tryGetContext("quoterPeerEndpoints")) as
    | Record<string, string>
    | undefined;
  const imageUri = node.tryGetContext("quoterImage") as string | undefined;
  const modules = strategyModulesFromContext(node);
  const controlSg = node.tryGetContext("quoterControlSecurityGroup") as unknown;
  if (controlSg !== undefined && (typeof controlSg !== "string" || !/^sg-[0-9a-f]{8,17}$/.test(controlSg)))
    throw new Error(
      `context 'quoterControlSecurityGroup' must be a security group id (sg-…); got ${JSON.stringify(controlSg).slice(0, 64)}`,
    );
  return {
    ...(modules.length > 0 ? { strategyModules: modules } : {}),
    ...(controlSg ? { controlClientSecurityGroupId: controlSg as string } : {}),
    shards: (shardsRaw as string[][]).map((symbols) => ({ symbols })),
    ...(venues ? { venues } : {}),
    ...(peers ? { peerEndpoints: peers } : {}),
    ...(imageUri ? { imageUri } : {}),
  };
}

export class QuoterServiceConstruct extends Construct {
  readonly cluster: ecs.Cluster;
  readonly vpc: ec2.IVpc;
  readonly services: ecs.FargateService[] = [];
  readonly taskRoles: iam.Role[] = [];
  readonly logGroups: logs.LogGroup[] = [];
  readonly securityGroup: ec2.SecurityGroup;
  readonly controlSecret: secretsmanager.ISecret;
  /** The security group admitted to the control ports (given by context, or created here). */
  readonly controlClientSecurityGroup: ec2.ISecurityGroup;

  constructor(scope: Construct, id: string, props: QuoterServiceProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;
    this.vpc =
      props.vpc ??
      new ec2.Vpc(this, "Vpc", {
        ipAddresses: ec2.IpAddresses.cidr(QUOTER_VPC_CIDR),
        maxAzs: 2,
        natGateways: 1,
        subnetConfiguration: [
          { name: "public", subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
          { name: "quoter", subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 24 },
        ],
        flowLogs: { all: { trafficType: ec2.FlowLogTrafficType.REJECT } },
      });
    this.cluster = new ecs.Cluster(this, "Cluster", {
      vpc: this.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
      defaultCloudMapNamespace: { name: `tse-${props.envName}.local`, vpc: this.vpc },
    });
    this.securityGroup = new ec2.SecurityGroup(this, "TaskSecurityGroup", {
      vpc: this.vpc,
      description: "Quoter tasks: control API and metrics from the control-client group only; egress to peers and AWS",
      allowAllOutbound: true,
    });
    this.controlClientSecurityGroup = props.controlClientSecurityGroupId
      ? ec2.SecurityGroup.fromSecurityGroupId(this, "ControlClients", props.controlClientSecurityGroupId, {
          mutable: false,
        })
      : new ec2.SecurityGroup(this, "ControlClientSecurityGroup", {
          vpc: this.vpc,
          description: "Attach to what may reach the quoter control API and metrics (operator bastion or VPN)",
          allowAllOutbound: true,
        });
    if (!props.controlClientSecurityGroupId)
      new CfnOutput(this, "ControlClientSecurityGroupId", {
        value: this.controlClientSecurityGroup.securityGroupId,
        description: "Attach this security group to reach the quoters' control API (50057) and metrics (8087)",
      });
    this.securityGroup.addIngressRule(
      this.controlClientSecurityGroup,
      ec2.Port.tcp(QUOTER_GRPC_PORT),
      "engine control API, from the control-client group only",
    );
    this.securityGroup.addIngressRule(
      this.controlClientSecurityGroup,
      ec2.Port.tcp(QUOTER_HTTP_PORT),
      "health and metrics, from the control-client group only",
    );

    const modules = (props.strategyModules ?? []).map((m) => {
      const rel = path.relative(REPO_ROOT, path.resolve(m)).split(path.sep).join("/");
      if (rel.startsWith("..") || path.isAbsolute(rel))
        throw new Error(
          `strategyModules: ${JSON.stringify(m.slice(0, 64))} must be inside the repository (the image's build context)`,
        );
      return rel;
    });
    // guard: the control plane's TLS pair and token live in Secrets Manager; tasks get the ARN and a read grant.
    this.controlSecret =
      props.controlSecret ??
      new secretsmanager.Secret(this, "ControlSecret", {
        description: `tse ${props.envName} quoter control plane: TLS certificate, key and bearer token`,
        removalPolicy,
        generateSecretString: {
          secretStringTemplate: JSON.stringify({ certificatePem: "", privateKeyPem: "" }),
          generateStringKey: "token",
          passwordLength: 48,
          excludePunctuation: true,
        },
      });
    if (!props.controlSecret)
      Validations.of(this.controlSecret).acknowledge({
        id: `${NAG}-SMG4`,
        reason: "The certificate is issued outside AWS; rotation is the operator procedure in docs/deployment.md.",
      });

    const image = props.imageUri
      ? ecs.ContainerImage.fromRegistry(props.imageUri)
      : ecs.ContainerImage.fromAsset(REPO_ROOT, {
          file: "quoter/Dockerfile",
          platform: Platform.LINUX_ARM64,
          // Only the sources the build stage needs; the asset is staged at synth, built at deploy.
          // Allow-list (Docker ignore semantics): only what quoter/Dockerfile copies, plus the plug-ins.
          ignoreMode: IgnoreMode.DOCKER,
          exclude: [
            "*",
            "!package.json",
            "!package-lock.json",
            "!tsconfig.json",
            "!gen",
            "!lib",
            "!quoter",
            ...modules.map((m) => `!${m}`),
            "**/*.md",
          ],
          ...(modules.length > 0 ? { buildArgs: { STRATEGY_MODULES: modules.join(" ") } } : {}),
        });

    props.shards.forEach((shard, i) => {
      const name = `shard-${i}`;
      const taskRole = new iam.Role(this, `TaskRole${i}`, {
        assumedBy: new iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
        description: `Quoter ${name} (${shard.symbols.join(",")}): order journal, risk state, positions, bus, control secret`,
      });
      grantAccess(taskRole, QUOTER_ACCESS, { table: props.table, bus: props.bus });
      this.controlSecret.grantRead(taskRole);
      this.taskRoles.push(taskRole);
      const logGroup = new logs.LogGroup(this, `Logs${i}`, {
        logGroupName: `/tse/${props.envName}/quoter/${name}`,
        retention: props.logRetentionDays ?? logs.RetentionDays.ONE_WEEK,
        removalPolicy,
      });
      this.logGroups.push(logGroup);
      const task = new ecs.FargateTaskDefinition(this, `Task${i}`, {
        cpu: 512,
        memoryLimitMiB: 1024,
        taskRole,
        runtimePlatform: {
          cpuArchitecture: ecs.CpuArchitecture.ARM64,
          operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
        },
      });
      const environment: Record<string, string> = {
        TSE_QUOTER_SYMBOLS: shard.symbols.join(","),
        TSE_QUOTER_VENUES: (props.venues ?? ["venue-a", "venue-b"]).join(","),
        TSE_QUOTER_ID: `q${i}`,
        TSE_QUOTER_HOST: "0.0.0.0",
        TSE_QUOTER_GRPC_PORT: String(QUOTER_GRPC_PORT),
        TSE_QUOTER_HTTP_PORT: String(QUOTER_HTTP_PORT),
        TSE_EVENT_BUS_NAME: props.bus.eventBusName,
        TSE_TABLE_NAME: props.table.tableName,
        TSE_QUOTER_CONTROL_SECRET_ARN: this.controlSecret.secretArn, // a reference; the material stays in the secret
        AWS_REGION: Stack.of(this).region,
      };
      for (const [svc, ep] of Object.entries(props.peerEndpoints ?? {}))
        environment[`TSE_${svc.toUpperCase().replaceAll("-", "_")}_ENDPOINT`] = ep;
      task.addContainer("quoter", {
        image,
        essential: true,
        environment,
        logging: ecs.LogDrivers.awsLogs({ logGroup, streamPrefix: "quoter" }),
        portMappings: [
          { containerPort: QUOTER_GRPC_PORT, name: "grpc" },
          { containerPort: QUOTER_HTTP_PORT, name: "http" },
        ],
        healthCheck: {
          command: [
            "CMD",
            "node",
            "-e",
            // HTTPS with the deployment's certificate; the probe only asks whether the process answers.
            `require('https').get({host:'127.0.0.1',port:${QUOTER_HTTP_PORT},path:'/health',rejectUnauthorized:false},r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))`,
          ],
          interval: Duration.seconds(10),
          timeout: Duration.seconds(5),
          retries: 3,
          startPeriod: Duration.seconds(20),
        },
        // The quoter cancels its orders and flushes the bridge within 10 s of SIGTERM.
        stopTimeout: Duration.seconds(15),
        readonlyRootFilesystem: true,
        user: "10001",
      });
      const service = new ecs.FargateService(this, `Service${i}`, {
        cluster: this.cluster,
        taskDefinition: task,
        serviceName: `tse-${props.envName}-quoter-${name}`,
        desiredCount: 1,
        // Never two quoters of one shard at once: stop the old task (it cancels its orders) before the new one.
        minHealthyPercent: 0,
        maxHealthyPercent: 100,
        securityGroups: [this.securityGroup],
        vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        assignPublicIp: false,
        circuitBreaker: { rollback: true },
        cloudMapOptions: { name: `quoter-${name}`, containerPort: QUOTER_GRPC_PORT },
        enableExecuteCommand: false,
      });
      this.services.push(service);
      Validations.of(task).acknowledge({
        id: `${NAG}-ECS2`,
        reason:
          "Only non-secret configuration (symbols, ports, bus/table names, peer endpoints) is passed as environment.",
      });
      if (task.executionRole)
        Validations.of(task.executionRole).acknowledge({
          id: `${NAG}-IAM5[Resource::*]`,
          reason:
            "ecr:GetAuthorizationToken (image pull) supports no resource-level scoping; CDK grants it to the execution role.",
        });
    });
  }
}
