// EventBus decorator: counts what is published, by detail-type, and lets the session watch the events
// (dashboard fills, terminal view, the e2e counts) in both modes: the in-process bus and EventBridge.
import type { BusEvent, EventBus, PublishResult } from "../lib/ports/EventBus";

export class CountingEventBus implements EventBus {
  private readonly counts = new Map<string, number>();
  private readonly listeners = new Set<(e: BusEvent) => void>();

  constructor(readonly inner: EventBus) {}

  async publish(events: readonly BusEvent[]): Promise<PublishResult> {
    const r = await this.inner.publish(events);
    const failed = new Set(r.failed.map((f) => f.index));
    events.forEach((e, i) => {
      if (failed.has(i)) return;
      this.counts.set(e.detailType, (this.counts.get(e.detailType) ?? 0) + 1);
      for (const l of this.listeners) l(e);
    });
    return r;
  }

  /** Events published successfully, by detail-type. */
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
