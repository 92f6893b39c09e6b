// The dashboard page: one HTML document with inline CSS and inline JS (run under a nonce CSP).
// It subscribes to /api/events (SSE), drops the server-rendered SVG charts in, and builds the
// tables with textContent only, so nothing from a snapshot is ever parsed as HTML.
import { escapeHtml } from "../../lib/report/htmlEscape";
import { CHART_CSS } from "../../lib/report/svgCharts";

export function renderDashboardPage(opts: { nonce: string; title: string }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(opts.title)}</title>
<style nonce="${escapeHtml(opts.nonce)}">${PAGE_CSS}${CHART_CSS}</style>
</head>
<body>
<header class="top">
  <div class="brand"><span class="logo" aria-hidden="true"></span><div><div class="title">${escapeHtml(opts.title)}</div><div class="sub" id="run-meta">connecting\u2026</div></div></div>
  <div class="top-right">
    <div class="clock" id="clock">\u2014</div>
    <div class="conn" id="conn" data-state="connecting"><span class="dot"></span><span id="conn-text">connecting</span></div>
    <div class="state-badge" id="risk-state" data-state="">\u2014</div>
  </div>
</header>
<main>
<section class="kpis">
  <div class="kpi"><div class="k">Equity</div><div class="v" id="kpi-equity">\u2014</div><div class="s" id="kpi-equity-sub"></div></div>
  <div class="kpi"><div class="k">Total PnL</div><div class="v" id="kpi-pnl">\u2014</div><div class="s" id="kpi-pnl-sub"></div></div>
  <div class="kpi"><div class="k">Fees</div><div class="v" id="kpi-fees">\u2014</div><div class="s">paid (negative = rebates)</div></div>
  <div class="kpi"><div class="k">Drawdown</div><div class="v" id="kpi-dd">\u2014</div><div class="s" id="kpi-dd-sub"></div></div>
  <div class="kpi"><div class="k">Open orders</div><div class="v" id="kpi-orders">\u2014</div><div class="s" id="kpi-orders-sub"></div></div>
</section>
<div class="layout">
  <div class="main-col">
    <section class="card"><div class="card-head"><h2>Equity</h2><span class="muted" id="equity-note"></span></div><div id="equity-chart" class="chart-box"></div></section>
    <section class="card"><div class="card-head"><h2>Drawdown</h2><span class="muted">% below the all-time peak</span></div><div id="drawdown-chart" class="chart-box"></div></section>
  </div>
  <aside class="side-col">
    <section class="card risk" id="risk-card">
      <h2>Risk control</h2>
      <div class="risk-state-line">State <span class="state-pill" id="risk-state-pill">\u2014</span></div>
      <div class="muted" id="risk-reason"></div>
      <button type="button" class="kill" id="kill-switch" aria-describedby="kill-help">Kill switch \u2014 halt trading</button>
      <div class="muted small" id="kill-help">Sets the engine to HALTED: new orders are refused and open orders are cancelled.</div>
      <div class="confirm" id="kill-confirm" hidden>
        <div class="confirm-text">Halt all trading now?</div>
        <input type="text" id="kill-reason" maxlength="200" value="manual kill switch from dashboard" aria-label="Reason">
        <div class="confirm-buttons"><button type="button" class="kill small-btn" id="kill-confirm-btn">Confirm halt</button><button type="button" class="ghost small-btn" id="kill-cancel-btn">Cancel</button></div>
      </div>
      <button type="button" class="ghost resume" id="resume-btn" hidden>Resume trading (ACTIVE)</button>
      <div class="control-msg" id="control-msg" role="status"></div>
    </section>
    <section class="card" id="custody-card"><h2>Settlement</h2><table class="kv custody"><tbody>
      <tr><th scope="row">Instructed</th><td class="num" id="stl-instructed">\u2014</td></tr>
      <tr><th scope="row">Settled</th><td class="num" id="stl-settled">\u2014</td></tr>
      <tr><th scope="row">Failed</th><td class="num" id="stl-failed">\u2014</td></tr>
      <tr><th scope="row">Pending</th><td class="num" id="stl-pending">\u2014</td></tr>
      <tr><th scope="row">Reconciliations</th><td class="num" id="rec-runs">\u2014</td></tr>
      <tr><th scope="row">Breaks (last run)</th><td class="num" id="rec-breaks">\u2014</td></tr>
    </tbody></table></section>
    <section class="card"><div class="card-head"><h2>Alerts</h2><span class="muted" id="alerts-count"></span></div><ul class="alerts" id="alerts"></ul></section>
  </aside>
</div>
<div class="grid2">
  <section class="card"><h2>Positions</h2><div class="tbl"><table><thead><tr><th>Symbol</th><th>Venue</th><th>Strategy</th><th class="num">Quantity</th><th class="num">Avg price</th><th class="num">Mark</th><th class="num">Unrealized</th><th class="num">Realized</th></tr></thead><tbody id="positions"></tbody></table></div></section>
  <section class="card"><h2>Open orders</h2><div class="tbl"><table><thead><tr><th>Time</th><th>Venue</th><th>Symbol</th><th>Side</th><th class="num">Price</th><th class="num">Filled / qty</th><th>Strategy</th><th>Status</th></tr></thead><tbody id="open-orders"></tbody></table></div></section>
  <section class="card"><h2>Recent fills</h2><div class="tbl"><table><thead><tr><th>Time</th><th>Venue</th><th>Symbol</th><th>Side</th><th class="num">Qty</th><th class="num">Price</th><th class="num">Fee</th><th>Liq.</th><th>Strategy</th></tr></thead><tbody id="fills"></tbody></table></div></section>
  <section class="card"><h2>Market</h2><div class="tbl"><table><thead><tr><th>Venue</th><th>Symbol</th><th class="num">Bid</th><th class="num">Ask</th><th class="num">Spread</th><th class="num">Our bid</th><th class="num">Our ask</th><th>Age</th></tr></thead><tbody id="quotes"></tbody></table></div></section>
</div>
</main>
<script nonce="${escapeHtml(opts.nonce)}">${PAGE_JS}</script>
</body>
</html>
`;
}

const PAGE_CSS = `
:root{--bg:#0b1020;--panel:#121a2e;--panel2:#17213a;--line:#24304d;--ink:#e6eaf2;--muted:#8b97b0;--pos:#34d399;--neg:#f87171;--warn:#fbbf24;
--c0:#60a5fa;--c1:#fbbf24;--c2:#34d399;--c3:#a78bfa;--c4:#f472b6;--c5:#22d3ee;--c-loss:#f87171;
--chart-grid:#1f2a44;--chart-text:#8b97b0;--chart-zero:#55627f;--chart-axis:#55627f}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:13px/1.45 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans","DejaVu Sans",sans-serif;font-variant-numeric:tabular-nums}
.top{display:flex;justify-content:space-between;align-items:center;padding:12px 22px;border-bottom:1px solid var(--line);background:#0d1426;position:sticky;top:0;z-index:5}
.brand{display:flex;gap:12px;align-items:center}
.logo{width:26px;height:26px;border-radius:7px;background:linear-gradient(135deg,#3b82f6,#22d3ee)}
.title{font-weight:700;font-size:15px}
.sub{color:var(--muted);font-size:12px}
.top-right{display:flex;gap:16px;align-items:center}
.clock{color:var(--muted);font-size:12px}
.conn{display:flex;gap:6px;align-items:center;color:var(--muted);font-size:12px}
.conn .dot{width:8px;height:8px;border-radius:50%;background:var(--warn)}
.conn[data-state=live] .dot{background:var(--pos);box-shadow:0 0 0 3px rgba(52,211,153,.15)}
.conn[data-state=down] .dot{background:var(--neg)}
.state-badge,.state-pill{font-weight:800;letter-spacing:.06em;border-radius:999px;padding:4px 12px;font-size:12px;background:var(--panel2);color:var(--muted)}
[data-state=ACTIVE].state-badge,[data-state=ACTIVE].state-pill{background:rgba(52,211,153,.14);color:var(--pos)}
[data-state=REDUCING].state-badge,[data-state=REDUCING].state-pill{background:rgba(251,191,36,.14);color:var(--warn)}
[data-state=HALTED].state-badge,[data-state=HALTED].state-pill{background:rgba(248,113,113,.18);color:var(--neg)}
main{padding:16px 22px 28px;max-width:1600px;margin:0 auto}
.kpis{display:grid;grid-template-columns:repeat(5,1fr);gap:12px;margin-bottom:14px}
.kpi{background:var(--panel);border:1px solid var(--line);border-radius:10px;padding:10px 14px}
.kpi .k{color:var(--muted);font-size:12px}
.kpi .v{font-size:20px;font-weight:700;margin-top:2px;white-space:nowrap}
.kpi .s{color:var(--muted);font-size:12px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.layout{display:grid;grid-template-columns:minmax(0,2.2fr) minmax(280px,1fr);gap:14px}
.card{background:var(--panel);border:1px solid var(--line);border-radius:10px;padding:12px 14px;margin-bottom:14px}
.card-head{display:flex;justify-content:space-between;align-items:baseline;gap:10px}
h2{font-size:13px;margin:0 0 8px;font-weight:650;color:#c9d2e3;letter-spacing:.02em}
.muted{color:var(--muted);font-size:12px}
.small{font-size:11.5px}
.pos{color:var(--pos)}.neg{color:var(--neg)}
.risk .risk-state-line{display:flex;gap:10px;align-items:center;font-weight:600;margin-bottom:4px}
#risk-reason{min-height:16px;margin-bottom:10px}
button{font:inherit;cursor:pointer;border-radius:8px}
button.kill{width:100%;background:#dc2626;color:#fff;border:1px solid #ef4444;padding:11px 12px;font-weight:800;letter-spacing:.04em;text-transform:uppercase;font-size:13px}
button.kill:hover:not(:disabled){background:#b91c1c}
button.kill:disabled{background:#3a2430;border-color:#4b2b37;color:#b88;cursor:not-allowed}
button.ghost{background:transparent;color:var(--ink);border:1px solid var(--line);padding:8px 12px}
button.ghost:hover{background:var(--panel2)}
button.resume{width:100%;margin-top:10px}
.small-btn{width:auto!important;padding:7px 12px!important;font-size:12px!important}
#kill-help{margin-top:6px}
.confirm{margin-top:10px;padding:10px;border:1px solid #7f1d1d;background:rgba(127,29,29,.25);border-radius:8px}
.confirm-text{font-weight:700;margin-bottom:6px}
.confirm input{width:100%;background:var(--bg);color:var(--ink);border:1px solid var(--line);border-radius:6px;padding:6px 8px;margin-bottom:8px;font:inherit}
.confirm-buttons{display:flex;gap:8px}
.control-msg{margin-top:8px;font-size:12px;min-height:16px}
.control-msg.err{color:var(--neg)}
.alerts{list-style:none;margin:0;padding:0;max-height:268px;overflow:auto}
.alerts li{padding:6px 0;border-bottom:1px solid var(--line);display:grid;grid-template-columns:62px 1fr;gap:8px}
.alerts .t{color:var(--muted);font-size:11.5px}
.alerts .lvl-CRITICAL .m{color:var(--neg)}.alerts .lvl-WARN .m{color:var(--warn)}
.grid2{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:0 14px}
.tbl{max-height:260px;overflow:auto}
table{border-collapse:collapse;width:100%}
th,td{padding:5px 7px;text-align:left;border-bottom:1px solid var(--line);white-space:nowrap}
th{color:var(--muted);font-weight:600;font-size:11.5px;position:sticky;top:0;background:var(--panel)}
td.num,th.num{text-align:right}
td.empty{color:var(--muted);text-align:center;padding:14px}
.side{font-weight:700;font-size:11px;letter-spacing:.04em;padding:1px 6px;border-radius:4px}
.side.BUY{color:var(--pos);background:rgba(52,211,153,.12)}.side.SELL{color:var(--neg);background:rgba(248,113,113,.12)}
.chart-box{min-height:120px}
@media (max-width:1100px){.layout,.grid2{grid-template-columns:1fr}.kpis{grid-template-columns:repeat(3,1fr)}}
`;

// Plain browser JS (no template literals, so it can live inside this TS template string).
const PAGE_JS = `
"use strict";
(function(){
var MINUS="\\u2212", DASH="\\u2014";
var last=null;
function $(id){return document.getElementById(id);}
function group(i){return i.replace(/\\B(?=(\\d{3})+(?!\\d))/g,",");}
function dec(s){ if(s===undefined||s===null||s==="") return DASH; var str=String(s); var neg=str.charAt(0)==="-"; if(neg) str=str.slice(1); var p=str.split("."); return (neg?MINUS:"")+group(p[0])+(p[1]?"."+p[1]:""); }
function money(s,signed,dp){ if(s===undefined||s===null) return DASH; var n=Number(s); if(!isFinite(n)) return DASH; var d=dp===undefined?2:dp; var t="$"+Math.abs(n).toLocaleString("en-US",{minimumFractionDigits:d,maximumFractionDigits:d}); if(n<0&&Math.abs(n)>=Math.pow(10,-d)/2) return MINUS+t; if(signed&&n>0) return "+"+t; return t; }
function pct(n,dp){ if(typeof n!=="number"||!isFinite(n)) return DASH; var t=Math.abs(n).toFixed(dp===undefined?2:dp); return (n<0&&Number(t)!==0?MINUS:"")+t+"\\u202f%"; }
function cls(s){ var n=Number(s); return n>0?"pos":n<0?"neg":""; }
function time(ts){ return new Date(ts).toISOString().slice(11,19); }
function setText(id,text,className){ var el=$(id); el.textContent=text; if(className!==undefined) el.className="v "+className; }
function cell(tr,text,c){ var td=document.createElement("td"); td.textContent=text; if(c) td.className=c; tr.appendChild(td); return td; }
function sideCell(tr,side){ var td=document.createElement("td"); var s=document.createElement("span"); s.className="side "+(side==="BUY"?"BUY":"SELL"); s.textContent=side; td.appendChild(s); tr.appendChild(td); }
function fillBody(id,rows,cols,emptyText){ var tb=$(id); var frag=document.createDocumentFragment(); if(rows.length===0){ var tr=document.createElement("tr"); var td=document.createElement("td"); td.colSpan=cols; td.className="empty"; td.textContent=emptyText; tr.appendChild(td); frag.appendChild(tr);} else { rows.forEach(function(r){frag.appendChild(r);}); } tb.replaceChildren(frag); tb.setAttribute("data-rows",String(rows.length)); }
function render(s, charts){
  last=s;
  var meta=[]; if(s.runId) meta.push("run "+s.runId); if(s.mode) meta.push(s.mode); if(s.scenario) meta.push("scenario "+s.scenario); if(s.strategies&&s.strategies.length) meta.push(s.strategies.join(", "));
  $("run-meta").textContent=meta.join(" \\u00b7 ")||"live session";
  $("clock").textContent=new Date(s.now).toISOString().replace("T"," ").slice(0,19)+" UTC";
  var badge=$("risk-state"); badge.textContent=s.riskState; badge.setAttribute("data-state",s.riskState);
  var pill=$("risk-state-pill"); pill.textContent=s.riskState; pill.setAttribute("data-state",s.riskState);
  $("risk-reason").textContent=s.riskReason?("Reason: "+s.riskReason):"";
  var halted=s.riskState==="HALTED"; var kill=$("kill-switch");
  kill.disabled=halted; kill.textContent=halted?"Trading halted":"Kill switch \\u2014 halt trading";
  if(halted) $("kill-confirm").hidden=true;
  $("resume-btn").hidden=!halted;
  var eq=s.equityCurve; var lastEq=eq.length?eq[eq.length-1].equity:null;
  setText("kpi-equity",lastEq===null?DASH:money(lastEq));
  $("kpi-equity-sub").textContent=eq.length?(eq.length+(eq.length===1?" point":" points")+", since "+time(eq[0].ts)):"no samples yet";
  if(s.pnl){ setText("kpi-pnl",money(s.pnl.total,true),cls(s.pnl.total)); $("kpi-pnl-sub").textContent="realized "+money(s.pnl.realized,true)+" \\u00b7 unrealized "+money(s.pnl.unrealized,true); setText("kpi-fees",money(s.pnl.fees)); }
  setText("kpi-dd",pct(-s.drawdown.currentPct),s.drawdown.currentPct>0?"neg":"");
  $("kpi-dd-sub").textContent="max "+pct(s.drawdown.maxPct)+" ("+money(s.drawdown.max)+")";
  setText("kpi-orders",String(s.openOrders.length));
  $("kpi-orders-sub").textContent=s.recentFills.length+" recent fills";
  if(charts){ $("equity-chart").innerHTML=charts.equity; $("drawdown-chart").innerHTML=charts.drawdown; }
  $("equity-note").textContent="last "+eq.length+(eq.length===1?" sample":" samples")+" \\u00b7 USD";
  fillBody("positions",s.positions.map(function(p){ var tr=document.createElement("tr"); cell(tr,p.symbol); cell(tr,p.venue||"all"); cell(tr,p.strategyId||DASH); cell(tr,dec(p.quantity),"num "+cls(p.quantity)); cell(tr,dec(p.avgPrice),"num"); cell(tr,dec(p.markPrice),"num"); cell(tr,money(p.unrealizedPnl,true),"num "+cls(p.unrealizedPnl)); cell(tr,money(p.realizedPnl,true),"num "+cls(p.realizedPnl)); return tr; }),8,"Flat \\u2014 no positions");
  fillBody("open-orders",s.openOrders.slice().sort(function(a,b){return b.ts-a.ts;}).map(function(o){ var tr=document.createElement("tr"); cell(tr,time(o.ts)); cell(tr,o.venue); cell(tr,o.symbol); sideCell(tr,o.side); cell(tr,o.price?dec(o.price):"MKT","num"); cell(tr,dec(o.filledQty||"0")+" / "+dec(o.qty),"num"); cell(tr,o.strategyId||DASH); cell(tr,(o.status||"open").toLowerCase()); return tr; }),8,"No open orders");
  fillBody("fills",s.recentFills.slice().reverse().map(function(f){ var tr=document.createElement("tr"); cell(tr,time(f.ts)); cell(tr,f.venue); cell(tr,f.symbol); sideCell(tr,f.side); cell(tr,dec(f.qty),"num"); cell(tr,dec(f.price),"num"); cell(tr,money(f.fee,false,4),"num"); cell(tr,f.liquidity?f.liquidity.toLowerCase():DASH); cell(tr,f.strategyId||DASH); return tr; }),9,"No fills yet");
  fillBody("quotes",s.quotes.map(function(q){ var tr=document.createElement("tr"); var b=Number(q.bid), a=Number(q.ask), mid=(a+b)/2; cell(tr,q.venue); cell(tr,q.symbol); cell(tr,dec(q.bid),"num"); cell(tr,dec(q.ask),"num"); cell(tr,mid>0?((a-b)/mid*1e4).toFixed(1)+" bps":DASH,"num"); cell(tr,q.ourBid?dec(q.ourBid):DASH,"num"); cell(tr,q.ourAsk?dec(q.ourAsk):DASH,"num"); cell(tr,Math.max(0,Math.round((s.now-q.ts)/1000))+"s"); return tr; }),8,"No quotes yet");
  if(s.custody){ var st=s.custody.settlement, rc=s.custody.reconciliation; var num=function(id,v,bad){ var el=$(id); el.textContent=String(v); el.className="num"+(bad&&v>0?" neg":""); }; num("stl-instructed",st.instructed); num("stl-settled",st.settled); num("stl-failed",st.failed,true); num("stl-pending",st.pending); num("rec-runs",rc.runs); num("rec-breaks",rc.breaks,true); }
  var ul=$("alerts"); var frag=document.createDocumentFragment();
  s.alerts.slice().reverse().forEach(function(a){ var li=document.createElement("li"); li.className="lvl-"+a.level; var t=document.createElement("span"); t.className="t"; t.textContent=time(a.ts); var m=document.createElement("span"); m.className="m"; m.textContent=(a.level!=="INFO"?a.level+": ":"")+a.message; li.appendChild(t); li.appendChild(m); frag.appendChild(li); });
  if(s.alerts.length===0){ var li=document.createElement("li"); li.className="muted"; li.textContent="No alerts"; frag.appendChild(li); }
  ul.replaceChildren(frag); $("alerts-count").textContent=s.alerts.length?String(s.alerts.length):"";
}
function conn(state,text){ var c=$("conn"); c.setAttribute("data-state",state); $("conn-text").textContent=text; }
function msg(text,isErr){ var m=$("control-msg"); m.textContent=text; m.className="control-msg"+(isErr?" err":""); }
function post(path,body){
  return fetch(path,{method:"POST",headers:{"content-type":"application/json","x-tse-dashboard":"1"},body:JSON.stringify(body),cache:"no-store",credentials:"same-origin"})
    .then(function(r){ return r.json().then(function(j){ if(!r.ok) throw new Error(j&&j.error?j.error:("HTTP "+r.status)); return j; }); });
}
function refresh(){ return fetch("/api/snapshot",{cache:"no-store"}).then(function(r){return r.json();}).then(function(s){ if(s&&s.riskState) render(s,null); }); }
$("kill-switch").addEventListener("click",function(){ $("kill-confirm").hidden=false; $("kill-confirm-btn").focus(); });
$("kill-cancel-btn").addEventListener("click",function(){ $("kill-confirm").hidden=true; });
$("kill-confirm-btn").addEventListener("click",function(){
  var btn=$("kill-confirm-btn"); btn.disabled=true; msg("Sending kill switch\\u2026",false);
  post("/api/kill-switch",{reason:$("kill-reason").value}).then(function(j){ msg("Engine state: "+(j.riskState||j.requested),false); $("kill-confirm").hidden=true; return refresh(); })
    .catch(function(e){ msg("Kill switch failed: "+e.message,true); }).then(function(){ btn.disabled=false; });
});
var resumeArmed=false;
$("resume-btn").addEventListener("click",function(){
  var b=$("resume-btn");
  if(!resumeArmed){ resumeArmed=true; b.textContent="Click again to resume trading"; setTimeout(function(){ resumeArmed=false; b.textContent="Resume trading (ACTIVE)"; },4000); return; }
  resumeArmed=false; b.textContent="Resume trading (ACTIVE)";
  post("/api/trading-state",{state:"ACTIVE",reason:"resumed from dashboard"}).then(function(j){ msg("Engine state: "+(j.riskState||j.requested),false); return refresh(); }).catch(function(e){ msg("Resume failed: "+e.message,true); });
});
function connect(){
  var es=new EventSource("/api/events");
  es.addEventListener("snapshot",function(ev){ conn("live","live"); try{ var d=JSON.parse(ev.data); render(d.snapshot,d.charts); }catch(e){ conn("down","bad data"); } });
  es.addEventListener("source-error",function(ev){ conn("down","source error"); try{ msg(JSON.parse(ev.data).error,true);}catch(e){} });
  es.onerror=function(){ conn("down","reconnecting\\u2026"); };
}
connect();
})();
`;
