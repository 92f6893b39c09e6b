// The live terminal view: redrawn about once a second on a TTY (per symbol and venue: mid, our quotes, fills,
// position, PnL; risk state and alerts), one plain line every few seconds otherwise (logs, CI, pipes).
import type { DashboardSnapshot } from "./dashboard/types";

export interface ViewExtras {
  elapsedS: number;
  durationS?: number;
  /** Fills per venue|symbol. */
  fillsByBook: ReadonlyMap<string, number>;
  /** Trades per strategy id. */
  tradesByStrategy: ReadonlyMap<string, number>;
  dashboardUrl: string;
  counts: { ordersAtExchange: number; withoutRiskCheck: number; positionChanged: number; riskReports: number };
}

const pad = (s: string, n: number) => (s.length >= n ? s.slice(0, n) : s + " ".repeat(n - s.length));
const lpad = (s: string, n: number) => (s.length >= n ? s.slice(0, n) : " ".repeat(n - s.length) + s);

function fmt(x: string | undefined, dp = 2): string {
  if (x === undefined) return "-";
  const n = Number(x);
  return Number.isFinite(n) ? n.toFixed(dp) : x;
}

/** The full-screen frame (plain text; the caller clears the screen). */
export function renderFrame(s: DashboardSnapshot, x: ViewExtras): string {
  const lines: string[] = [];
  const dur = x.durationS !== undefined ? `/${x.durationS}s` : " (Ctrl-C to stop)";
  lines.push(
    `tse session ${s.runId ?? ""}  mode ${s.mode ?? "?"}  scenario ${s.scenario ?? "?"}  t=${x.elapsedS.toFixed(0)}s${dur}`,
  );
  const state = s.riskState === "ACTIVE" ? s.riskState : `*** ${s.riskState} ***`;
  lines.push(`risk ${state}${s.riskReason ? ` (${s.riskReason})` : ""}   dashboard ${x.dashboardUrl}`);
  const pnl = s.pnl;
  lines.push(
    `PnL total ${fmt(pnl?.total)}  realized ${fmt(pnl?.realized)}  unrealized ${fmt(pnl?.unrealized)}  fees ${fmt(pnl?.fees)}   ` +
      `drawdown ${s.drawdown.currentPct.toFixed(3)}% (max ${s.drawdown.maxPct.toFixed(3)}%)`,
  );
  lines.push("");
  lines.push(
    `${pad("symbol", 9)} ${pad("venue", 8)} ${lpad("mid", 11)} ${lpad("our bid", 11)} ${lpad("our ask", 11)} ${lpad("fills", 6)} ${lpad("position", 10)}`,
  );
  const posBySymbol = new Map<string, number>();
  for (const p of s.positions) posBySymbol.set(p.symbol, (posBySymbol.get(p.symbol) ?? 0) + Number(p.quantity));
  for (const q of s.quotes) {
    const mid = (Number(q.bid) + Number(q.ask)) / 2;
    lines.push(
      `${pad(q.symbol, 9)} ${pad(q.venue, 8)} ${lpad(mid.toFixed(2), 11)} ${lpad(q.ourBid ? fmt(q.ourBid) : "-", 11)} ${lpad(q.ourAsk ? fmt(q.ourAsk) : "-", 11)} ${lpad(String(x.fillsByBook.get(`${q.venue}|${q.symbol}`) ?? 0), 6)} ${lpad((posBySymbol.get(q.symbol) ?? 0).toFixed(4), 10)}`,
    );
  }
  lines.push("");
  const trades = [...x.tradesByStrategy].map(([k, v]) => `${k} ${v}`).join(", ") || "none yet";
  lines.push(`trades by strategy: ${trades}   open orders ${s.openOrders.length}`);
  lines.push(
    `orders at exchange ${x.counts.ordersAtExchange} (without risk check: ${x.counts.withoutRiskCheck})   PositionChanged ${x.counts.positionChanged} / risk monitor reports ${x.counts.riskReports}`,
  );
  lines.push("");
  lines.push("alerts:");
  const alerts = s.alerts.slice(-5);
  if (alerts.length === 0) lines.push("  (none)");
  for (const a of alerts) lines.push(`  ${new Date(a.ts).toISOString().slice(11, 19)} ${a.level} ${a.message}`);
  return lines.join("\n");
}

/** One line for non-TTY output. */
export function renderLine(s: DashboardSnapshot, x: ViewExtras): string {
  const trades = [...x.tradesByStrategy].map(([k, v]) => `${k}=${v}`).join(" ") || "none";
  return (
    `t=${x.elapsedS.toFixed(0)}s risk=${s.riskState} pnl=${fmt(s.pnl?.total)} trades[${trades}] ` +
    `open=${s.openOrders.length} orders=${x.counts.ordersAtExchange} unchecked=${x.counts.withoutRiskCheck} ` +
    `positionChanged=${x.counts.positionChanged} riskReports=${x.counts.riskReports}`
  );
}

export class TerminalView {
  private lastLine = 0;
  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly lineEveryMs = 5_000,
  ) {}

  get isTty(): boolean {
    return this.out.isTTY === true;
  }

  update(s: DashboardSnapshot, x: ViewExtras, now = Date.now()): void {
    if (this.isTty) {
      // Home + clear screen, then the frame.
      this.out.write(`\x1b[H\x1b[2J${renderFrame(s, x)}\n`);
      return;
    }
    if (now - this.lastLine >= this.lineEveryMs) {
      this.lastLine = now;
      this.out.write(`${renderLine(s, x)}\n`);
    }
  }
}
