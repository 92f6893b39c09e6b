// Each traced order's timeline, read from finished spans in this process: the quoter's tick span (tick, decision),
// its PlaceOrder client span (place, ack), the ExecutionReported create span (fill seen) and fill-handling's
// process span (booked). Feeds the report's latency waterfall.
import type { ReadableSpan } from "@opentelemetry/sdk-trace";
import type { OrderTimeline } from "../report/waterfall";
import { onSpanEnd } from "./tracing";

const ms = (t: [number, number]) => t[0] * 1e3 + t[1] / 1e6;
const MAX_SPANS = 200_000;

export class OrderTimelineCollector {
  private readonly spans = new Map<string, ReadableSpan>();
  private readonly orders: OrderTimeline[] = [];
  private readonly seenPlaces = new Set<string>();
  private off: (() => void) | undefined;

  start(): this {
    this.off ??= onSpanEnd((s) => this.onEnd(s));
    return this;
  }

  stop(): void {
    this.off?.();
    this.off = undefined;
  }

  timelines(): readonly OrderTimeline[] {
    return this.orders;
  }

  private parent(s: ReadableSpan | undefined): ReadableSpan | undefined {
    const id = s?.parentSpanContext?.spanId;
    return id ? this.spans.get(id) : undefined;
  }

  private onEnd(s: ReadableSpan): void {
    if (this.spans.size >= MAX_SPANS) this.spans.delete(this.spans.keys().next().value!);
    this.spans.set(s.spanContext().spanId, s);
    if (s.name !== "process ExecutionReported") return;
    const create = this.parent(s);
    const server = this.parent(create);
    const client = this.parent(server);
    const tick = this.parent(client);
    if (!create || !client || tick?.name !== "quoter.tick") return;
    const placeId = client.spanContext().spanId;
    if (this.seenPlaces.has(placeId)) return; // the first fill of an order
    this.seenPlaces.add(placeId);
    this.orders.push({
      tick: ms(tick.startTime),
      decision: ms(tick.endTime),
      place: ms(client.startTime),
      ack: ms(client.endTime),
      fill: ms(create.startTime),
      booked: ms(s.endTime),
    });
  }
}
