// The latency waterfall's hop instants without spans (tracing off): the quoter notes each order's tick, decision,
// place and ack and when it learns of the order's first fill; the session notes when fill-handling booked it (the
// PositionChanged that names the order). The same hops orderTimelines.ts reads from spans, at a few map writes
// per order and nothing per tick that places nothing.
import type { OrderTimeline } from "../report/waterfall";

const nowMs = () => performance.timeOrigin + performance.now();
const MAX_OPEN = 20_000;

type Open = { -readonly [K in keyof OrderTimeline]?: number };

export class OrderHopRecorder {
  private tickAt: number | undefined;
  private readonly thisTick: Open[] = [];
  private readonly open = new Map<string, Open>();
  private readonly done: OrderTimeline[] = [];

  /** A tick that may decide orders starts (the quoter's decision loop). */
  tickStarted(): void {
    this.tickAt = nowMs();
  }

  /** The tick's decision is made: the orders it queued get their decision instant; the tick is over. */
  decided(): void {
    if (this.tickAt === undefined) return;
    this.tickAt = undefined;
    if (this.thisTick.length === 0) return;
    const at = nowMs();
    for (const o of this.thisTick) o.decision = at;
    this.thisTick.length = 0;
  }

  /** An order queued inside a tick (others, e.g. a forced close, have no tick and are not followed). */
  queued(clientOrderId: string): void {
    if (this.tickAt === undefined) return;
    if (this.open.size >= MAX_OPEN) this.open.delete(this.open.keys().next().value!);
    const o: Open = { tick: this.tickAt };
    this.open.set(clientOrderId, o);
    this.thisTick.push(o);
  }

  placed(clientOrderId: string): void {
    const o = this.open.get(clientOrderId);
    if (o && o.place === undefined) o.place = nowMs();
  }

  acked(clientOrderId: string): void {
    const o = this.open.get(clientOrderId);
    if (o && o.ack === undefined) o.ack = nowMs();
  }

  /** The first fill of an order reached the quoter. */
  filled(clientOrderId: string): void {
    const o = this.open.get(clientOrderId);
    if (o && o.fill === undefined) o.fill = nowMs();
  }

  /** A published event: fill-handling's PositionChanged for a followed, filled order books it. */
  onPublished(e: { detailType: string; detail: unknown }): void {
    if (e.detailType !== "PositionChanged") return;
    const id = (e.detail as { data?: { clientOrderId?: unknown } } | undefined)?.data?.clientOrderId;
    if (typeof id !== "string") return;
    const o = this.open.get(id);
    if (!o || o.fill === undefined || o.decision === undefined || o.place === undefined || o.ack === undefined) return;
    this.open.delete(id);
    this.done.push({
      tick: o.tick!,
      decision: o.decision,
      place: o.place,
      ack: o.ack,
      fill: o.fill,
      booked: nowMs(),
    });
  }

  timelines(): readonly OrderTimeline[] {
    return this.done;
  }
}
