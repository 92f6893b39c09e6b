// Every risk rule on the serverless path through the function host on LocalStack (EventBridge rules → SQS taps →
// the real handlers, DynamoDB state): the same scenarios as the embedded bus, with real conditional writes.
import "../support/quietPowertools";
import { afterEach, describe, it } from "vitest";
import { RISK_SCENARIOS } from "../support/riskScenarios";
import { type FunctionsRig, settled, startFunctionsRig } from "./functionsHarness";

let rig: FunctionsRig | undefined;
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

describe("every risk rule, serverless path (function host on LocalStack)", () => {
  for (const scenario of RISK_SCENARIOS) {
    it(scenario.name, { timeout: 180_000 }, async () => {
      const t0 = Date.now();
      const r = await startFunctionsRig({ now: t0, settings: scenario.settings });
      rig = r;
      await scenario.run(
        {
          store: r.store,
          sims: r.sims,
          publish: (events) => r.putEvents(events),
          idle: async () => {
            await r.forwarder.flush();
            await settled(r, ["signal", "order-placement", "fill-handling"], 60_000);
          },
          maxPlacementsInFlight: () => r.observed["order-placement"]?.maxInFlight ?? 0,
        },
        t0,
      );
    });
  }
});
