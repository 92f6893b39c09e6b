// The synthesized IAM against the committed recorded set (test/fixtures/iam-recorded-requests.json, written by
// the LocalStack run's IAM evaluation): a real policy evaluator allows every recorded request, every allowance is
// used or explained, and every single grant is needed — remove any one action from a role and a recorded
// request is denied.
import { beforeAll, describe, expect, it } from "vitest";
import { OTHER_ROLES, UNUSED_ALLOWANCES } from "../iam/allowList";
import { deniedRequests, describeAllowance, describeDenial, evaluate, unusedAllowances } from "../iam/evaluate";
import { readFixture } from "../iam/fixture";
import {
  type Cfn,
  DEPLOYED_PRINCIPALS,
  type NormalizedRequest,
  type StackPolicies,
  stackPolicies,
  synthDeployedApp,
} from "../iam/stackPolicies";

let synth: ReturnType<typeof synthDeployedApp>;
let stack: StackPolicies;
let recorded: NormalizedRequest[];

beforeAll(() => {
  synth = synthDeployedApp();
  stack = stackPolicies(synth);
  recorded = readFixture();
}, 120_000);

/** The template with `action` removed from every statement of `roleId`'s policies (statements left empty go). */
function withoutAction(template: Cfn, roleId: string, action: string): Cfn {
  const t = structuredClone(template);
  for (const r of Object.values(t.Resources as Cfn) as Cfn[]) {
    if (r.Type !== "AWS::IAM::Policy" || !(r.Properties.Roles as Cfn[]).some((x) => x.Ref === roleId)) continue;
    const doc = r.Properties.PolicyDocument;
    doc.Statement = (doc.Statement as Cfn[])
      .map((s) => ({ ...s, Action: [s.Action].flat().filter((a: string) => a !== action) }))
      .filter((s) => s.Action.length > 0);
  }
  return t;
}

describe("IAM of the synthesized stack against the recorded requests", () => {
  it("the recorded set covers every deployed principal", () => {
    for (const p of DEPLOYED_PRINCIPALS)
      expect(
        recorded.some((r) => r.principal === p),
        p,
      ).toBe(true);
  });

  it("allows every recorded request (0 denied)", async () => {
    expect((await deniedRequests(stack, recorded)).map(describeDenial)).toEqual([]);
  });

  it("grants nothing that no recorded request used, unless the allow-list says why (0 unexplained)", async () => {
    const unused = await unusedAllowances(stack, recorded, UNUSED_ALLOWANCES);
    expect(unused.filter((u) => !u.reason).map((u) => describeAllowance(u.allowance))).toEqual([]);
    // Every allow-list entry still explains something (no stale reasons).
    for (const e of UNUSED_ALLOWANCES)
      expect(
        unused.some((u) => u.reason === e.reason),
        e.reason,
      ).toBe(true);
  });

  it("every role is a deployed principal's or explained", () => {
    expect(stack.otherRoles.filter((id) => !OTHER_ROLES.some((o) => o.logicalId.test(id)))).toEqual([]);
  });

  it("removing any one action from the quoter's role denies a recorded quoter request, naming it", async () => {
    const role = stack.roles.quoter[0]!;
    const actions = [...new Set(role.policies.flatMap((d) => d.Statement.flatMap((s) => [s.Action].flat())))];
    expect(actions.length).toBeGreaterThanOrEqual(4);
    for (const action of actions.filter((a) => !UNUSED_ALLOWANCES.some((e) => e.action === a))) {
      const cut = stackPolicies(synth, withoutAction(synth.template, role.logicalId, action));
      const denied = (await deniedRequests(cut, recorded)).map(describeDenial);
      expect(denied.length, `without ${action}`).toBeGreaterThan(0);
      expect(denied.every((d) => d.startsWith(`quoter ${action} on `))).toBe(true);
    }
  });

  it("removing any one data-plane action from a function's role denies one of its recorded requests", async () => {
    for (const p of DEPLOYED_PRINCIPALS.filter((x) => x !== "quoter")) {
      const role = stack.roles[p][0]!;
      const actions = new Set(role.policies.flatMap((d) => d.Statement.flatMap((s) => [s.Action].flat())));
      for (const action of [...actions].filter((a) => !UNUSED_ALLOWANCES.some((e) => e.action === a))) {
        const cut = stackPolicies(synth, withoutAction(synth.template, role.logicalId, action));
        expect((await deniedRequests(cut, recorded)).length, `${p} without ${action}`).toBeGreaterThan(0);
      }
    }
  });

  it("the evaluator denies what no role grants (a scan, another table, the default bus, an unknown principal)", async () => {
    const q = stack.roles.quoter[0]!;
    expect((await evaluate(q.arn, q.policies, "dynamodb:Scan", stack.arnOf("table/state"))).verdict).toBe(
      "ImplicitlyDenied",
    );
    expect(
      (await evaluate(q.arn, q.policies, "dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:123456789012:table/other"))
        .verdict,
    ).toBe("ImplicitlyDenied");
    const denied = await deniedRequests(stack, [
      { principal: "signal", action: "events:PutEvents", resource: "event-bus/default" },
      { principal: "signal", action: "dynamodb:Scan", resource: "table/state" },
      { principal: "intruder", action: "dynamodb:GetItem", resource: "table/state" },
    ]);
    expect(denied.map((d) => `${d.principal} ${d.action}`)).toEqual([
      "signal events:PutEvents",
      "signal dynamodb:Scan",
      "intruder dynamodb:GetItem",
    ]);
  });
});
