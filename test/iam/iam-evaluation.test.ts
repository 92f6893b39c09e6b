// Every AWS request the LocalStack tests made (recorded by lib/adapters/aws/requestRecorder.ts) against the
// synthesized stack's role policies, with a real IAM policy evaluator: nothing denied, nothing granted unused
// without a reason, and the committed recorded set (test/fixtures) equal to this run's. Runs in the "iam"
// project, after the localstack project (vitest.config.ts groupOrder).
import { readdirSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { OTHER_ROLES, TEST_ONLY_PRINCIPALS, UNUSED_ALLOWANCES } from "./allowList";
import { deniedRequests, describeAllowance, describeDenial, unusedAllowances } from "./evaluate";
import { diff, FIXTURE, readFixture, union, writeFixture } from "./fixture";
import { REPO, type Recording, readRecording } from "./recording";
import {
  type NormalizedRequest,
  normalize,
  type StackPolicies,
  stackPolicies,
  synthDeployedApp,
} from "./stackPolicies";

let recording: Recording;
let requests: NormalizedRequest[];
let stack: StackPolicies;

beforeAll(() => {
  recording = readRecording();
  requests = normalize(recording.requests);
  stack = stackPolicies(synthDeployedApp());
}, 120_000);

function incomplete(): string[] {
  const onDisk = readdirSync(path.join(REPO, "test/localstack"))
    .filter((f) => f.endsWith(".test.ts"))
    .map((f) => `test/localstack/${f}`);
  const ran = new Map(recording.files.map((f) => [f.file, f.ok]));
  return onDisk.flatMap((f) => (!ran.has(f) ? [`${f}: did not run`] : ran.get(f) ? [] : [`${f}: had failing tests`]));
}

describe("IAM: the recorded AWS requests against the synthesized policies", () => {
  it("a recording exists (the localstack project ran in this or an earlier run)", () => {
    expect(
      recording.requests.length,
      "no recorded AWS requests: run `npx vitest run --project localstack --project iam`",
    ).toBeGreaterThan(0);
    expect(requests.some((r) => r.principal === "quoter")).toBe(true);
  });

  it("no request by a deployed principal is denied (each names principal, action and resource)", async () => {
    const denied = await deniedRequests(stack, requests);
    expect(denied.map(describeDenial)).toEqual([]);
  });

  it("every principal that made requests is deployed, the test harness, or a test-only hosted function", () => {
    const principals = new Set(recording.requests.map((r) => r.principal));
    const known = new Set(["test-harness", ...Object.keys(stack.roles), ...Object.keys(TEST_ONLY_PRINCIPALS)]);
    expect([...principals].filter((p) => !known.has(p))).toEqual([]);
  });

  it("every role is a deployed principal's or explained", () => {
    expect(stack.otherRoles.filter((id) => !OTHER_ROLES.some((o) => o.logicalId.test(id)))).toEqual([]);
  });

  it("the recording covers every LocalStack test file, all passing", () => {
    expect(incomplete()).toEqual([]);
  });

  it("no allowance is unused unless the allow-list says why", async () => {
    expect(incomplete(), "needs a complete recording").toEqual([]);
    const unused = await unusedAllowances(stack, requests, UNUSED_ALLOWANCES);
    expect(unused.filter((u) => !u.reason).map((u) => describeAllowance(u.allowance))).toEqual([]);
  });

  it(`every recorded request is in the committed recorded set (${path.relative(REPO, FIXTURE)})`, () => {
    const committed = readFixture();
    const { added } = diff(committed, requests);
    // New behaviour is added for review and commit (a partial run only adds what it saw, never removes).
    if (added.length) writeFixture(union(committed, requests));
    expect(added, `${path.relative(REPO, FIXTURE)} was missing these and has been rewritten: review, commit`).toEqual(
      [],
    );
  });

  it("the committed recorded set has nothing this complete run did not record", () => {
    expect(incomplete(), "needs a complete recording").toEqual([]);
    const { removed } = diff(readFixture(), requests);
    if (removed.length) writeFixture(requests);
    expect(removed, `${path.relative(REPO, FIXTURE)} had stale entries and has been rewritten: review, commit`).toEqual(
      [],
    );
  });
});
