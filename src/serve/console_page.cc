#include "serve/console_page.h"

namespace duosync {

// Text from the server is always put in the page with textContent, never as HTML.
const char* ConsolePageHtml() {
  return R"HTML(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>duosync console</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:16px;color:#1d2733;background:#f6f8fa}
h1{font-size:20px;margin:0 0 12px}h2{font-size:16px;margin:18px 0 6px}
.project{background:#fff;border:1px solid #d5dbe1;border-radius:6px;padding:12px;margin-bottom:16px}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #e6eaee;vertical-align:top}
th{font-weight:600;color:#566}.stage{font-weight:600}.failed{color:#b00020}.incremental{color:#1a7f37}
.bar{background:#e6eaee;border-radius:3px;height:8px;width:140px}.bar>div{background:#2f81f7;height:8px;border-radius:3px}
canvas{background:#fbfcfd;border:1px solid #e6eaee}.muted{color:#789}.err{color:#b00020;white-space:pre-wrap}
pre{margin:0;white-space:pre-wrap;font-size:12px}
</style></head><body>
<h1>duosync console <span id="updated" class="muted"></span></h1>
<div id="projects"><p class="muted">loading…</p></div>
<script>
"use strict";
const history = {};  // "project/link" -> [lag seconds], the last 180 samples
const charts = {};
let conflicts = {};
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}
function num(v) { return Number(v || 0); }
function bar(done, total) {
  const pct = total > 0 ? Math.min(100, 100 * done / total) : 0;
  const inner = el("div"); inner.style.width = pct.toFixed(0) + "%";
  return el("div", {class: "bar", title: done + " / " + total}, inner);
}
function drawChart(canvas, samples) {
  const g = canvas.getContext("2d"), w = canvas.width, h = canvas.height;
  g.clearRect(0, 0, w, h);
  const max = Math.max(1, ...samples);
  g.strokeStyle = "#2f81f7"; g.beginPath();
  samples.forEach((v, i) => {
    const x = w - (samples.length - 1 - i) * (w / 180), y = h - 2 - (h - 4) * v / max;
    i ? g.lineTo(x, y) : g.moveTo(x, y);
  });
  g.stroke(); g.fillStyle = "#789"; g.font = "10px sans-serif"; g.fillText("max " + max.toFixed(1) + " s", 4, 10);
}
function render(projects) {
  const root = document.getElementById("projects");
  root.replaceChildren();
  if (!projects.length) root.append(el("p", {class: "muted"}, "no project is running"));
  for (const p of projects) {
    const box = el("div", {class: "project", "data-project": p.name});
    box.append(el("h2", {}, p.name + " ", el("span", {class: "muted"}, p.scenario + " · " + p.state)));
    const t = el("table", {class: "links"});
    t.append(el("tr", {}, ...["link", "stage", "lag", "lag, last minutes", "rows/s", "transactions", "rows",
                              "conflicts", "echoes dropped", "full migration", "error"].map(h => el("th", {}, h))));
    for (const l of p.links || []) {
      const key = p.name + "/" + l.name;
      const lag = num(l.lag_seconds);
      (history[key] = history[key] || []).push(lag);
      if (history[key].length > 180) history[key].shift();
      const canvas = charts[key] || (charts[key] = el("canvas", {width: 180, height: 36}));
      drawChart(canvas, history[key]);
      const full = num(l.full_rows_estimated) > 0 ? bar(num(l.full_rows_copied), num(l.full_rows_estimated))
                                                   : el("span", {class: "muted"}, "—");
      t.append(el("tr", {"data-link": l.name},
        el("td", {}, l.name + " (" + l.source + " → " + l.destination + ")"),
        el("td", {class: "stage " + l.stage}, l.stage,
          ...(l.owner_member ? [el("div", {class: "muted owner"}, "owner " + l.owner_member)] : [])),
        el("td", {class: "lag"}, lag.toFixed(1) + " s"),
        el("td", {}, canvas),
        el("td", {}, num(l.rows_per_second).toFixed(0)),
        el("td", {class: "transactions"}, num(l.transactions_applied)),
        el("td", {}, num(l.rows_applied)),
        el("td", {class: "conflicts"}, num(l.conflicts)),
        el("td", {}, num(l.echoes_dropped)),
        el("td", {}, full),
        el("td", {class: "err"}, l.last_error || "")));
    }
    box.append(t);
    const c = conflicts[p.name];
    box.append(el("h2", {}, "latest conflicts"));
    const rows = [];
    for (const [link, log] of Object.entries(c || {})) {
      if (!log || !log.conflicts) continue;
      for (const r of log.conflicts.slice(0, 10)) rows.push(Object.assign({link}, r));
    }
    if (!rows.length) {
      box.append(el("p", {class: "muted"}, c && c.error ? c.error : "none"));
    } else {
      const ct = el("table", {class: "conflicts"});
      ct.append(el("tr", {}, ...["time", "link", "table", "key", "operation", "incoming (before → after)",
                                 "destination had", "policy", "outcome"].map(h => el("th", {}, h))));
      for (const r of rows) {
        ct.append(el("tr", {class: "conflict"},
          el("td", {}, r.time ? new Date(r.time * 1000).toISOString().replace("T", " ").slice(0, 19) : ""),
          el("td", {}, r.link), el("td", {}, r.table), el("td", {}, r.key), el("td", {}, r.operation),
          el("td", {}, el("pre", {}, (r.incoming_before || "—") + "\n→ " + (r.incoming_after || "—"))),
          el("td", {}, el("pre", {}, r.destination || "—")), el("td", {}, r.policy), el("td", {}, r.outcome)));
      }
      box.append(ct);
    }
    root.append(box);
  }
  document.getElementById("updated").textContent = "· " + new Date().toLocaleTimeString();
}
async function poll() {
  try {
    const r = await fetch("status", {cache: "no-store"});
    render(await r.json());
  } catch (e) {
    document.getElementById("updated").textContent = "· cannot reach the project: " + e;
  }
}
async function pollConflicts() {
  try {
    const r = await fetch("conflicts", {cache: "no-store"});
    conflicts = await r.json();
  } catch (e) {}
}
pollConflicts().then(poll);
setInterval(poll, 1000);
setInterval(pollConflicts, 5000);
</script></body></html>
)HTML";
}

}  // namespace duosync
