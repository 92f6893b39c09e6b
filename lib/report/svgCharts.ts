// Small dependency-free SVG line/area charts, rendered to a string on the server.
// Why hand-written: the report must open offline as one file, and the dashboard must not fetch
// assets; a ~300-line renderer that emits static SVG keeps both self-contained, needs no JS to
// view, and lets us escape every label. Colours come from CSS classes (CHART_CSS), so the same
// SVG fits the light report and the dark dashboard.
import { escapeHtml } from "./htmlEscape";

export interface ChartPoint {
  /** Epoch milliseconds. */
  x: number;
  y: number;
}

export interface ChartSeries {
  name: string;
  points: readonly ChartPoint[];
  /** Draw as a step function (positions change in jumps, not linearly). */
  step?: boolean;
}

export interface ChartOptions {
  /** Accessible name and data-chart attribute, e.g. "equity". */
  id: string;
  title: string;
  width?: number;
  height?: number;
  /** Tick and last-value label formatter; `step` is the tick spacing, so labels can carry just enough decimals. */
  yFormat?: (v: number, step: number) => string;
  /** "zero": shade the area between the line and y = 0. */
  fill?: "none" | "zero";
  /** "loss" colours the series red (drawdown). */
  tone?: "default" | "loss";
  /** Always show y = 0 on the axis. */
  includeZero?: boolean;
  /** Points kept per series after min/max downsampling (default: 2 per horizontal pixel). */
  maxPoints?: number;
  emptyText?: string;
  /** Label the last value at the right edge (default true for a single series). */
  showLast?: boolean;
  /**
   * Split the plot into this many vertical bands, each with an SVG <title> naming the time and the
   * value there: native hover tooltips with no script (the report runs under a no-script CSP).
   */
  hoverBands?: number;
  /** Value text in hover tooltips (default: yFormat at a fine step). */
  hoverFormat?: (v: number) => string;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const TIME_STEPS = [
  SECOND,
  2 * SECOND,
  5 * SECOND,
  10 * SECOND,
  15 * SECOND,
  30 * SECOND,
  MINUTE,
  2 * MINUTE,
  5 * MINUTE,
  10 * MINUTE,
  15 * MINUTE,
  30 * MINUTE,
  HOUR,
  2 * HOUR,
  3 * HOUR,
  6 * HOUR,
  12 * HOUR,
  DAY,
  2 * DAY,
  7 * DAY,
  14 * DAY,
  30 * DAY,
  91 * DAY,
  182 * DAY,
  365 * DAY,
];

/** Round step to 1, 2, 2.5 or 5 × 10^k so axis labels are readable. */
export function niceStep(rawStep: number): number {
  if (!(rawStep > 0) || !Number.isFinite(rawStep)) return 1;
  const exp = Math.floor(Math.log10(rawStep));
  const base = 10 ** exp;
  const f = rawStep / base;
  const nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
  return nice * base;
}

/** Nice y ticks covering [min, max]; returns the extended domain and the ticks. */
export function niceTicks(min: number, max: number, count = 5): { lo: number; hi: number; ticks: number[] } {
  let a = min;
  let b = max;
  if (a === b) {
    const pad = Math.abs(a) > 0 ? Math.abs(a) * 0.01 : 1;
    a -= pad;
    b += pad;
  }
  const step = niceStep((b - a) / count);
  const lo = Math.floor(a / step) * step;
  const hi = Math.ceil(b / step) * step;
  const ticks: number[] = [];
  for (let i = 0; lo + i * step <= hi + step * 1e-9; i++) ticks.push(roundTo(lo + i * step, step));
  return { lo, hi, ticks };
}

function roundTo(v: number, step: number): number {
  const decimals = Math.max(0, -Math.floor(Math.log10(step)) + 2);
  return Number(v.toFixed(Math.min(decimals, 12)));
}

/** Time ticks aligned to whole UTC units, with labels fitting the step. */
export function timeTicks(min: number, max: number, count = 6): { value: number; label: string }[] {
  const span = Math.max(max - min, 1);
  const step = TIME_STEPS.find((s) => span / s <= count) ?? TIME_STEPS[TIME_STEPS.length - 1]!;
  const multiDay = span > DAY;
  const out: { value: number; label: string }[] = [];
  for (let t = Math.ceil(min / step) * step; t <= max; t += step) {
    const iso = new Date(t).toISOString();
    let label: string;
    if (step >= DAY) label = iso.slice(5, 10);
    else if (step < MINUTE) label = iso.slice(11, 19);
    else label = multiDay ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : iso.slice(11, 16);
    out.push({ value: t, label });
  }
  return out;
}

/**
 * Min/max ("M4") downsampling: per x bucket keep the first, lowest, highest and last point,
 * so peaks and troughs (what a drawdown chart is about) survive any amount of thinning.
 */
export function downsampleMinMax(points: readonly ChartPoint[], maxPoints: number): ChartPoint[] {
  if (points.length <= maxPoints || maxPoints < 8) return points.slice();
  const buckets = Math.max(1, Math.floor(maxPoints / 4));
  const x0 = points[0]!.x;
  const x1 = points[points.length - 1]!.x;
  const span = x1 - x0 || 1;
  const out: ChartPoint[] = [];
  let current = -1;
  let first: ChartPoint | undefined;
  let last: ChartPoint | undefined;
  let lo: ChartPoint | undefined;
  let hi: ChartPoint | undefined;
  const flush = () => {
    if (!first || !last || !lo || !hi) return;
    const picked = [first, lo, hi, last].sort((p, q) => p.x - q.x);
    for (const p of picked) if (out[out.length - 1] !== p) out.push(p);
  };
  for (const p of points) {
    const b = Math.min(buckets - 1, Math.floor(((p.x - x0) / span) * buckets));
    if (b !== current) {
      flush();
      current = b;
      first = lo = hi = last = p;
    } else {
      last = p;
      if (p.y < lo!.y) lo = p;
      if (p.y > hi!.y) hi = p;
    }
  }
  flush();
  return out;
}

const r1 = (v: number) => Math.round(v * 10) / 10;

/** Decimals needed to tell ticks `step` apart (step 0.25 → 2, step 50 → 0). */
export function decimalsForStep(step: number): number {
  if (!(step > 0) || !Number.isFinite(step)) return 2;
  for (let d = 0; d < 10; d++) if (Math.abs(Math.round(step * 10 ** d) - step * 10 ** d) < 1e-9) return d;
  return 10;
}

export function defaultNumberFormat(v: number, step = 0): string {
  const abs = Math.abs(v);
  const decimals = step > 0 ? decimalsForStep(step) : abs >= 1000 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 4;
  const s = abs.toLocaleString("en-US", { minimumFractionDigits: 0, maximumFractionDigits: decimals });
  return v < 0 && s !== "0" ? `\u2212${s}` : s;
}

/** "$250,250" — as many decimals as the tick step needs, thousands grouped. */
export function moneyAxis(v: number, step: number): string {
  return `${v < 0 ? "\u2212" : ""}$${defaultNumberFormat(Math.abs(v), step)}`;
}

/** Values already in percent: "−0.25%". */
export function pctAxis(v: number, step: number): string {
  return `${defaultNumberFormat(v, step)}%`;
}

/** Render one chart as an inline <svg>. Series with no points produce an "empty" placeholder. */
export function renderLineChart(series: readonly ChartSeries[], opts: ChartOptions): string {
  const width = opts.width ?? 960;
  const height = opts.height ?? 260;
  const fmt = opts.yFormat ?? defaultNumberFormat;
  const showLast = opts.showLast ?? series.length === 1;
  const legend = series.length > 1;
  const m = { top: legend ? 30 : 14, right: showLast ? 92 : 20, bottom: 28, left: 76 };
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;
  const attrs = `class="chart" data-chart="${escapeHtml(opts.id)}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(opts.title)}" xmlns="http://www.w3.org/2000/svg"`;

  const maxPoints = opts.maxPoints ?? Math.max(16, Math.floor(pw * 2));
  const drawn = series
    .map((s) => ({
      ...s,
      points: downsampleMinMax(
        s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y)).sort((a, b) => a.x - b.x),
        maxPoints,
      ),
    }))
    .filter((s) => s.points.length > 0);
  if (drawn.length === 0) {
    return `<svg ${attrs} data-empty="true"><rect class="plot-bg" x="${m.left}" y="${m.top}" width="${pw}" height="${ph}"/><text class="empty" x="${width / 2}" y="${height / 2}" text-anchor="middle">${escapeHtml(opts.emptyText ?? "No data")}</text></svg>`;
  }

  let xmin = Number.POSITIVE_INFINITY;
  let xmax = Number.NEGATIVE_INFINITY;
  let ymin = Number.POSITIVE_INFINITY;
  let ymax = Number.NEGATIVE_INFINITY;
  for (const s of drawn) {
    for (const p of s.points) {
      if (p.x < xmin) xmin = p.x;
      if (p.x > xmax) xmax = p.x;
      if (p.y < ymin) ymin = p.y;
      if (p.y > ymax) ymax = p.y;
    }
  }
  if (opts.includeZero || opts.fill === "zero") {
    ymin = Math.min(ymin, 0);
    ymax = Math.max(ymax, 0);
  }
  if (xmin === xmax) xmin -= MINUTE; // a lone sample sits at the right edge, like "now"
  const { lo, hi, ticks } = niceTicks(ymin, ymax, Math.max(3, Math.round(ph / 55)));
  const yStep = ticks.length > 1 ? ticks[1]! - ticks[0]! : 0;
  const sx = (x: number) => m.left + ((x - xmin) / (xmax - xmin)) * pw;
  const sy = (y: number) => m.top + ph - ((y - lo) / (hi - lo || 1)) * ph;

  const parts: string[] = [`<svg ${attrs}>`];
  parts.push(`<rect class="plot-bg" x="${m.left}" y="${m.top}" width="${pw}" height="${ph}"/>`);
  // Grid and y labels.
  for (const t of ticks) {
    const y = r1(sy(t));
    parts.push(`<line class="grid" x1="${m.left}" x2="${m.left + pw}" y1="${y}" y2="${y}"/>`);
    parts.push(
      `<text class="axis" x="${m.left - 8}" y="${y + 4}" text-anchor="end">${escapeHtml(fmt(t, yStep))}</text>`,
    );
  }
  if (lo < 0 && hi > 0) {
    const y0 = r1(sy(0));
    parts.push(`<line class="zero-line" x1="${m.left}" x2="${m.left + pw}" y1="${y0}" y2="${y0}"/>`);
  }
  for (const t of timeTicks(xmin, xmax, Math.max(2, Math.floor(pw / 110)))) {
    const x = r1(sx(t.value));
    parts.push(`<line class="tick" x1="${x}" x2="${x}" y1="${m.top + ph}" y2="${m.top + ph + 4}"/>`);
    parts.push(`<text class="axis" x="${x}" y="${m.top + ph + 18}" text-anchor="middle">${escapeHtml(t.label)}</text>`);
  }
  parts.push(`<text class="axis unit" x="${m.left - 32}" y="${m.top + ph + 18}" text-anchor="end">UTC</text>`);

  drawn.forEach((s, i) => {
    const cls = opts.tone === "loss" ? "s-loss" : `s${i % 6}`;
    const verts: string[] = [];
    let prevY: number | undefined;
    for (const p of s.points) {
      const x = r1(sx(p.x));
      const y = r1(sy(p.y));
      if (verts.length === 0) verts.push(s.points.length === 1 ? `M${m.left},${y}L${x},${y}` : `M${x},${y}`);
      else if (s.step && prevY !== undefined) verts.push(`L${x},${prevY}`, `L${x},${y}`);
      else verts.push(`L${x},${y}`);
      prevY = y;
    }
    const d = verts.join("");
    if (opts.fill === "zero") {
      const y0 = r1(Math.min(Math.max(sy(0), m.top), m.top + ph));
      const fx = s.points.length === 1 ? m.left : r1(sx(s.points[0]!.x));
      const lx = r1(sx(s.points[s.points.length - 1]!.x));
      parts.push(`<path class="series-area ${cls}" d="${d}L${lx},${y0}L${fx},${y0}Z"/>`);
    }
    parts.push(
      `<path class="series-line ${cls}" data-series="${escapeHtml(s.name)}" data-points="${s.points.length}" d="${d}"/>`,
    );
    const lastP = s.points[s.points.length - 1]!;
    if (showLast) {
      const lx = r1(sx(lastP.x));
      const ly = r1(sy(lastP.y));
      const label = escapeHtml(fmt(lastP.y, yStep / 10));
      parts.push(`<circle class="last-dot ${cls}" cx="${lx}" cy="${ly}" r="3.5"/>`);
      parts.push(
        `<g class="last-tag ${cls}"><rect x="${m.left + pw + 6}" y="${ly - 10}" width="${m.right - 10}" height="20" rx="4"/><text x="${m.left + pw + 6 + (m.right - 10) / 2}" y="${ly + 4}" text-anchor="middle">${label}</text></g>`,
      );
    }
  });

  const bands = Math.min(opts.hoverBands ?? 0, Math.floor(pw));
  const first = drawn[0];
  if (bands > 0 && first) {
    const hoverFmt = opts.hoverFormat ?? ((v: number) => fmt(v, yStep / 100));
    const bw = pw / bands;
    const pts = first.points;
    let j = 0;
    parts.push('<g class="hover">');
    for (let b = 0; b < bands; b++) {
      const xc = xmin + ((b + 0.5) / bands) * (xmax - xmin);
      // Last point at or before the band centre (the value in force there).
      while (j + 1 < pts.length && pts[j + 1]!.x <= xc) j++;
      const p = pts[j]!;
      if (p.x > xc) continue; // before the first point: nothing to name
      const when = new Date(p.x).toISOString().replace("T", " ").slice(0, 19);
      parts.push(
        `<rect x="${r1(m.left + b * bw)}" y="${m.top}" width="${r1(bw + 0.5)}" height="${ph}"><title>${escapeHtml(`${when} UTC \u2014 ${first.name}: ${hoverFmt(p.y)}`)}</title></rect>`,
      );
    }
    parts.push("</g>");
  }

  if (legend) {
    let lx = m.left;
    drawn.forEach((s, i) => {
      const cls = `s${i % 6}`;
      parts.push(
        `<g class="legend"><rect class="swatch ${cls}" x="${lx}" y="8" width="12" height="12" rx="2"/><text x="${lx + 18}" y="18">${escapeHtml(s.name)}</text></g>`,
      );
      lx += 30 + s.name.length * 7.5;
    });
  }
  parts.push("</svg>");
  return parts.join("");
}

/** Styles for the chart classes; pages set the --chart-* custom properties for their theme. */
export const CHART_CSS = `
svg.chart{display:block;width:100%;height:auto;font-family:inherit;font-variant-numeric:tabular-nums}
svg.chart .plot-bg{fill:var(--chart-bg,transparent)}
svg.chart .grid{stroke:var(--chart-grid,#e5e7eb);stroke-width:1}
svg.chart .tick{stroke:var(--chart-axis,#9ca3af)}
svg.chart .zero-line{stroke:var(--chart-zero,#6b7280);stroke-width:1;stroke-dasharray:4 3}
svg.chart .axis{fill:var(--chart-text,#6b7280);font-size:11px}
svg.chart .axis.unit{font-size:10px;opacity:.8}
svg.chart .empty{fill:var(--chart-text,#6b7280);font-size:14px}
svg.chart .series-line{fill:none;stroke-width:1.8;stroke-linejoin:round;stroke-linecap:round}
svg.chart .series-area{stroke:none;opacity:.14}
svg.chart .legend text{fill:var(--chart-text,#6b7280);font-size:12px}
svg.chart .last-tag text{fill:#fff;stroke:none;font-size:12px;font-weight:700}
svg.chart .s0{stroke:var(--c0);fill:var(--c0)} svg.chart .series-line.s0{fill:none}
svg.chart .s1{stroke:var(--c1);fill:var(--c1)} svg.chart .series-line.s1{fill:none}
svg.chart .s2{stroke:var(--c2);fill:var(--c2)} svg.chart .series-line.s2{fill:none}
svg.chart .s3{stroke:var(--c3);fill:var(--c3)} svg.chart .series-line.s3{fill:none}
svg.chart .s4{stroke:var(--c4);fill:var(--c4)} svg.chart .series-line.s4{fill:none}
svg.chart .s5{stroke:var(--c5);fill:var(--c5)} svg.chart .series-line.s5{fill:none}
svg.chart .s-loss{stroke:var(--c-loss);fill:var(--c-loss)} svg.chart .series-line.s-loss{fill:none}
svg.chart .last-tag rect{stroke:none}
svg.chart .hover rect{fill:transparent;stroke:none}
svg.chart .hover rect:hover{fill:var(--chart-hover,rgba(37,99,235,.07))}
svg.chart .legend .swatch{stroke:none}
`;
