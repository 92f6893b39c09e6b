import { describe, expect, it } from "vitest";
import {
  decimalsForStep,
  downsampleMinMax,
  moneyAxis,
  niceStep,
  niceTicks,
  renderLineChart,
  timeTicks,
} from "../../lib/report/svgCharts";

const T0 = Date.parse("2026-01-01T00:00:00.000Z");

describe("svgCharts", () => {
  it("niceStep rounds to 1/2/2.5/5 x 10^k", () => {
    expect(niceStep(0.13)).toBe(0.2);
    expect(niceStep(0.22)).toBe(0.25);
    expect(niceStep(3)).toBe(5);
    expect(niceStep(170)).toBe(200);
    expect(niceStep(240)).toBe(250);
    expect(niceStep(700)).toBe(1000);
  });

  it("niceTicks covers the data with whole steps", () => {
    const { lo, hi, ticks } = niceTicks(249_412, 251_377, 5);
    expect(lo).toBeLessThanOrEqual(249_412);
    expect(hi).toBeGreaterThanOrEqual(251_377);
    expect(ticks[0]).toBe(lo);
    expect(ticks.at(-1)).toBe(hi);
    const steps = ticks.slice(1).map((t, i) => t - ticks[i]!);
    expect(new Set(steps).size).toBe(1);
  });

  it("labels carry just the decimals the step needs", () => {
    expect(decimalsForStep(250)).toBe(0);
    expect(decimalsForStep(0.25)).toBe(2);
    expect(moneyAxis(250_250, 250)).toBe("$250,250");
    expect(moneyAxis(-12.5, 2.5)).toBe("\u2212$12.5");
  });

  it("time ticks align to whole UTC minutes for an hour-long run", () => {
    const ticks = timeTicks(T0 + 30_000, T0 + 3_600_000, 6);
    expect(ticks.map((t) => t.label)).toEqual(["00:10", "00:20", "00:30", "00:40", "00:50", "01:00"]);
  });

  it("min/max downsampling keeps the extremes and first/last point", () => {
    const pts = Array.from({ length: 10_000 }, (_, i) => ({ x: T0 + i * 1000, y: Math.sin(i / 50) }));
    pts[4321] = { x: T0 + 4321 * 1000, y: -7 }; // a spike must survive thinning
    const out = downsampleMinMax(pts, 400);
    expect(out.length).toBeLessThanOrEqual(400);
    expect(out[0]).toEqual(pts[0]);
    expect(out.at(-1)).toEqual(pts.at(-1));
    expect(Math.min(...out.map((p) => p.y))).toBe(-7);
    for (let i = 1; i < out.length; i++) expect(out[i]!.x).toBeGreaterThanOrEqual(out[i - 1]!.x);
  });

  it("renders a path with one vertex per point and escapes labels", () => {
    const pts = Array.from({ length: 50 }, (_, i) => ({ x: T0 + i * 60_000, y: 100 + i }));
    const svg = renderLineChart([{ name: "<b>x</b>", points: pts }], { id: 'eq"1', title: "T <script>" });
    const d = /class="series-line[^"]*"[^>]*d="([^"]+)"/.exec(svg)?.[1] ?? "";
    expect((d.match(/[ML]/g) ?? []).length).toBe(50);
    expect(svg).not.toContain("<script>");
    expect(svg).not.toContain("<b>");
    expect(svg).toContain('data-chart="eq&quot;1"');
  });

  it("step series draw horizontal then vertical segments", () => {
    const svg = renderLineChart(
      [
        {
          name: "pos",
          step: true,
          points: [
            { x: T0, y: 0 },
            { x: T0 + 1000, y: 1 },
            { x: T0 + 2000, y: -1 },
          ],
        },
      ],
      { id: "p", title: "p" },
    );
    const d = /class="series-line[^"]*"[^>]*d="([^"]+)"/.exec(svg)?.[1] ?? "";
    expect((d.match(/L/g) ?? []).length).toBe(4);
  });

  it("a lone sample is a flat line ending at the right edge (the live chart's first second)", () => {
    const svg = renderLineChart([{ name: "e", points: [{ x: T0, y: 100 }] }], { id: "e", title: "e", width: 500 });
    const d = /class="series-line[^"]*"[^>]*d="([^"]+)"/.exec(svg)?.[1] ?? "";
    const verts = [...d.matchAll(/[ML]([\d.]+),([\d.]+)/g)].map((m) => ({ x: Number(m[1]), y: Number(m[2]) }));
    expect(verts).toHaveLength(2);
    const [a, b] = verts as [{ x: number; y: number }, { x: number; y: number }];
    expect(a.y).toBe(b.y);
    expect(b.x).toBeGreaterThan(a.x + 100);
  });

  it("no data renders a labelled placeholder, not an empty path", () => {
    const svg = renderLineChart([{ name: "e", points: [] }], { id: "e", title: "e", emptyText: "Nothing yet" });
    expect(svg).toContain('data-empty="true"');
    expect(svg).toContain("Nothing yet");
    expect(svg).not.toContain("series-line");
  });
});
