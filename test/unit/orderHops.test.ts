import { describe, expect, it } from "vitest";
import { OrderHopRecorder } from "../../lib/telemetry/orderHops";

const booked = (clientOrderId: string) => ({ detailType: "PositionChanged", detail: { data: { clientOrderId } } });
const spin = () => {
  const t = performance.now();
  while (performance.now() - t < 0.2);
};

describe("order hop instants without spans", () => {
  it("an order queued in a tick gets tick ≤ decision ≤ place ≤ ack ≤ fill ≤ booked, once", () => {
    const r = new OrderHopRecorder();
    r.tickStarted();
    r.queued("o-1");
    spin();
    r.decided();
    for (const step of [() => r.placed("o-1"), () => r.acked("o-1"), () => r.filled("o-1")]) {
      spin();
      step();
    }
    r.filled("o-1"); // a second fill keeps the first instant
    spin();
    r.onPublished(booked("o-1"));
    r.onPublished(booked("o-1")); // booked once
    const [t, ...rest] = r.timelines();
    expect(rest).toEqual([]);
    const at = [t!.tick, t!.decision, t!.place, t!.ack, t!.fill, t!.booked];
    for (let i = 1; i < at.length; i++) expect(at[i]!).toBeGreaterThan(at[i - 1]!);
  });

  it("follows only orders a tick queued, and books only filled ones", () => {
    const r = new OrderHopRecorder();
    r.queued("outside"); // a forced close: no tick
    r.tickStarted();
    r.queued("unfilled");
    r.decided();
    r.queued("after"); // the tick is over
    for (const id of ["outside", "unfilled", "after"]) {
      r.placed(id);
      r.acked(id);
    }
    r.filled("outside");
    r.filled("after");
    for (const id of ["outside", "unfilled", "after"]) r.onPublished(booked(id));
    r.onPublished({ detailType: "ExecutionReported", detail: { data: { clientOrderId: "unfilled" } } });
    expect(r.timelines()).toEqual([]);
  });
});
