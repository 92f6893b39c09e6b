// Recorded requests against the stack's role policies, with a real IAM policy evaluator
// (@cloud-copilot/iam-simulate): which requests a role would deny, and which allowances no request used.
import { runSimulation } from "@cloud-copilot/iam-simulate";
import {
  ACCOUNT,
  DEPLOYED_PRINCIPALS,
  type DeployedPrincipal,
  type NormalizedRequest,
  type PolicyDocument,
  type StackPolicies,
} from "./stackPolicies";

/** Allowances no recorded request can use, each with the reason it is still needed. */
export interface UnusedAllowance {
  principals: readonly DeployedPrincipal[];
  action: string;
  /** Matched against the allowance's resolved resource ARN. */
  resource: RegExp;
  reason: string;
}

export type Verdict = "Allowed" | "ImplicitlyDenied" | "ExplicitlyDenied" | "Error";

/** The evaluator's verdict on one request by a role with these identity policies (no resource policy). */
export async function evaluate(
  roleArn: string,
  policies: readonly PolicyDocument[],
  action: string,
  resourceArn: string,
): Promise<{ verdict: Verdict; detail?: string }> {
  const r = await runSimulation(
    {
      request: {
        principal: roleArn,
        action,
        resource: { resource: resourceArn, accountId: ACCOUNT },
        contextVariables: {},
      },
      identityPolicies: policies.map((policy, i) => ({ name: `policy-${i}`, policy })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  if (r.resultType === "error") return { verdict: "Error", detail: JSON.stringify(r.errors).slice(0, 300) };
  return { verdict: r.overallResult as Verdict };
}

export interface Denial {
  principal: string;
  action: string;
  resource: string;
  role: string;
  verdict: Verdict;
  detail?: string;
}

const isDeployed = (p: string): p is DeployedPrincipal => (DEPLOYED_PRINCIPALS as readonly string[]).includes(p);

/** Every request not allowed by every role of its principal (a principal with no role is a denial too). */
export async function deniedRequests(stack: StackPolicies, requests: readonly NormalizedRequest[]): Promise<Denial[]> {
  const denials: Denial[] = [];
  for (const q of requests) {
    if (!isDeployed(q.principal)) {
      denials.push({ ...q, role: "(none: not a deployed principal)", verdict: "ImplicitlyDenied" });
      continue;
    }
    if (stack.roles[q.principal].length === 0)
      denials.push({ ...q, role: "(none: the stack has no role for it)", verdict: "ImplicitlyDenied" });
    for (const role of stack.roles[q.principal]) {
      const r = await evaluate(role.arn, role.policies, q.action, stack.arnOf(q.resource));
      if (r.verdict !== "Allowed") denials.push({ ...q, role: role.logicalId, verdict: r.verdict, detail: r.detail });
    }
  }
  return denials;
}

export interface Allowance {
  principal: DeployedPrincipal;
  role: string;
  action: string;
  resource: string;
}

/** Every (action, resource) an Allow statement of a deployed principal's role grants. */
export function allowances(stack: StackPolicies): Allowance[] {
  const out: Allowance[] = [];
  for (const principal of DEPLOYED_PRINCIPALS)
    for (const role of stack.roles[principal])
      for (const doc of role.policies)
        for (const s of doc.Statement) {
          if (s.Effect !== "Allow") continue;
          for (const action of [s.Action].flat())
            for (const resource of [s.Resource].flat()) out.push({ principal, role: role.logicalId, action, resource });
        }
  return out;
}

/**
 * Allowances that no recorded request of their principal used: a request uses an allowance when a policy of
 * that one action on that one resource allows it. Returned with the allow-list entry that explains each, if any.
 */
export async function unusedAllowances(
  stack: StackPolicies,
  requests: readonly NormalizedRequest[],
  explained: readonly UnusedAllowance[],
): Promise<{ allowance: Allowance; reason?: string }[]> {
  const out: { allowance: Allowance; reason?: string }[] = [];
  for (const a of allowances(stack)) {
    const single: PolicyDocument = {
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: a.action, Resource: a.resource }],
    };
    const role = stack.roles[a.principal].find((r) => r.logicalId === a.role)!;
    let used = false;
    for (const q of requests) {
      if (q.principal !== a.principal || q.action.toLowerCase() !== a.action.toLowerCase()) continue;
      if ((await evaluate(role.arn, [single], q.action, stack.arnOf(q.resource))).verdict === "Allowed") {
        used = true;
        break;
      }
    }
    if (used) continue;
    const entry = explained.find(
      (e) => e.principals.includes(a.principal) && e.action === a.action && e.resource.test(a.resource),
    );
    out.push({ allowance: a, ...(entry ? { reason: entry.reason } : {}) });
  }
  return out;
}

export const describeDenial = (d: Denial) =>
  `${d.principal} ${d.action} on ${d.resource} (role ${d.role}: ${d.verdict}${d.detail ? ` ${d.detail}` : ""})`;
export const describeAllowance = (a: Allowance) => `${a.principal} ${a.action} on ${a.resource} (role ${a.role})`;
