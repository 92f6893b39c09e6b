// The backtest's simulation assumptions in the HTML report: fill model, latency, currency valuation,
// throttling and the data-quality counts, so a reader sees how the fills were produced.
import { escapeHtml as h } from "./htmlEscape";
import type { Report } from "./reportSchema";

const latency = (d: unknown): string =>
  typeof d === "number"
    ? `${d} ms`
    : Object.entries(d as Record<string, unknown>)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ");

export function simulationSection(report: Report): string {
  const { fillModel, latencyModel, valuation, dataQuality } = report;
  if (!fillModel && !latencyModel && !valuation && !dataQuality) return "";
  const rows: [string, string][] = [];
  if (fillModel)
    rows.push([
      "Fill model",
      Object.entries(fillModel)
        .map(([k, v]) => (k === "kind" ? String(v) : `${k} ${v}`))
        .join(", "),
    ]);
  if (latencyModel)
    rows.push([
      "Latency",
      `feed ${latency(latencyModel.feed)} · order ${latency(latencyModel.order)} · ack ${latency(latencyModel.ack)}`,
    ]);
  if (report.risk?.throttled !== undefined) rows.push(["Throttled placements", String(report.risk.throttled)]);
  if (valuation)
    rows.push([
      `Valued in ${valuation.currency}`,
      Object.entries(valuation.rates)
        .map(([c, how]) => `${c}: ${how}`)
        .join(" · ") || "single currency",
    ]);
  const kv = rows.map(([k, v]) => `<tr><th scope="row">${h(k)}</th><td>${h(v)}</td></tr>`).join("");
  let dq = "";
  if (dataQuality) {
    const counts = Object.entries(dataQuality.counts)
      .map(([k, n]) => `<tr><th scope="row">${h(k)}</th><td class="num">${n}</td></tr>`)
      .join("");
    const ex = dataQuality.examples
      .slice(0, 20)
      .map(
        (e) =>
          `<li><span class="tag">${h(e.issue)}</span> ${h(`${e.file}: line ${e.line}${e.column > 0 ? `, column ${e.column} (${e.columnName})` : ""}`)} <code>${h(e.value)}</code></li>`,
      )
      .join("");
    dq = `<table class="kv"><thead><tr><th>${h(`Data quality (${dataQuality.rows} rows, gaps over ${dataQuality.gapMs} ms)`)}</th><th class="num">Rows</th></tr></thead><tbody>${counts}</tbody></table>${ex ? `<ul class="events">${ex}</ul>` : ""}`;
  }
  return `<section class="card"><h2>Simulation</h2><table class="kv"><tbody>${kv}</tbody></table>${dq}</section>`;
}
