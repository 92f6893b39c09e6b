// The four functions as the stack deploys them: each builds its adapters the way Lambda does
// (createEngineDependencies over its environment), with that environment taken from the synthesized template —
// the stack's table and bus mapped onto this test's LocalStack ones, its settings from TSE_SETTINGS — and one set
// of dependencies per function (one process each in AWS), so each one's AWS requests are its own for the IAM
// evaluation (test/iam). The arbitrage scenario runs through them end to end.
import "../support/quietPowertools";
import { randomUUID } from "node:crypto";
import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHandler as fillHandling } from "../../functions/fill-handling/handler";
import { createHandler as orderPlacement } from "../../functions/order-placement/handler";
import { createHandler as reporting } from "../../functions/reporting/handler";
import { createHandler as settlement } from "../../functions/settlement/handler";
import { createHandler as signal } from "../../functions/signal/handler";
import { createTable, deleteTable } from "../../lib/adapters/aws/createTable";
import { DynamoDbStateStore } from "../../lib/adapters/aws/DynamoDbStateStore";
import { EventBridgeEventBus } from "../../lib/adapters/aws/EventBridgeEventBus";
import { instrumentAwsClient, runAsPrincipal } from "../../lib/adapters/aws/requestRecorder";
import { GrpcExchange } from "../../lib/adapters/GrpcExchange";
import { type CreatedDependencies, createEngineDependencies } from "../../lib/app/dependencies";
import type { LambdaHandler } from "../../lib/app/functionRuntime";
import { type FunctionName, localContext } from "../../lib/app/handlers";
import { ExecutionForwarder } from "../../lib/bridges/ExecutionForwarder";
import { buildBusEvent, toPutEventsEntry } from "../../lib/events";
import { envVarFor } from "../../lib/grpc/discovery";
import { FunctionHost } from "../../lib/local-aws";
import { ROUTES } from "../../lib/routing/routes";
import { CustodianSimulator } from "../../sim/custodian/CustodianSimulator";
import { type Cfn, synthDeployedApp } from "../iam/stackPolicies";
import { localstackClientConfig } from "../support/aws";
import { type EngineRig, startEngineRig, WIDE_BOOKS } from "../support/engineRig";
import { localClients } from "./awsClients";
import { until } from "./functionsHarness";

const CREATE: Record<FunctionName, (d: () => Promise<CreatedDependencies>) => LambdaHandler> = {
  signal,
  "order-placement": orderPlacement,
  "fill-handling": fillHandling,
  reporting,
  settlement,
};
const T0 = Date.now();
const run = `dep-${randomUUID().slice(0, 8)}`;
const tableName = `${run}-state`;
const busName = `${run}-bus`;
const { ddb, eventBridge, sqs } = localClients();
const created: CreatedDependencies[] = [];
let sims: EngineRig;
let custodian: CustodianSimulator;
let host: FunctionHost;
let forwarder: ExecutionForwarder;
let envOf: Record<string, Record<string, string>>;
let deployedHandlers: Record<string, LambdaHandler>;

/** Each function's environment from the template, the stack's resources replaced by this test's. */
function deployedEnvironments(
  template: Cfn,
  ids: { table: string; bus: string },
): Record<string, Record<string, string>> {
  const resources = template.Resources as Cfn;
  const map = (name: string, v: unknown): string => {
    if (typeof v === "string") return v;
    const ref = (v as { Ref?: string }).Ref;
    if (ref === ids.table) return tableName;
    if (ref === ids.bus) return busName;
    throw new Error(`${name}: the test cannot map ${JSON.stringify(v).slice(0, 64)} onto LocalStack`);
  };
  const out: Record<string, Record<string, string>> = {};
  for (const r of Object.values(resources) as Cfn[]) {
    if (r.Type !== "AWS::Lambda::Function") continue;
    const vars = r.Properties.Environment.Variables as Record<string, unknown>;
    const fn = String(vars.POWERTOOLS_SERVICE_NAME).replace(/^tse-/, "");
    out[fn] = Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, map(k, v)]));
  }
  return out;
}

beforeAll(async () => {
  const { stack, template } = synthDeployedApp();
  const idOf = (c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as never);
  envOf = deployedEnvironments(template, { table: idOf(stack.table), bus: idOf(stack.bus) });
  // The stack's settings defaults (the same TSE_SETTINGS for every function), with the LocalStack allowances the
  // other function tests use (this host's LocalStack takes seconds per hop, while the simulated exchange's clock
  // stands still).
  const deployed = new Set(Object.values(envOf).map((e) => e.TSE_SETTINGS));
  if (deployed.size !== 1) throw new Error(`expected one TSE_SETTINGS for every function, found ${deployed.size}`);
  const settings = JSON.parse([...deployed][0]!);
  settings.arbitrage.signalTtlMs = 600_000;
  settings.reporting.debounceMs = 0; // every change reported: the test waits for the report after both fills
  settings.settlement.openingBalances = {
    "venue-a": { USD: "1000000", BTC: "10" },
    "venue-b": { USD: "1000000", BTC: "10" },
  };
  for (const env of Object.values(envOf)) env.TSE_SETTINGS = JSON.stringify(settings);
  await createTable(ddb, tableName);
  sims = await startEngineRig({ now: T0 });
  // The stack's settings take buying power from the custodian (fail-closed): the stack deploys one, so does this.
  custodian = new CustodianSimulator({
    quiet: true,
    balances: settings.settlement.openingBalances,
    dayMs: 100,
    processingMs: 10,
    tickMs: 10,
  });
  await custodian.start(0);
  // Peers by discovery from the environment, as in AWS (TSE_<SERVICE>_ENDPOINT).
  process.env[envVarFor("exchange")] = sims.exchange.address;
  process.env[envVarFor("risk-monitor")] = sims.risk.address;
  process.env[envVarFor("configuration")] = sims.config.address;
  process.env[envVarFor("custodian")] = custodian.address;
  const handlers = Object.fromEntries(
    (Object.keys(CREATE) as FunctionName[]).map((name) => {
      const env = envOf[name];
      if (!env) throw new Error(`the template has no ${name} function`);
      return [
        name,
        CREATE[name](async () => {
          const d = createEngineDependencies(env);
          created.push(d);
          return d;
        }),
      ];
    }),
  );
  deployedHandlers = handlers;
  host = new FunctionHost({
    routes: ROUTES,
    handlers,
    eventBridge,
    sqs,
    eventBusName: busName,
    resourcePrefix: run,
    visibilityTimeoutSeconds: 30,
    retryDelaySeconds: 0,
    waitTimeSeconds: 1,
    deleteResourcesOnStop: true,
  });
  await host.start();
  // The quoter's bridge forwards the executions of the functions' orders; its own client (its own role).
  const quoterBus = new EventBridgeEventBus({
    eventBusName: busName,
    client: instrumentAwsClient(new EventBridgeClient(localstackClientConfig()), { principal: "quoter" }),
  });
  forwarder = new ExecutionForwarder({ exchange: new GrpcExchange(sims.peers.exchange), bus: quoterBus });
  forwarder.start();
}, 120_000);

afterAll(async () => {
  await forwarder?.stop().catch(() => {});
  await host?.stop();
  await host?.deleteBus().catch(() => {});
  for (const d of created) await d.close().catch(() => {});
  await sims?.stop();
  await custodian?.stop();
  await deleteTable(ddb, tableName).catch(() => {});
  for (const k of ["exchange", "risk-monitor", "configuration", "custodian"]) delete process.env[envVarFor(k)];
}, 60_000);

describe("the functions with the environment the stack deploys", () => {
  it("each function's environment names the stack's table and bus and carries the settings (no SSM parameter)", () => {
    for (const name of Object.keys(CREATE)) {
      expect(envOf[name], name).toMatchObject({ TSE_TABLE_NAME: tableName, TSE_EVENT_BUS_NAME: busName });
      expect(JSON.parse(envOf[name]!.TSE_SETTINGS!).strategyId, name).toBe("arb-1");
      expect(envOf[name]!.TSE_SETTINGS_PARAMETER, name).toBeUndefined();
      // Only the functions wired with the configuration client get its environment (signal and reporting: settings only).
      if (name === "signal" || name === "reporting") expect(envOf[name]?.TSE_CONFIG_ENVIRONMENT, name).toBeUndefined();
      else expect(envOf[name]?.TSE_CONFIG_ENVIRONMENT, name).toBe("dev");
    }
  });

  it("a 25 bps divergence becomes two orders, two fills, a flat position with 8 realized, and a report", async () => {
    const entries = WIDE_BOOKS.map((b, i) =>
      toPutEventsEntry(
        buildBusEvent(
          "tse.market",
          "MarketSnapshot",
          { ...b, sequence: 1, ts: new Date(T0).toISOString() },
          { now: T0 + i },
        ),
        busName,
      ),
    );
    const put = await eventBridge.send(new PutEventsCommand({ Entries: entries }));
    expect(put.FailedEntryCount ?? 0).toBe(0);
    const store = new DynamoDbStateStore({ client: ddb, tableName });
    const position = await until(
      async () => {
        const p = await store.getPosition("arb-1", "BTC-USD");
        return p && p.fillCount === 2 ? p : undefined;
      },
      "both fills on the position",
      60_000,
    );
    expect(position.quantity.toFixed()).toBe("0");
    expect(position.realizedPnl.toFixed()).toBe("8");
    const report = await until(
      async () => {
        const r = await store.getLatestReport("arb-1");
        return r?.metrics.tradeCount === 2 ? r : undefined;
      },
      "the report after the fills",
      60_000,
    );
    expect(report.trigger).toBe("POSITION_CHANGED");
    expect(report.metrics).toMatchObject({ realizedPnl: "8", fees: "3.204" });
    expect(created.length).toBe(Object.keys(CREATE).length); // one set of dependencies per function
  }, 150_000);

  it("settlement reconciles on demand with the deployed environment (its reads and publish run as its role)", async () => {
    const out = (await runAsPrincipal("settlement", () =>
      deployedHandlers.settlement!({ action: "reconcile", graceMs: 0 }, localContext("settlement")),
    )) as { reconciliationId: string; compared: number; breaks: unknown[] };
    expect(out.reconciliationId).toBeTruthy();
    expect(out.compared).toBeGreaterThan(0);
  }, 60_000);
});
