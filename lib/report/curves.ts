// Chart series derived from a report when the report does not carry them explicitly.
// Display-only (numbers, not decimals): the exact figures stay in report.json.
import type { ChartPoint, ChartSeries } from "./svgCharts";

interface TsValue {
  ts: string;
}

/** Drawdown below the running equity peak, in percent (<= 0, so a fall plots downwards). */
export function drawdownPctFromEquity(equity: readonly (TsValue & { equity: string })[]): ChartPoint[] {
  let peak = Number.NEGATIVE_INFINITY;
  const out: ChartPoint[] = [];
  for (const p of equity) {
    const x = Date.parse(p.ts);
    const e = Number(p.equity);
    if (!Number.isFinite(x) || !Number.isFinite(e)) continue;
    if (e > peak) peak = e;
    out.push({ x, y: peak > 0 ? ((e - peak) / peak) * 100 : 0 });
  }
  return out;
}

/** Group a position curve into one step series per symbol. */
export function positionSeriesFromCurve(
  curve: readonly (TsValue & { symbol: string; quantity: string })[],
): ChartSeries[] {
  const bySymbol = new Map<string, ChartPoint[]>();
  for (const p of curve) {
    let pts = bySymbol.get(p.symbol);
    if (!pts) {
      pts = [];
      bySymbol.set(p.symbol, pts);
    }
    pts.push({ x: Date.parse(p.ts), y: Number(p.quantity) });
  }
  return [...bySymbol.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, points]) => ({ name, points, step: true }));
}

/** Net position per symbol (all venues and strategies) rebuilt from the fills. */
export function positionSeriesFromTrades(
  trades: readonly (TsValue & { symbol: string; side: "BUY" | "SELL"; qty: string })[],
): ChartSeries[] {
  const net = new Map<string, number>();
  const bySymbol = new Map<string, ChartPoint[]>();
  const sorted = [...trades].sort((a, b) => Date.parse(a.ts) - Date.parse(b.ts));
  for (const t of sorted) {
    const q = Number(t.qty) * (t.side === "BUY" ? 1 : -1);
    // Round away float noise from summing decimal lot sizes.
    const pos = Math.round(((net.get(t.symbol) ?? 0) + q) * 1e8) / 1e8;
    net.set(t.symbol, pos);
    let pts = bySymbol.get(t.symbol);
    if (!pts) {
      pts = [];
      bySymbol.set(t.symbol, pts);
    }
    pts.push({ x: Date.parse(t.ts), y: pos });
  }
  return [...bySymbol.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, points]) => ({ name, points, step: true }));
}
