// Every risk rule on the serverless path through the embedded bus (in-process adapters, simulators on loopback):
// order-placement denies with the rule's name from the risk state shared with fill-handling (and the quoter).
import { GrpcExchange } from "../../lib/adapters/GrpcExchange";
import "../support/quietPowertools";
import { afterEach, describe, it } from "vitest";
import { InMemoryStateStore } from "../../lib/adapters/embedded/InMemoryStateStore";
import { InProcessEventBus } from "../../lib/adapters/embedded/InProcessEventBus";
import { createFunctionHandlers, registerFunctions } from "../../lib/app/handlers";
import { ExecutionForwarder } from "../../lib/bridges/ExecutionForwarder";
import { InstrumentRegistry } from "../../lib/domain/instruments";
import { type EngineRig, startEngineRig } from "../support/engineRig";
import { RISK_SCENARIOS } from "../support/riskScenarios";

let rig: EngineRig | undefined;
let forwarder: ExecutionForwarder | undefined;
afterEach(async () => {
  await forwarder?.stop();
  forwarder = undefined;
  await rig?.stop();
  rig = undefined;
});

describe("every risk rule, serverless path (embedded bus)", () => {
  for (const scenario of RISK_SCENARIOS) {
    it(scenario.name, async () => {
      const t0 = Date.now();
      rig = await startEngineRig({ now: t0, settings: scenario.settings });
      const store = new InMemoryStateStore();
      // Concurrent deliveries per function, as Lambda runs them (the 16-placement race needs real overlap).
      const bus = new InProcessEventBus({ retryDelayMs: () => 5, concurrency: 16 });
      let inFlight = 0;
      let maxInFlight = 0;
      const handlers = createFunctionHandlers({
        store,
        bus,
        settings: rig.settings,
        exchange: new GrpcExchange(rig.peers.exchange),
        riskMonitor: rig.peers.risk,
        instruments: new InstrumentRegistry(),
        clock: Date.now,
      });
      const place = handlers["order-placement"];
      handlers["order-placement"] = async (event, context) => {
        maxInFlight = Math.max(maxInFlight, ++inFlight);
        try {
          return await place(event, context);
        } finally {
          inFlight--;
        }
      };
      registerFunctions(bus, handlers);
      forwarder = new ExecutionForwarder({ exchange: new GrpcExchange(rig.peers.exchange), bus });
      forwarder.start();
      const sims = rig;
      await scenario.run(
        {
          store,
          sims,
          publish: async (events) => {
            await bus.publish(events);
          },
          idle: async () => {
            await forwarder?.flush();
            await bus.whenIdle({ timeoutMs: 10_000 });
          },
          maxPlacementsInFlight: () => maxInFlight,
        },
        t0,
      );
    });
  }
});
