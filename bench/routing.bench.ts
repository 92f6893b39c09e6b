// Routing/event-contract costs on the embedded hot path, each next to a baseline measured in the same run:
// - matching one event against the whole routing table (pattern by pattern, and as one set flattening the
//   event once, as the bus does) vs. the JSON round trip the bus does anyway;
// - validating an EventBridge event with the zod contracts vs. JSON.parse alone;
// - InProcessEventBus end-to-end throughput vs. invoking the handler directly.
import { InProcessEventBus } from "../lib/adapters/embedded/InProcessEventBus";
import { buildBusEvent, parseEventBridgeEvent, toEventBridgeEvent } from "../lib/events";
import { compileEventPattern, compilePatternSet } from "../lib/routing/matchEventPattern";
import { ROUTES } from "../lib/routing/routes";
import { SAMPLE_DATA, T0 } from "../test/fixtures/samples";

const RUNS = 5;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};
const nsPer = (n: number, fn: () => void): number => {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / n;
};
let sink = 0;

export async function run(progress: (m: string) => void): Promise<Record<string, number>> {
  const snapshot = toEventBridgeEvent(
    buildBusEvent("tse.market", "MarketSnapshot", SAMPLE_DATA.MarketSnapshot, { now: T0 }),
  );
  const execution = toEventBridgeEvent(
    buildBusEvent("tse.exchange", "ExecutionReported", SAMPLE_DATA.ExecutionReported, { now: T0 }),
  );
  const executionJson = JSON.stringify(execution);
  const compiled = ROUTES.map((r) => compileEventPattern(r.eventPattern));
  const routeAll = compilePatternSet(compiled);
  const N = 20_000;

  const match: number[] = [];
  const matchSet: number[] = [];
  const copy: number[] = [];
  const parse: number[] = [];
  const jsonOnly: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    match.push(
      nsPer(N, () => {
        for (let i = 0; i < N; i++) for (const c of compiled) if (c.matches(snapshot)) sink++;
      }),
    );
    matchSet.push(
      nsPer(N, () => {
        for (let i = 0; i < N; i++) if (routeAll(snapshot)[0]) sink++;
      }),
    );
    copy.push(
      nsPer(N, () => {
        for (let i = 0; i < N; i++)
          sink += (JSON.parse(JSON.stringify(snapshot)) as { version: string }).version.length;
      }),
    );
    parse.push(
      nsPer(N, () => {
        for (let i = 0; i < N; i++)
          sink += parseEventBridgeEvent(executionJson, "ExecutionReported").detail.data.price.length;
      }),
    );
    jsonOnly.push(
      nsPer(N, () => {
        for (let i = 0; i < N; i++) sink += (JSON.parse(executionJson) as { id: string }).id.length;
      }),
    );
    progress(`run ${r + 1}/${RUNS}: match ${match[r]?.toFixed(0)} ns, parse ${parse[r]?.toFixed(0)} ns`);
  }

  const E = 20_000;
  const busRate: number[] = [];
  const directRate: number[] = [];
  const events = Array.from({ length: E }, () =>
    buildBusEvent("tse.market", "MarketSnapshot", SAMPLE_DATA.MarketSnapshot, { now: T0 }),
  );
  for (let r = 0; r < RUNS; r++) {
    const bus = new InProcessEventBus();
    let got = 0;
    bus.register("signal", () => {
      got++;
    });
    let t0 = process.hrtime.bigint();
    await bus.publish(events);
    await bus.whenIdle();
    busRate.push(got / (Number(process.hrtime.bigint() - t0) / 1e9));
    // Baseline: the same handler called directly with a JSON copy of each event, no routing, no queue.
    let direct = 0;
    const handler = (e: unknown) => {
      if (e) direct++;
    };
    t0 = process.hrtime.bigint();
    for (const e of events) await handler(JSON.parse(JSON.stringify(e)));
    directRate.push(direct / (Number(process.hrtime.bigint() - t0) / 1e9));
  }
  if (sink === -1) progress("unreachable");

  return {
    "routing.match_each_route.ns_per_event": Math.round(median(match)),
    "routing.match_route_set.ns_per_event": Math.round(median(matchSet)),
    "routing.baseline_json_copy.ns_per_event": Math.round(median(copy)),
    "events.parse_execution.ns_per_event": Math.round(median(parse)),
    "events.baseline_json_parse.ns_per_event": Math.round(median(jsonOnly)),
    "bus.inprocess.events_per_sec": Math.round(median(busRate)),
    "bus.baseline_direct_call.events_per_sec": Math.round(median(directRate)),
  };
}
