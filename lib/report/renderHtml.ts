// Renders a Report (lib/report/reportSchema) as ONE self-contained HTML file: inline CSS, charts
// as inline SVG, no scripts, no fonts or images fetched. It opens offline and prints cleanly.
import Decimal from "decimal.js";
import { drawdownPctFromEquity, positionSeriesFromCurve, positionSeriesFromTrades } from "./curves";
import {
  EMPTY,
  formatDecimal,
  formatDuration,
  formatFixed,
  formatFractionAsPercent,
  formatMoney,
  formatPercent,
  formatRatio,
  formatTimestamp,
  signClass,
} from "./format";
import { escapeHtml } from "./htmlEscape";
import { denialRows, type Report, type ReportTrade } from "./reportSchema";
import { simulationSection } from "./simulationSection";
import { CHART_CSS, type ChartSeries, defaultNumberFormat, moneyAxis, pctAxis, renderLineChart } from "./svgCharts";
import { renderWaterfallSection } from "./waterfall";

export interface RenderReportOptions {
  /** Trades shown in the table (the most recent ones); the total is always stated. Default 500. */
  maxTrades?: number;
  /** Risk events listed. Default 200. */
  maxRiskEvents?: number;
  /** Stamp for the footer; defaults to meta.generatedAt or now. */
  generatedAt?: Date;
}

const h = escapeHtml;

function signed(value: string | number | null | undefined, text: string): string {
  return `<span class="${signClass(value)}">${h(text)}</span>`;
}

function kpi(label: string, valueHtml: string, sub = ""): string {
  return `<div class="kpi"><div class="kpi-label">${h(label)}</div><div class="kpi-value">${valueHtml}</div>${sub ? `<div class="kpi-sub">${sub}</div>` : ""}</div>`;
}

function row(label: string, valueHtml: string, note = ""): string {
  return `<tr><th scope="row">${h(label)}</th><td class="num">${valueHtml}</td>${note ? `<td class="note">${h(note)}</td>` : "<td></td>"}</tr>`;
}

function startingEquity(report: Report): Decimal | null {
  const s = report.metrics.startingEquity ?? report.equityCurve[0]?.equity;
  return s !== undefined ? new Decimal(s) : null;
}

function endingEquity(report: Report): Decimal | null {
  const e = report.metrics.endingEquity ?? report.equityCurve[report.equityCurve.length - 1]?.equity;
  return e !== undefined ? new Decimal(e) : null;
}

function returnPct(report: Report): number | null {
  const start = startingEquity(report);
  if (!start || start.isZero()) return null;
  return new Decimal(report.metrics.totalPnl).div(start).mul(100).toNumber();
}

interface BreakdownRow {
  strategy: string;
  venue: string;
  trades: number;
  maker: number;
  notional: Decimal;
  fees: Decimal;
  realized: Decimal;
}

function breakdown(trades: readonly ReportTrade[]): BreakdownRow[] {
  const rows = new Map<string, BreakdownRow>();
  for (const t of trades) {
    const strategy = t.strategyId ?? EMPTY;
    const key = `${strategy}\u0000${t.venue}`;
    let r = rows.get(key);
    if (!r) {
      r = {
        strategy,
        venue: t.venue,
        trades: 0,
        maker: 0,
        notional: new Decimal(0),
        fees: new Decimal(0),
        realized: new Decimal(0),
      };
      rows.set(key, r);
    }
    r.trades += 1;
    if (t.liquidity === "MAKER") r.maker += 1;
    r.notional = r.notional.plus(new Decimal(t.qty).mul(t.price).abs());
    r.fees = r.fees.plus(t.fee);
    if (t.realizedPnl != null) r.realized = r.realized.plus(t.realizedPnl);
  }
  return [...rows.values()].sort((a, b) => a.strategy.localeCompare(b.strategy) || a.venue.localeCompare(b.venue));
}

function positionCharts(report: Report): { html: string; derived: boolean } {
  const start = Date.parse(report.startedAt);
  const end = Date.parse(report.endedAt);
  const derived = !report.positionCurve || report.positionCurve.length === 0;
  const series = derived ? positionSeriesFromTrades(report.trades) : positionSeriesFromCurve(report.positionCurve!);
  if (series.length === 0) {
    return {
      html: renderLineChart([], { id: "position", title: "Position over time", emptyText: "No positions taken" }),
      derived,
    };
  }
  const charts = series.map((s) => {
    const pts = [...s.points];
    // Flat before the first fill and held until the end of the run.
    if (derived && pts.length > 0 && pts[0]!.x > start) pts.unshift({ x: start, y: 0 });
    const last = pts[pts.length - 1];
    if (last && end > last.x) pts.push({ x: end, y: last.y });
    const one: ChartSeries = { ...s, points: pts };
    return `<div class="pos-chart"><div class="pos-title">${h(s.name)} <span class="muted">net quantity</span></div>${renderLineChart(
      [one],
      {
        id: `position-${s.name}`,
        title: `Position in ${s.name} over time`,
        width: 560,
        height: 200,
        fill: "zero",
        includeZero: true,
        yFormat: defaultNumberFormat,
        hoverBands: 90,
        hoverFormat: (v) => String(v),
      },
    )}</div>`;
  });
  return { html: `<div class="pos-charts" data-chart-group="position">${charts.join("")}</div>`, derived };
}

function tradesTable(trades: readonly ReportTrade[], maxTrades: number): string {
  if (trades.length === 0) return `<p class="muted">No trades in this run.</p>`;
  const shown = trades.slice(-maxTrades);
  const hasPnl = shown.some((t) => t.realizedPnl != null);
  const hasStrategy = shown.some((t) => t.strategyId !== undefined);
  const hasLiq = shown.some((t) => t.liquidity !== undefined);
  const note =
    trades.length > shown.length
      ? `Showing the last ${shown.length.toLocaleString("en-US")} of ${trades.length.toLocaleString("en-US")} trades; the full list is in report.json.`
      : `All ${trades.length.toLocaleString("en-US")} trades.`;
  const head = [
    "<th>Time (UTC)</th>",
    hasStrategy ? "<th>Strategy</th>" : "",
    "<th>Venue</th><th>Symbol</th><th>Side</th>",
    '<th class="num">Quantity</th><th class="num">Price</th><th class="num">Notional</th><th class="num">Fee</th>',
    hasLiq ? "<th>Liquidity</th>" : "",
    hasPnl ? '<th class="num">Realized PnL</th>' : "",
  ].join("");
  const body = shown
    .map((t) => {
      const notional = new Decimal(t.qty).mul(t.price);
      const iso = new Date(Date.parse(t.ts)).toISOString();
      return [
        `<tr><td class="ts">${h(`${iso.slice(0, 10)} ${iso.slice(11, 23)}`)}</td>`,
        hasStrategy ? `<td>${h(t.strategyId ?? EMPTY)}</td>` : "",
        `<td>${h(t.venue)}</td><td>${h(t.symbol)}</td>`,
        `<td><span class="side ${t.side === "BUY" ? "buy" : "sell"}">${h(t.side)}</span></td>`,
        `<td class="num">${h(formatDecimal(t.qty))}</td>`,
        `<td class="num">${h(formatDecimal(t.price))}</td>`,
        `<td class="num">${h(formatMoney(notional))}</td>`,
        `<td class="num">${signed(new Decimal(t.fee).neg().toString(), formatMoney(t.fee, false, 4))}</td>`,
        hasLiq ? `<td>${t.liquidity ? `<span class="liq">${h(t.liquidity.toLowerCase())}</span>` : EMPTY}</td>` : "",
        hasPnl
          ? `<td class="num">${t.realizedPnl != null ? signed(t.realizedPnl, formatMoney(t.realizedPnl, true)) : EMPTY}</td>`
          : "",
        "</tr>",
      ].join("");
    })
    .join("");
  return `<p class="muted table-note">${h(note)}</p><div class="table-scroll"><table class="trades" data-rows="${shown.length}" data-total="${trades.length}"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></div>`;
}

function riskSection(report: Report, maxEvents: number): string {
  const risk = report.risk;
  if (!risk) return "";
  const denials = denialRows(risk.denials);
  const denialRowsHtml =
    denials.length === 0
      ? `<tr><td colspan="2" class="muted">No orders denied.</td></tr>`
      : denials
          .map(
            ([path, rule, n]) =>
              `<tr><th scope="row">${path ? `${h(path)}: ` : ""}${h(rule)}</th><td class="num">${n}</td></tr>`,
          )
          .join("");
  const events = (risk.events ?? []).slice(-maxEvents);
  const eventList = events.length
    ? `<ul class="events">${events
        .map(
          (e) =>
            `<li><span class="ts">${h(formatTimestamp(e.ts))}</span> <span class="tag">${h(e.kind)}</span> ${h(e.message)}</li>`,
        )
        .join("")}</ul>`
    : "";
  return `<section class="card"><h2>Risk</h2><p>Final trading state: <span class="state state-${h(risk.finalState.toLowerCase())}">${h(risk.finalState)}</span></p>
<table class="kv"><thead><tr><th>Denied by rule</th><th class="num">Orders</th></tr></thead><tbody>${denialRowsHtml}</tbody></table>${eventList}</section>`;
}

function custodySection(report: Report): string {
  const s = report.settlement;
  const r = report.reconciliation;
  if (!s && !r) return "";
  const rows = [
    ...(s
      ? [
          ["Settlements instructed", s.instructed],
          ["Settled", s.settled],
          ["Failed", s.failed],
          ["Pending", s.pending],
        ]
      : []),
    ...(r
      ? [
          ["Reconciliation runs", r.runs],
          ["Breaks (last run)", r.breaks],
          ...(r.breaksSeen !== undefined ? [["Breaks (all runs)", r.breaksSeen]] : []),
        ]
      : []),
  ]
    .map(([k, v]) => `<tr><th scope="row">${h(String(k))}</th><td class="num">${h(String(v))}</td></tr>`)
    .join("");
  return `<section class="card"><h2>Settlement and reconciliation</h2><table class="kv"><tbody>${rows}</tbody></table></section>`;
}

export function renderReportHtml(report: Report, options: RenderReportOptions = {}): string {
  const maxTrades = options.maxTrades ?? 500;
  const m = report.metrics;
  const pp = m.perPeriodSharpe;
  const meta = report.meta;
  const started = Date.parse(report.startedAt);
  const ended = Date.parse(report.endedAt);
  const generatedAt = options.generatedAt ?? (meta?.generatedAt ? new Date(meta.generatedAt) : new Date());
  const ret = returnPct(report);
  const endEq = endingEquity(report);
  const startEq = startingEquity(report);
  const kind = meta?.mode === "backtest" || !meta ? "Backtest report" : `Session report \u00b7 ${meta.mode}`;

  const equitySeries: ChartSeries = {
    name: "Equity",
    points: report.equityCurve.map((p) => ({ x: Date.parse(p.ts), y: Number(p.equity) })),
  };
  const equityChart = renderLineChart([equitySeries], {
    id: "equity",
    title: "Equity curve",
    height: 300,
    yFormat: moneyAxis,
    hoverBands: 160,
    hoverFormat: (v) => formatMoney(v.toFixed(2)),
    emptyText: "No equity points recorded",
  });
  const ddDerived = !report.drawdownCurve || report.drawdownCurve.length === 0;
  const ddPoints = ddDerived
    ? drawdownPctFromEquity(report.equityCurve)
    : report.drawdownCurve!.map((p) => ({ x: Date.parse(p.ts), y: -Math.abs(p.drawdownPct) }));
  const drawdownChart = renderLineChart([{ name: "Drawdown", points: ddPoints }], {
    id: "drawdown",
    title: "Drawdown from peak equity (%)",
    height: 190,
    fill: "zero",
    tone: "loss",
    includeZero: true,
    yFormat: pctAxis,
    hoverBands: 160,
    hoverFormat: (v) => `${v.toFixed(3)}%`,
    emptyText: "No equity points recorded",
  });
  const positions = positionCharts(report);

  const metaItems: string[] = [];
  const addMeta = (label: string, value: string | number | undefined) => {
    if (value === undefined || value === "") return;
    metaItems.push(`<div><dt>${h(label)}</dt><dd>${h(value)}</dd></div>`);
  };
  addMeta("Run", meta?.runId);
  addMeta("Mode", meta?.mode);
  addMeta("Scenario", meta?.scenario);
  addMeta("Seed", meta?.seed);
  addMeta("From", formatTimestamp(report.startedAt));
  addMeta("To", formatTimestamp(report.endedAt));
  addMeta("Duration", formatDuration(ended - started));
  addMeta("Data", meta?.dataFile);
  addMeta("Ticks", meta?.ticks?.toLocaleString("en-US"));

  const kpis = [
    kpi(
      "Total PnL",
      signed(m.totalPnl, formatMoney(m.totalPnl, true)),
      ret !== null ? signed(ret, `${formatPercent(ret, 3, true)} return`) : "",
    ),
    kpi(
      "Ending equity",
      h(formatMoney(endEq?.toString())),
      startEq ? h(`from ${formatMoney(startEq.toString())}`) : "",
    ),
    m.sharpe === null && pp?.sharpe != null
      ? kpi(
          "Sharpe per period",
          h(formatRatio(pp.sharpe, 3)),
          h(`\u00b1 ${formatRatio(pp.standardError, 3)}, ${pp.periods} periods`),
        )
      : kpi("Sharpe", h(formatRatio(m.sharpe)), h(`Sortino ${formatRatio(m.sortino)}`)),
    kpi(
      "Max drawdown",
      `<span class="${new Decimal(m.maxDrawdown).isZero() ? "zero" : "neg"}">${h(formatPercent(m.maxDrawdownPct))}</span>`,
      h(formatMoney(m.maxDrawdown)),
    ),
    kpi("Win rate", h(formatFractionAsPercent(m.winRate)), h(`profit factor ${formatRatio(m.profitFactor)}`)),
    kpi("Trades", h(m.tradeCount.toLocaleString("en-US")), h(`turnover ${formatMoney(m.turnover, false, 0)}`)),
  ].join("");

  const metricsTable = `<table class="kv metrics">
<tbody class="group"><tr class="group-head"><th colspan="3">Profit and loss</th></tr>
${row("Total PnL", signed(m.totalPnl, formatMoney(m.totalPnl, true)), "realized + unrealized \u2212 fees")}
${row("Realized PnL", signed(m.realizedPnl, formatMoney(m.realizedPnl, true)))}
${row("Unrealized PnL", signed(m.unrealizedPnl, formatMoney(m.unrealizedPnl, true)), "marked at mid")}
${row("Fees", h(formatMoney(m.fees)), "negative = net rebates")}
${startEq ? row("Starting equity", h(formatMoney(startEq.toString()))) : ""}
${endEq ? row("Ending equity", h(formatMoney(endEq.toString()))) : ""}
${ret !== null ? row("Return", signed(ret, formatPercent(ret, 3, true))) : ""}
</tbody>
<tbody class="group"><tr class="group-head"><th colspan="3">Risk-adjusted</th></tr>
${row("Sharpe ratio", h(formatRatio(m.sharpe, 3)), m.annualisedNullReason ?? "annualised")}
${pp ? row("Sharpe per period", h(formatRatio(pp.sharpe, 4)), `standard error ${formatRatio(pp.standardError, 4)} (Lo 2002), ${pp.periods} periods`) : ""}
${row("Sortino ratio", h(formatRatio(m.sortino, 3)), "annualised, downside deviation")}
${row("Calmar ratio", h(formatRatio(m.calmar, 3)), "annualised return / max drawdown")}
${row("Max drawdown", `<span class="${new Decimal(m.maxDrawdown).isZero() ? "zero" : "neg"}">${h(formatMoney(m.maxDrawdown))}</span>`, `${formatPercent(m.maxDrawdownPct)} of peak equity`)}
</tbody>
<tbody class="group"><tr class="group-head"><th colspan="3">Trading</th></tr>
${row("Trades (fills)", h(m.tradeCount.toLocaleString("en-US")))}
${row("Win rate", h(formatFractionAsPercent(m.winRate)), "closing trades with positive PnL")}
${row("Profit factor", h(formatRatio(m.profitFactor)), "gross profit / gross loss")}
${row("Expectancy", signed(m.expectancy, formatMoney(m.expectancy, true, 4)), "mean net PnL per closing trade")}
${row("Turnover", h(formatMoney(m.turnover)), "\u03a3 |quantity \u00d7 price|")}
</tbody></table>
<p class="convention"><strong>Sharpe convention:</strong> ${h(m.sharpeConvention)}</p>`;

  const bd = breakdown(report.trades);
  const hasRealized = report.trades.some((t) => t.realizedPnl != null);
  const breakdownTable = bd.length
    ? `<table class="kv breakdown"><thead><tr><th>Strategy</th><th>Venue</th><th class="num">Trades</th><th class="num">Maker</th><th class="num">Notional</th><th class="num">Fees</th>${hasRealized ? '<th class="num">Realized</th>' : ""}</tr></thead><tbody>${bd
        .map(
          (r) =>
            `<tr><td>${h(r.strategy)}</td><td>${h(r.venue)}</td><td class="num">${r.trades.toLocaleString("en-US")}</td><td class="num">${h(formatFixed((r.maker / r.trades) * 100, 0, { suffix: "\u202f%" }))}</td><td class="num">${h(formatMoney(r.notional, false, 0))}</td><td class="num">${h(formatMoney(r.fees))}</td>${hasRealized ? `<td class="num">${signed(r.realized.toString(), formatMoney(r.realized, true))}</td>` : ""}</tr>`,
        )
        .join(
          "",
        )}</tbody></table>${hasRealized ? '<p class="muted table-foot">Realized PnL booked by each fill, before fees.</p>' : ""}`
    : `<p class="muted">No trades.</p>`;

  const configBlock = report.config
    ? `<section class="card"><details><summary>Configuration</summary><pre>${h(JSON.stringify(report.config, null, 2))}</pre></details></section>`
    : "";

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${h(`${report.strategy} \u2014 ${kind}${meta?.runId ? ` ${meta.runId}` : ""}`)}</title>
<style>${REPORT_CSS}${CHART_CSS}</style>
</head>
<body>
<main>
<header class="hero">
  <div class="eyebrow">${h(kind)}</div>
  <h1>${h(
    report.strategy
      .split(",")
      .map((x) => x.trim())
      .filter(Boolean)
      .join(" + "),
  )}</h1>
  <dl class="meta">${metaItems.join("")}</dl>
</header>
<section class="kpis">${kpis}</section>
<section class="card"><div class="card-head"><h2>Equity</h2><span class="muted">${h(`${report.equityCurve.length.toLocaleString("en-US")} points \u00b7 ${report.valuation?.currency ?? "USD"}`)}</span></div>${equityChart}</section>
<section class="card"><div class="card-head"><h2>Drawdown</h2><span class="muted">${h(`% below running peak${ddDerived ? " \u00b7 derived from the equity curve" : ""}`)}</span></div>${drawdownChart}</section>
<section class="card"><div class="card-head"><h2>Position over time</h2><span class="muted">${h(positions.derived ? "net across venues and strategies \u00b7 rebuilt from fills" : "net across venues and strategies")}</span></div>${positions.html}</section>
<div class="two-col">
<section class="card"><h2>Metrics</h2>${metricsTable}</section>
<div class="stack">
<section class="card"><h2>Activity by strategy and venue</h2>${breakdownTable}</section>
${riskSection(report, options.maxRiskEvents ?? 200)}
${simulationSection(report)}
${report.meta?.mode && report.meta.mode !== "backtest" ? renderWaterfallSection(report.latencyWaterfall) : ""}
${custodySection(report)}
</div>
</div>
<section class="card"><h2>Trades</h2>${tradesTable(report.trades, maxTrades)}</section>
${configBlock}
<footer>Generated ${h(formatTimestamp(generatedAt.getTime()))} \u00b7 report schema v${h(report.schemaVersion)} \u00b7 self-contained file: no network needed</footer>
</main>
</body>
</html>
`;
}

const REPORT_CSS = `
:root{--bg:#f5f6f8;--card:#fff;--ink:#111827;--muted:#6b7280;--line:#e5e7eb;--pos:#047857;--neg:#b91c1c;
--c0:#2563eb;--c1:#d97706;--c2:#059669;--c3:#7c3aed;--c4:#db2777;--c5:#0891b2;--c-loss:#dc2626;
--chart-grid:#eef0f3;--chart-text:#6b7280;--chart-zero:#9ca3af}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans","DejaVu Sans",sans-serif;font-variant-numeric:tabular-nums}
main{max-width:1180px;margin:0 auto;padding:28px 24px 40px}
.hero{margin-bottom:18px}
.eyebrow{text-transform:uppercase;letter-spacing:.08em;font-size:12px;font-weight:600;color:var(--c0)}
h1{font-size:28px;line-height:1.2;margin:4px 0 12px;font-weight:700;letter-spacing:-.01em;word-break:break-word}
h2{font-size:15px;margin:0 0 10px;font-weight:650}
.meta{display:flex;flex-wrap:wrap;gap:6px 22px;margin:0}
.meta div{display:flex;gap:6px;align-items:baseline}
.meta dt{color:var(--muted);font-size:12px}
.meta dd{margin:0;font-weight:500}
.kpis{display:grid;grid-template-columns:repeat(6,1fr);gap:12px;margin-bottom:16px}
.kpi{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px 14px}
.kpi-label{font-size:12px;color:var(--muted);font-weight:500}
.kpi-value{font-size:21px;font-weight:700;margin-top:2px;white-space:nowrap}
.kpi-sub{font-size:12px;color:var(--muted);margin-top:2px}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:16px 18px;margin-bottom:16px}
.card-head{display:flex;justify-content:space-between;align-items:baseline;gap:12px;flex-wrap:wrap}
.muted{color:var(--muted);font-size:12px}
.pos{color:var(--pos)}.neg{color:var(--neg)}.zero{color:inherit}
.kpi-sub .pos,.kpi-sub .neg{font-weight:600}
.pos-charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:8px 20px}
.pos-title{font-weight:600;font-size:13px;margin:2px 0 0 76px}
.two-col{display:grid;grid-template-columns:1fr 1fr;gap:16px;align-items:start}
.two-col .card{margin-bottom:16px}
table{border-collapse:collapse;width:100%}
th,td{padding:5px 8px;text-align:left;border-bottom:1px solid var(--line);white-space:nowrap}
th{font-weight:600;color:#374151;font-size:12px}
td.num,th.num{text-align:right}
.kv th[scope=row]{font-weight:500;color:var(--ink);font-size:13px}
.kv td.note{color:var(--muted);font-size:12px;white-space:normal}
.metrics .group-head th{padding-top:14px;color:var(--muted);text-transform:uppercase;letter-spacing:.06em;font-size:11px;border-bottom:1px solid var(--line)}
.metrics tbody.group:first-child .group-head th{padding-top:0}
.convention{font-size:12px;color:var(--muted);margin:12px 0 0;line-height:1.45}
.convention strong{color:var(--ink)}
.table-note{margin:0 0 8px}
.table-foot{margin:8px 0 0}
.table-scroll{max-height:560px;overflow:auto;border:1px solid var(--line);border-radius:8px}
.trades th{position:sticky;top:0;background:#f9fafb;z-index:1}
.trades td{font-size:13px}
.trades tbody tr:nth-child(even){background:#fafbfc}
.ts{color:#4b5563;font-size:12px}
.side{display:inline-block;font-size:11px;font-weight:700;letter-spacing:.04em;padding:1px 6px;border-radius:4px}
.side.buy{color:#065f46;background:#d1fae5}.side.sell{color:#991b1b;background:#fee2e2}
.liq{color:var(--muted);font-size:12px}
.state{display:inline-block;font-weight:700;font-size:12px;padding:2px 8px;border-radius:999px;letter-spacing:.04em}
.state-active{background:#d1fae5;color:#065f46}.state-reducing{background:#fef3c7;color:#92400e}.state-halted{background:#fee2e2;color:#991b1b}
.events{list-style:none;padding:0;margin:10px 0 0;max-height:260px;overflow:auto;font-size:13px}
.events li{padding:4px 0;border-bottom:1px solid var(--line)}
.tag{font-size:11px;font-weight:600;background:#eef2ff;color:#3730a3;padding:1px 6px;border-radius:4px}
details summary{cursor:pointer;font-weight:600}
pre{background:#f9fafb;border:1px solid var(--line);border-radius:8px;padding:12px;overflow:auto;font-size:12px}
footer{color:var(--muted);font-size:12px;text-align:center;margin-top:24px}
@media (max-width:1000px){.kpis{grid-template-columns:repeat(3,1fr)}.two-col{grid-template-columns:1fr}}
@media (max-width:560px){.kpis{grid-template-columns:repeat(2,1fr)}.pos-charts{grid-template-columns:1fr}}
@media print{body{background:#fff}.card,.kpi{break-inside:avoid;border-color:#ddd}.table-scroll{max-height:none;overflow:visible}}
`;
