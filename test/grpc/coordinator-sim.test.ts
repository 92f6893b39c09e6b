// Test-coordinator simulator: records scenario statuses and chaos events and lists them.
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ScenarioState, TestCoordinatorServiceClient } from "../../gen/proto/tse/coordinator/coordinator";
import { TestCoordinatorSimulator } from "../../sim/coordinator/TestCoordinatorSimulator";
import { connect, rejectsWith, rpc } from "./rpc";

describe("test coordinator simulator", () => {
  let sim: TestCoordinatorSimulator;
  let raw: InstanceType<typeof TestCoordinatorServiceClient>;
  let tc: ReturnType<typeof rpc<InstanceType<typeof TestCoordinatorServiceClient>>>;

  beforeAll(async () => {
    sim = new TestCoordinatorSimulator({ quiet: true, shutdownTimeoutMs: 500 });
    raw = connect(TestCoordinatorServiceClient, `127.0.0.1:${await sim.start(0)}`);
    tc = rpc(raw);
  });
  afterAll(async () => {
    raw.close();
    await sim.stop();
  });

  it("tracks scenarios through their states and lists active ones", async () => {
    const report = (scenarioId: string, state: ScenarioState, message = "") =>
      tc.reportScenarioStatus({
        scenarioId,
        name: `n-${scenarioId}`,
        state,
        component: "tse",
        message,
        timestampMs: 0,
        details: { k: "v" },
      });
    expect(await report("s1", ScenarioState.RUNNING)).toEqual({ accepted: true, id: "s1" });
    await report("s2", ScenarioState.RUNNING);
    await report("s2", ScenarioState.PASSED, "ok");
    const active = await tc.getActiveScenarios({ includeFinished: false });
    expect(active.scenarios.map((s) => s.scenarioId)).toEqual(["s1"]);
    const all = await tc.getActiveScenarios({ includeFinished: true });
    const s2 = all.scenarios.find((s) => s.scenarioId === "s2")!;
    expect(s2.state).toBe(ScenarioState.PASSED);
    expect(s2.history.map((h) => h.state)).toEqual([ScenarioState.RUNNING, ScenarioState.PASSED]);
    expect(s2.history[0]!.details).toEqual({ k: "v" });
  });

  it("records chaos events and filters them by scenario", async () => {
    const a = await tc.reportChaosEvent({
      eventId: "",
      scenarioId: "s1",
      kind: "exchange_latency",
      target: "exchange",
      phase: "started",
      message: "500ms",
      timestampMs: 0,
      details: { latency_ms: "500" },
    });
    expect(a.id).toMatch(/^chaos-/);
    await tc.reportChaosEvent({
      eventId: "e2",
      scenarioId: "other",
      kind: "config_outage",
      target: "config",
      phase: "started",
      message: "",
      timestampMs: 5,
      details: {},
    });
    const mine = await tc.listChaosEvents({ scenarioId: "s1" });
    expect(mine.events).toHaveLength(1);
    expect(mine.events[0]).toMatchObject({ kind: "exchange_latency", details: { latency_ms: "500" } });
    expect((await tc.listChaosEvents({ scenarioId: "" })).events).toHaveLength(2);
  });

  it("bad input → INVALID_ARGUMENT naming field and value", async () => {
    const e1 = await rejectsWith(
      tc.reportScenarioStatus({
        scenarioId: "",
        name: "",
        state: ScenarioState.RUNNING,
        component: "",
        message: "",
        timestampMs: 0,
        details: {},
      }),
      status.INVALID_ARGUMENT,
    );
    expect(e1.details).toContain('scenario_id=""');
    const e2 = await rejectsWith(
      tc.reportScenarioStatus({
        scenarioId: "x",
        name: "",
        state: ScenarioState.UNSPECIFIED,
        component: "",
        message: "",
        timestampMs: 0,
        details: {},
      }),
      status.INVALID_ARGUMENT,
    );
    expect(e2.details).toContain("state=0");
    const e3 = await rejectsWith(
      tc.reportChaosEvent({
        eventId: "",
        scenarioId: "",
        kind: "",
        target: "",
        phase: "",
        message: "",
        timestampMs: 0,
        details: {},
      }),
      status.INVALID_ARGUMENT,
    );
    expect(e3.details).toContain('kind=""');
  });
});
