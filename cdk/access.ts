// What each deployed principal does with the engine's resources, and the CDK grants that allow exactly that.
// The declarations are checked, not trusted: test/iam evaluates every AWS request the LocalStack tests record
// against the synthesized policies (nothing denied), and every allowance against those requests (nothing unused
// without a reason); test/cdk derives the expected grants from the recorded set (test/fixtures).
import type * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import type * as events from "aws-cdk-lib/aws-events";
import * as iam from "aws-cdk-lib/aws-iam";
import { GSI1, GSI2 } from "../lib/adapters/aws/tableDefinition";

type TableAction =
  | "dynamodb:GetItem"
  | "dynamodb:BatchGetItem"
  | "dynamodb:Query"
  | "dynamodb:PutItem"
  | "dynamodb:UpdateItem"
  | "dynamodb:DeleteItem"
  | "dynamodb:ConditionCheckItem"
  | "dynamodb:BatchWriteItem";

export interface ResourceAccess {
  /** Item actions on the state table itself (a transaction needs each item's action). */
  table?: TableAction[];
  /** Query per GSI, by index name. */
  queryIndexes?: (typeof GSI1 | typeof GSI2)[];
  /** events:PutEvents on the engine bus. */
  putEvents?: boolean;
}

export const FUNCTION_ACCESS: Record<string, ResourceAccess> = {
  // Snapshots (conditional put; the other venues read by key in one BatchGetItem; a stale one reads the stored),
  // idempotency claims.
  signal: {
    table: ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:PutItem"],
    putEvents: true,
  },
  // The signal and the risk state read together (one BatchGetItem), positions by index, then decision + orders +
  // risk state in one transaction (puts); order status moves (get, conditional put).
  "order-placement": {
    table: ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:PutItem"],
    queryIndexes: [GSI1],
    putEvents: true,
  },
  // Order + position + fill read together and written in one transaction (puts) with the risk state; a duplicate
  // reads the position.
  "fill-handling": {
    table: ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:PutItem"],
    putEvents: true,
  },
  // Positions, fills, snapshots and equity points by key and by index; the report, equity points in a batch.
  reporting: {
    table: ["dynamodb:Query", "dynamodb:PutItem", "dynamodb:BatchWriteItem"],
    queryIndexes: [GSI1, GSI2],
    putEvents: true,
  },
  // Fill-booked events → custodian instructions (gRPC only); reconciliation reads positions and fills by index and
  // publishes ReconciliationCompleted / RiskAlert. With reducingOnBreak it also reads and writes the risk state.
  settlement: {
    table: ["dynamodb:GetItem", "dynamodb:PutItem"],
    queryIndexes: [GSI1, GSI2],
    putEvents: true,
  },
};

/** The quoter: its order journal and trading state (get, conditional put), position reconciliation, the bridge. */
export const QUOTER_ACCESS: ResourceAccess = {
  table: ["dynamodb:GetItem", "dynamodb:PutItem"],
  queryIndexes: [GSI1],
  putEvents: true,
};

export interface AccessTargets {
  table: dynamodb.ITable;
  bus: events.IEventBus;
}

/**
 * Grant `grantee` exactly `access`: table actions on the table ARN, Query on the named indexes (`table.grant()`
 * would add `index/*` to every action), PutEvents through the bus's own grant. No wildcard resource.
 */
export function grantAccess(grantee: iam.IGrantable, access: ResourceAccess, targets: AccessTargets): void {
  const { table, bus } = targets;
  if (access.table?.length)
    iam.Grant.addToPrincipal({ grantee, actions: access.table, resourceArns: [table.tableArn] });
  if (access.queryIndexes?.length)
    iam.Grant.addToPrincipal({
      grantee,
      actions: ["dynamodb:Query"],
      resourceArns: access.queryIndexes.map((i) => `${table.tableArn}/index/${i}`),
    });
  if (access.putEvents) bus.grantPutEventsTo(grantee);
}
