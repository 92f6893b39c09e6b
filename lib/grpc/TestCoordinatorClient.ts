// Typed test-coordinator client (scenario status and chaos events).
import {
  ChaosEvent,
  type DeepPartial,
  type GetActiveScenariosResponse,
  type ListChaosEventsResponse,
  type ReportAck,
  ScenarioStatusReport,
  TestCoordinatorServiceService,
} from "../../gen/proto/tse/coordinator/coordinator";
import type { CallOptions, ClientManager, ServiceSpec } from "./ClientManager";

export { ScenarioState } from "../../gen/proto/tse/coordinator/coordinator";

export const TEST_COORDINATOR_SPEC: ServiceSpec<typeof TestCoordinatorServiceService> = {
  name: "test-coordinator",
  definition: TestCoordinatorServiceService,
  defaultDeadlineMs: 2_000,
  methods: {
    // A status report sets the scenario's state: repeating it is harmless.
    reportScenarioStatus: { idempotent: true },
    // Not idempotent unless the caller sets event_id; not retried.
    reportChaosEvent: { idempotent: false },
    getActiveScenarios: { idempotent: true },
    listChaosEvents: { idempotent: true },
  },
};

export class TestCoordinatorClient {
  constructor(private readonly manager: ClientManager) {}

  reportScenarioStatus(report: DeepPartial<ScenarioStatusReport>, opts?: CallOptions): Promise<ReportAck> {
    const req = ScenarioStatusReport.fromPartial({ timestampMs: Date.now(), ...report });
    return this.manager.unary(TEST_COORDINATOR_SPEC, "reportScenarioStatus", req, opts);
  }

  /** Retried only when the caller supplies an eventId (then the coordinator can dedup). */
  reportChaosEvent(event: DeepPartial<ChaosEvent>, opts: CallOptions = {}): Promise<ReportAck> {
    const req = ChaosEvent.fromPartial({ timestampMs: Date.now(), ...event });
    return this.manager.unary(TEST_COORDINATOR_SPEC, "reportChaosEvent", req, {
      idempotent: Boolean(event.eventId),
      ...opts,
    });
  }

  getActiveScenarios(includeFinished = false, opts?: CallOptions): Promise<GetActiveScenariosResponse> {
    return this.manager.unary(TEST_COORDINATOR_SPEC, "getActiveScenarios", { includeFinished }, opts);
  }

  listChaosEvents(scenarioId = "", opts?: CallOptions): Promise<ListChaosEventsResponse> {
    return this.manager.unary(TEST_COORDINATOR_SPEC, "listChaosEvents", { scenarioId }, opts);
  }
}
