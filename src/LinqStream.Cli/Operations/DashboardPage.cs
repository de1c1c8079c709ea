namespace LinqStream.Cli.Operations;

/// <summary>
/// The dashboard's one page: inline CSS and JavaScript (no build toolchain), an SVG graph of the plan and two canvas charts,
/// fed by the server-sent events of <c>/api/events</c>. <c>window.lsq</c> exposes the received series (the browser test reads it).
/// </summary>
internal static class DashboardPage
{
    public const string Html = """
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>LinqStream job</title>
<style>
  :root { --bg:#0f1720; --panel:#17212c; --line:#2b3a4a; --text:#dce6f0; --dim:#8ca0b3; --accent:#4fb3ff; --ok:#5ad19a; --warn:#ffb347; --bad:#ff6b6b; }
  * { box-sizing: border-box; }
  body { margin:0; font:14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; background:var(--bg); color:var(--text); }
  header { display:flex; align-items:center; gap:16px; padding:12px 20px; border-bottom:1px solid var(--line); }
  header h1 { font-size:18px; margin:0; }
  #status { padding:2px 10px; border-radius:10px; background:var(--line); color:var(--dim); }
  #status.live { background:#143d2b; color:var(--ok); }
  #guarantee { color:var(--dim); flex:1; white-space:nowrap; overflow:hidden; text-overflow:ellipsis; }
  button { background:var(--accent); color:#06121d; border:0; border-radius:6px; padding:7px 14px; font-weight:600; cursor:pointer; }
  button.stop { background:var(--bad); }
  button:disabled { background:var(--line); color:var(--dim); cursor:not-allowed; }
  main { padding:16px 20px; display:grid; grid-template-columns: 1fr 1fr; gap:16px; }
  section { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:12px 14px; min-width:0; }
  section h2 { font-size:13px; text-transform:uppercase; letter-spacing:.06em; color:var(--dim); margin:0 0 8px; }
  .wide { grid-column: 1 / 3; }
  .tiles { display:grid; grid-template-columns: repeat(5, 1fr); gap:10px; }
  .tile { background:#101a24; border-radius:6px; padding:8px 10px; }
  .tile b { display:block; font-size:20px; font-variant-numeric: tabular-nums; }
  .tile span { color:var(--dim); font-size:12px; }
  svg text { fill:var(--text); font-size:12px; }
  svg .sub { fill:var(--dim); font-size:11px; }
  svg rect.node { fill:#101a24; stroke:var(--accent); stroke-width:1.5; rx:6; }
  svg rect.node.blocked { stroke:var(--warn); }
  svg path.edge { stroke:var(--dim); fill:none; stroke-width:1.5; marker-end:url(#arrow); }
  canvas { width:100%; height:180px; display:block; }
  table { width:100%; border-collapse:collapse; font-size:12px; }
  th, td { text-align:left; padding:4px 6px; border-bottom:1px solid var(--line); }
  th { color:var(--dim); font-weight:500; }
  td.num { text-align:right; font-variant-numeric: tabular-nums; }
  .legend { color:var(--dim); font-size:12px; }
  .legend i { display:inline-block; width:10px; height:3px; margin:0 4px 3px 10px; vertical-align:middle; }
  #message { color:var(--warn); }
</style>
</head>
<body>
<header>
  <h1 id="job">LinqStream job</h1>
  <span id="status">connecting</span>
  <span id="guarantee"></span>
  <span id="message"></span>
  <button id="checkpoint">Checkpoint now</button>
  <button id="stop" class="stop">Stop</button>
</header>
<main>
  <section class="wide">
    <div class="tiles">
      <div class="tile"><b id="eventsIn">0</b><span>events in</span></div>
      <div class="tile"><b id="eventsOut">0</b><span>results out</span></div>
      <div class="tile"><b id="rate">0</b><span>events/s</span></div>
      <div class="tile"><b id="lag">–</b><span>watermark lag</span></div>
      <div class="tile"><b id="watermark">–</b><span>watermark</span></div>
      <div class="tile"><b id="late">0</b><span>late events</span></div>
      <div class="tile"><b id="dead">0</b><span>dead letters</span></div>
      <div class="tile"><b id="state">–</b><span>state (last checkpoint)</span></div>
      <div class="tile"><b id="blocked">0 s</b><span>backpressure (sources blocked)</span></div>
      <div class="tile"><b id="age">–</b><span>last checkpoint age</span></div>
    </div>
  </section>
  <section class="wide">
    <h2>Plan</h2>
    <svg id="plan" width="100%" height="120"><defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#8ca0b3"/></marker></defs></svg>
  </section>
  <section>
    <h2>Throughput <span class="legend"><i style="background:#4fb3ff"></i>events in/s<i style="background:#5ad19a"></i>results/s</span></h2>
    <canvas id="throughput" width="600" height="180"></canvas>
  </section>
  <section>
    <h2>Watermark lag (s)</h2>
    <canvas id="lagChart" width="600" height="180"></canvas>
  </section>
  <section>
    <h2>Checkpoints</h2>
    <table><thead><tr><th>id</th><th>time</th><th class="num">duration</th><th class="num">size</th></tr></thead><tbody id="checkpoints"></tbody></table>
  </section>
  <section>
    <h2>Dead letters</h2>
    <table><thead><tr><th>source</th><th>position</th><th>reason</th></tr></thead><tbody id="deadLetters"></tbody></table>
  </section>
</main>
<script>
"use strict";
const lsq = window.lsq = { updates: 0, throughput: [], results: [], lag: [], last: null, checkpointsTaken: [] };
const $ = id => document.getElementById(id);
const keep = 120;
const fmt = n => n >= 1e9 ? (n / 1e9).toFixed(2) + "G" : n >= 1e6 ? (n / 1e6).toFixed(2) + "M" : n >= 1e4 ? (n / 1e3).toFixed(1) + "k" : n >= 10 || Number.isInteger(n) ? String(Math.round(n)) : n.toFixed(2);
const bytes = n => n >= 1048576 ? (n / 1048576).toFixed(1) + " MB" : n >= 1024 ? (n / 1024).toFixed(1) + " kB" : n + " B";
const secs = s => s == null ? "–" : s >= 3600 ? (s / 3600).toFixed(1) + " h" : s >= 60 ? (s / 60).toFixed(1) + " min" : s.toFixed(s < 10 ? 2 : 0) + " s";
const text = s => String(s).replace(/[&<>"]/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

function push(series, value) { series.push(value); if (series.length > keep) series.shift(); }

function chart(canvas, lines) {
  const ctx = canvas.getContext("2d");
  const w = canvas.width, h = canvas.height, pad = 28;
  ctx.clearRect(0, 0, w, h);
  let max = 0;
  for (const l of lines) for (const v of l.data) max = Math.max(max, v);
  max = max > 0 ? max * 1.1 : 1;
  ctx.strokeStyle = "#2b3a4a"; ctx.fillStyle = "#8ca0b3"; ctx.font = "11px system-ui"; ctx.lineWidth = 1;
  for (let i = 0; i <= 4; i++) {
    const y = pad / 2 + (h - pad) * i / 4;
    ctx.beginPath(); ctx.moveTo(pad + 20, y); ctx.lineTo(w, y); ctx.stroke();
    ctx.fillText(fmt(max * (4 - i) / 4), 0, y + 4);
  }
  for (const l of lines) {
    ctx.strokeStyle = l.color; ctx.lineWidth = 2; ctx.beginPath();
    l.data.forEach((v, i) => {
      const x = pad + 20 + (w - pad - 20) * i / (keep - 1);
      const y = pad / 2 + (h - pad) * (1 - v / max);
      i ? ctx.lineTo(x, y) : ctx.moveTo(x, y);
    });
    ctx.stroke();
  }
}

let planKey = "";
function drawPlan(ops) {
  const svg = $("plan");
  const key = ops.map(o => o.id + o.name).join("|");
  const depth = {};
  const visit = (id, d) => { if (depth[id] === undefined || depth[id] < d) { depth[id] = d; } const op = ops[id]; if (op) op.inputs.forEach(i => visit(i, d + 1)); };
  if (ops.length) visit(0, 0);
  const maxDepth = Math.max(0, ...Object.values(depth));
  const rows = {}, pos = {};
  const bw = 190, bh = 58, gx = 60, gy = 16;
  for (const op of ops) {
    const d = depth[op.id] ?? 0, col = maxDepth - d;
    const row = rows[col] = (rows[col] ?? -1) + 1;
    pos[op.id] = { x: 10 + col * (bw + gx), y: 10 + row * (bh + gy) };
  }
  const height = 20 + Math.max(1, ...Object.values(rows).map(r => r + 1)) * (bh + gy);
  svg.setAttribute("height", height);
  if (key !== planKey) {
    planKey = key;
    svg.querySelectorAll("g, path.edge").forEach(e => e.remove());
    for (const op of ops) for (const i of op.inputs) {
      const a = pos[i], b = pos[op.id];
      const p = document.createElementNS("http://www.w3.org/2000/svg", "path");
      p.setAttribute("class", "edge");
      p.setAttribute("d", `M ${a.x + bw} ${a.y + bh / 2} C ${a.x + bw + gx / 2} ${a.y + bh / 2}, ${b.x - gx / 2} ${b.y + bh / 2}, ${b.x} ${b.y + bh / 2}`);
      svg.appendChild(p);
    }
    for (const op of ops) {
      const g = document.createElementNS("http://www.w3.org/2000/svg", "g");
      g.setAttribute("transform", `translate(${pos[op.id].x},${pos[op.id].y})`);
      g.setAttribute("data-operator", op.id);
      g.innerHTML = `<title>${text(op.name + " " + op.detail)}</title><rect class="node" width="${bw}" height="${bh}"></rect>` +
        `<text x="8" y="17">${text(op.id + " " + (op.name.length > 24 ? op.name.slice(0, 23) + "…" : op.name))}</text>` +
        `<text class="sub rate" x="8" y="34"></text><text class="sub bp" x="8" y="50"></text>`;
      svg.appendChild(g);
    }
  }
  for (const op of ops) {
    const g = svg.querySelector(`g[data-operator="${op.id}"]`);
    if (!g) continue;
    g.querySelector(".rate").textContent = `${fmt(op.eventsPerSecond)}/s · ${fmt(op.eventsOut)} out`;
    g.querySelector(".bp").textContent = op.inputs.length ? `${fmt(op.eventsIn)} in` : `backpressure ${secs(op.blockedSeconds)}`;
    g.querySelector("rect").classList.toggle("blocked", op.blockedSeconds > 0.5);
  }
}

function update(s) {
  lsq.updates++; lsq.last = s;
  $("job").textContent = s.job;
  $("eventsIn").textContent = fmt(s.eventsIn);
  $("eventsOut").textContent = fmt(s.eventsOut);
  $("rate").textContent = fmt(s.eventsPerSecond);
  $("lag").textContent = secs(s.lagSeconds);
  $("watermark").textContent = s.watermark == null ? "–" : new Date(s.watermark).toISOString().replace("T", " ").slice(0, 19);
  $("late").textContent = fmt(s.lateEvents);
  $("dead").textContent = fmt(s.deadLetters);
  $("state").textContent = s.checkpoints.length ? bytes(s.stateBytes) : "–";
  $("blocked").textContent = secs(s.blockedSeconds);
  $("age").textContent = secs(s.lastCheckpointAgeSeconds);
  push(lsq.throughput, s.eventsPerSecond); push(lsq.results, s.resultsPerSecond); push(lsq.lag, s.lagSeconds ?? 0);
  chart($("throughput"), [{ data: lsq.throughput, color: "#4fb3ff" }, { data: lsq.results, color: "#5ad19a" }]);
  chart($("lagChart"), [{ data: lsq.lag, color: "#ffb347" }]);
  drawPlan(s.operators);
  $("checkpoints").innerHTML = s.checkpoints.slice().reverse().slice(0, 10).map(c =>
    `<tr><td>${c.id}</td><td>${new Date(c.time).toLocaleTimeString()}</td><td class="num">${(c.durationSeconds * 1000).toFixed(1)} ms</td><td class="num">${bytes(c.bytes)}</td></tr>`).join("");
  $("deadLetters").innerHTML = s.recentDeadLetters.slice().reverse().slice(0, 10).map(d =>
    `<tr><td>${text(d.source)}</td><td>${text(d.position)}</td><td>${text(d.reason)}</td></tr>`).join("");
}

fetch("api/plan").then(r => r.json()).then(p => {
  $("guarantee").textContent = p.guarantee;
  $("checkpoint").disabled = !p.canCheckpoint;
  if (!p.canCheckpoint) $("checkpoint").title = "Run the job with --checkpoints DIR to take checkpoints.";
});

const events = new EventSource("api/events");
events.onopen = () => { $("status").textContent = "live"; $("status").className = "live"; };
events.onmessage = e => update(JSON.parse(e.data));
events.onerror = () => { $("status").textContent = "ended"; $("status").className = ""; };

$("checkpoint").onclick = async () => {
  $("message").textContent = "checkpointing…";
  const r = await fetch("api/checkpoint", { method: "POST" });
  const body = await r.json();
  if (r.ok) lsq.checkpointsTaken.push(body.id);
  $("message").textContent = r.ok ? `checkpoint ${body.id} taken` : body.error;
};
$("stop").onclick = async () => {
  $("stop").disabled = true;
  await fetch("api/stop", { method: "POST" });
  $("message").textContent = "stopping (final checkpoint)…";
};
</script>
</body>
</html>
""";
}
