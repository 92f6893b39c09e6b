// EventBus decorator: counts what is published, by detail-type, and lets the session watch the events
// (dashboard fills, terminal view, the e2e counts) in both modes: the in-process bus and EventBridge.
import type { BusEvent, EventBus, PublishResult } from "../lib/ports/EventBus";

/** A PositionChanged is one position version: a redelivered fill re-announces the version it booked. */
const versionOf = (e: BusEvent): string | undefined => {
  if (e.detailType !== "PositionChanged") return undefined;
  const d = e.detail.data as { strategyId: string; venue: string; symbol: string; version: number };
  return `${d.strategyId}|${d.venue}|${d.symbol}|${d.version}`;
};

export class CountingEventBus implements EventBus {
  private readonly counts = new Map<string, number>();
  private readonly positionVersions = new Set<string>();
  private readonly listeners = new Set<(e: BusEvent) => void>();

  constructor(readonly inner: EventBus) {}

  async publish(events: readonly BusEvent[]): Promise<PublishResult> {
    const r = await this.inner.publish(events);
    const failed = new Set(r.failed.map((f) => f.index));
    events.forEach((e, i) => {
      if (failed.has(i)) return;
      const v = versionOf(e);
      const again = v !== undefined && this.positionVersions.has(v); // the same change again: counted once
      if (v !== undefined) this.positionVersions.add(v);
      if (!again) this.counts.set(e.detailType, (this.counts.get(e.detailType) ?? 0) + 1);
      for (const l of this.listeners) l(e);
    });
    return r;
  }

  /** Events published successfully, by detail-type (PositionChanged: distinct position versions). */
  count(detailType: string): number {
    return this.counts.get(detailType) ?? 0;
  }

  countsByType(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  onPublished(listener: (e: BusEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
