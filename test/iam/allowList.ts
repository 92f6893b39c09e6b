// Why the stack grants what no recorded request uses. Each entry is an allowance the AWS runtime itself exercises
// with the principal's role, where no SDK call of ours (and so no recording) can show it.
import { FUNCTION_NAMES } from "../../lib/app/handlers";
import type { UnusedAllowance } from "./evaluate";

export const UNUSED_ALLOWANCES: readonly UnusedAllowance[] = [
  {
    principals: FUNCTION_NAMES,
    action: "logs:CreateLogStream",
    resource: /^arn:aws:logs:.*:log-group:.*/,
    reason: "the Lambda service creates the function's log stream with its role (its own log group only)",
  },
  {
    principals: FUNCTION_NAMES,
    action: "logs:PutLogEvents",
    resource: /^arn:aws:logs:.*:log-group:.*/,
    reason: "the Lambda service ships the function's stdout/stderr with its role (its own log group only)",
  },
  {
    principals: FUNCTION_NAMES,
    action: "xray:PutTraceSegments",
    resource: /^\*$/,
    reason: "active tracing: Lambda's X-Ray daemon sends the segments with the function's role",
  },
  {
    principals: FUNCTION_NAMES,
    action: "xray:PutTelemetryRecords",
    resource: /^\*$/,
    reason: "active tracing: Lambda's X-Ray daemon sends its telemetry with the function's role",
  },
  {
    principals: ["settlement"],
    action: "dynamodb:GetItem",
    resource: /^arn:aws:dynamodb:.*:table\/[^/]+$/,
    reason:
      "reconciliation with settlement.reducingOnBreak (off by default) reads the risk state before setting REDUCING",
  },
  {
    principals: ["settlement"],
    action: "dynamodb:PutItem",
    resource: /^arn:aws:dynamodb:.*:table\/[^/]+$/,
    reason: "reconciliation with settlement.reducingOnBreak (off by default) writes REDUCING into the risk state",
  },
  {
    principals: ["quoter"],
    action: "secretsmanager:DescribeSecret",
    resource: /^arn:aws:secretsmanager:.*:secret:.*/,
    reason:
      "secret.grantRead (the CDK grant for reading a secret) always pairs DescribeSecret with GetSecretValue; the quoter only calls GetSecretValue",
  },
];

/** Roles in the template that belong to no deployed principal of ours, and why they are not evaluated. */
export const OTHER_ROLES: readonly { logicalId: RegExp; reason: string }[] = [
  {
    logicalId: /^QuoterTask\d+ExecutionRole/,
    reason: "ECS task execution role: ECS pulls the image and writes the container's logs with it, not our code",
  },
  {
    logicalId: /^QuoterVpc.*IAMRole/,
    reason: "VPC flow logs delivery role, used by the EC2 service",
  },
];

/** Hosted functions of test/localstack/functionHost.test.ts: test code, not deployed, so not evaluated. */
export const TEST_ONLY_PRINCIPALS: Record<string, string> = {
  "snapshot-recorder": "functionHost.test.ts's recording handler (tests the host, is deployed nowhere)",
  "always-fails": "functionHost.test.ts's failing handler",
  "fails-thrice": "functionHost.test.ts's flaky handler",
  slow: "functionHost.test.ts's slow handler",
  orphan: "functionHost.test.ts's handler without a route",
};
