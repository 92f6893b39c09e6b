// gRPC test-coordinator simulator: records scenario statuses and chaos events and lists them.
import {
  type ChaosEvent,
  type GetActiveScenariosRequest,
  type GetActiveScenariosResponse,
  type ListChaosEventsRequest,
  type ListChaosEventsResponse,
  type ReportAck,
  type Scenario,
  ScenarioState,
  type ScenarioStatusReport,
  type TestCoordinatorServiceServer,
  TestCoordinatorServiceService,
} from "../../gen/proto/tse/coordinator/coordinator";
import { invalidArgument } from "../common/grpcErrors";
import { unary } from "../common/handlers";
import { type ServiceEntry, SimServer, type SimServerOptions } from "../common/SimServer";

export const COORDINATOR_SERVICE_NAME = "tse.coordinator.TestCoordinatorService";
export const DEFAULT_COORDINATOR_PORT = 50058;

const FINISHED = new Set([ScenarioState.PASSED, ScenarioState.FAILED, ScenarioState.ABORTED]);
const MAX_EVENTS = 10_000;

export interface TestCoordinatorSimulatorOptions extends SimServerOptions {
  now?: () => number;
}

export class TestCoordinatorSimulator extends SimServer {
  private readonly scenarios = new Map<string, Scenario>();
  private readonly events: ChaosEvent[] = [];
  private readonly now: () => number;
  private eventSeq = 0;

  constructor(opts: TestCoordinatorSimulatorOptions = {}) {
    super("coordinator-sim", opts);
    this.now = opts.now ?? Date.now;
  }

  reportScenarioStatus(r: ScenarioStatusReport): ReportAck {
    if (!r.scenarioId) throw invalidArgument("scenario_id", r.scenarioId, "must not be empty");
    if (!(r.state in ScenarioState) || r.state === ScenarioState.UNSPECIFIED || r.state < 0) {
      throw invalidArgument("state", r.state, "must be PENDING, RUNNING, PASSED, FAILED or ABORTED");
    }
    const ts = r.timestampMs || this.now();
    const report = { ...r, timestampMs: ts };
    const prev = this.scenarios.get(r.scenarioId);
    this.scenarios.set(r.scenarioId, {
      scenarioId: r.scenarioId,
      name: r.name || prev?.name || "",
      state: r.state,
      component: r.component || prev?.component || "",
      message: r.message,
      startedAtMs: prev?.startedAtMs ?? ts,
      updatedAtMs: ts,
      history: [...(prev?.history ?? []), report],
    });
    this.log.info("scenario status", {
      scenarioId: r.scenarioId,
      state: ScenarioState[r.state],
      component: r.component,
    });
    return { accepted: true, id: r.scenarioId };
  }

  reportChaosEvent(e: ChaosEvent): ReportAck {
    if (!e.kind) throw invalidArgument("kind", e.kind, "must not be empty");
    const event = { ...e, eventId: e.eventId || `chaos-${++this.eventSeq}`, timestampMs: e.timestampMs || this.now() };
    this.events.push(event);
    if (this.events.length > MAX_EVENTS) this.events.shift();
    this.log.info("chaos event", { eventId: event.eventId, kind: e.kind, phase: e.phase, target: e.target });
    return { accepted: true, id: event.eventId };
  }

  activeScenarios(includeFinished = false): Scenario[] {
    return [...this.scenarios.values()].filter((s) => includeFinished || !FINISHED.has(s.state));
  }

  chaosEvents(scenarioId = ""): ChaosEvent[] {
    return this.events.filter((e) => !scenarioId || e.scenarioId === scenarioId);
  }

  protected services(): ServiceEntry[] {
    return [
      {
        name: COORDINATOR_SERVICE_NAME,
        definition: TestCoordinatorServiceService,
        impl: {
          reportScenarioStatus: unary<ScenarioStatusReport, ReportAck>((r) => this.reportScenarioStatus(r)),
          reportChaosEvent: unary<ChaosEvent, ReportAck>((e) => this.reportChaosEvent(e)),
          getActiveScenarios: unary<GetActiveScenariosRequest, GetActiveScenariosResponse>((r) => ({
            scenarios: this.activeScenarios(r.includeFinished),
          })),
          listChaosEvents: unary<ListChaosEventsRequest, ListChaosEventsResponse>((r) => ({
            events: this.chaosEvents(r.scenarioId),
          })),
        } satisfies TestCoordinatorServiceServer,
      },
    ];
  }
}
