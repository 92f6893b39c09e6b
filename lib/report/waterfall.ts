// The order latency waterfall: tick → decision → place → ack → fill → booked, in ms per hop, for the median and
// the p99 order (by tick-to-booked time). Built from the spans of each order's trace (lib/telemetry), so it is
// the same chain a tracing backend shows, or with tracing off from the same instants recorded without spans.

export const HOPS = ["decision", "place", "ack", "fill", "booked"] as const;
export type HopName = (typeof HOPS)[number];

/** Wall-clock instants (ms) of one order's steps. */
export interface OrderTimeline {
  tick: number;
  decision: number;
  place: number;
  ack: number;
  fill: number;
  booked: number;
}

export interface WaterfallOrder {
  totalMs: number;
  hops: { hop: HopName; fromMs: number; ms: number }[];
}

export interface LatencyWaterfall {
  orders: number;
  source?: "spans" | "timestamps";
  median: WaterfallOrder;
  p99: WaterfallOrder;
}

function orderOf(t: OrderTimeline): WaterfallOrder {
  let prev = t.tick;
  const hops = HOPS.map((hop) => {
    const at = Math.max(prev, t[hop]);
    const h = { hop, fromMs: prev - t.tick, ms: at - prev };
    prev = at;
    return h;
  });
  return { totalMs: prev - t.tick, hops };
}

/** The median and p99 order (nearest rank on tick → booked); undefined without any complete order. */
export function buildWaterfall(
  orders: readonly OrderTimeline[],
  source?: LatencyWaterfall["source"],
): LatencyWaterfall | undefined {
  if (orders.length === 0) return undefined;
  const sorted = orders.map(orderOf).sort((a, b) => a.totalMs - b.totalMs);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
  return { orders: sorted.length, ...(source ? { source } : {}), median: at(50), p99: at(99) };
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** An SVG bar per hop (offset by when it started), one row group per order; sized for the report. */
export function renderWaterfallSvg(w: LatencyWaterfall): string {
  const rows: { label: string; o: WaterfallOrder }[] = [
    { label: "median", o: w.median },
    { label: "p99", o: w.p99 },
  ];
  const width = 760;
  const left = 150;
  const rowH = 20;
  const scale = (width - left - 90) / Math.max(1e-9, w.p99.totalMs, w.median.totalMs);
  const colors: Record<HopName, string> = {
    decision: "#6b8afd",
    place: "#4cc9a0",
    ack: "#f2b84b",
    fill: "#e86f6f",
    booked: "#a77bd8",
  };
  let y = 8;
  const parts: string[] = [];
  for (const { label, o } of rows) {
    parts.push(`<text x="4" y="${y + 14}" font-weight="600">${esc(label)} order: ${o.totalMs.toFixed(1)} ms</text>`);
    y += rowH;
    for (const h of o.hops) {
      const x = left + h.fromMs * scale;
      const bw = Math.max(1, h.ms * scale);
      parts.push(
        `<text x="16" y="${y + 14}">${esc(h.hop)}</text>`,
        `<rect x="${x.toFixed(1)}" y="${y + 3}" width="${bw.toFixed(1)}" height="${rowH - 6}" fill="${colors[h.hop]}"><title>${esc(h.hop)}: ${h.ms.toFixed(2)} ms</title></rect>`,
        `<text x="${(x + bw + 4).toFixed(1)}" y="${y + 14}">${h.ms.toFixed(2)} ms</text>`,
      );
      y += rowH;
    }
    y += 8;
  }
  return `<svg class="waterfall" role="img" aria-label="Order latency waterfall" viewBox="0 0 ${width} ${y}" width="${width}" height="${y}" font-family="system-ui, sans-serif" font-size="12">${parts.join("")}</svg>`;
}

/** The report section: the SVG and a table of the hops in ms. */
export function renderWaterfallSection(w: LatencyWaterfall | undefined): string {
  if (!w)
    return `<section class="card" id="latency"><h2>Order latency</h2><p>No quoter order was booked in this run (with OTEL_TRACES_EXPORTER / OTEL_EXPORTER_OTLP_ENDPOINT set, the waterfall comes from the orders' traces).</p></section>`;
  const row = (label: string, o: WaterfallOrder) =>
    `<tr><th>${label}</th>${o.hops.map((h) => `<td>${h.ms.toFixed(2)}</td>`).join("")}<td>${o.totalMs.toFixed(2)}</td></tr>`;
  return `<section class="card" id="latency"><h2>Order latency: tick → booked (${w.orders} ${w.source === "timestamps" ? "orders, from the quoter's and the bus's timestamps: tracing is off" : "traced orders"})</h2>${renderWaterfallSvg(w)}<table><thead><tr><th></th>${HOPS.map((h) => `<th>${h} (ms)</th>`).join("")}<th>total (ms)</th></tr></thead><tbody>${row("median", w.median)}${row("p99", w.p99)}</tbody></table></section>`;
}
