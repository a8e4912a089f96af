// The status page: it polls /api/status and /api/charts and draws them.
// No library: the page must work on a plant network without the internet.
"use strict";

const refreshMs = Number(new URLSearchParams(location.search).get("refresh")) || 2000;
const $ = (id) => document.getElementById(id);
const num = (n) => (n === null || n === undefined ? "–" : Number(n).toLocaleString("en-US"));
const pct = (p) => (p === null || p === undefined ? "–" : p.toFixed(1) + " %");

function bytes(n) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i === 0 ? n : n.toFixed(1)) + " " + units[i];
}

function duration(s) {
  if (s === null || s === undefined) return "–";
  s = Math.round(s);
  if (s < 60) return s + " s";
  if (s < 3600) return Math.floor(s / 60) + " min " + (s % 60) + " s";
  if (s < 86400) return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
  return Math.floor(s / 86400) + " d " + Math.floor((s % 86400) / 3600) + " h";
}

function ago(t, now) {
  if (!t) return "never";
  return duration(Math.max(0, (now - Date.parse(t)) / 1000)) + " ago";
}

function text(id, v) { $(id).textContent = v; }

function drainText(d) {
  if (!d.backlog) return "no backlog";
  if (d.stalled) return `stalled, ${num(d.remaining)} waiting`;
  if (d.etaS !== null) return `draining ${num(d.ratePerS)}/s, ${num(d.remaining)} left, ~${duration(d.etaS)}`;
  return `growing by ${num(-d.netPerS)}/s`;
}

function renderStatus(s) {
  const now = Date.parse(s.at);
  text("bridge", s.bridge);
  text("version", s.version + (s.commit ? " (" + s.commit.slice(0, 12) + ")" : ""));
  text("config-digest", s.configDigest || "–");
  text("uptime", duration(s.uptimeS));
  text("updated", new Date(now).toLocaleTimeString("en-GB"));
  $("updated").dataset.at = s.at; // the status's own time, to the nanosecond
  const state = s.publish.connected ? "connected" : "disconnected";
  text("publish-state", state);
  $("publish-state").dataset.state = state;
  text("published", num(s.publish.readingsAcked));
  text("publish-rate", num(s.publish.ratePerS));
  text("publish-reconnects", num(s.publish.reconnects));
  text("last-ack", ago(s.publish.lastAck, now));
  const b = s.buffer;
  text("buffer-depth", num(b.depth));
  text("buffer-bytes", bytes(b.bytes));
  text("buffer-max", bytes(b.maxBytes));
  text("buffer-oldest", duration(b.oldestAgeS));
  text("buffer-dropped", num(b.dropped));
  $("buffer-dropped").className = b.dropped > 0 ? "bad" : "";
  text("drain", drainText(b.drain));
  $("drain").className = b.drain.backlog ? (b.drain.etaS !== null ? "warn" : "bad") : "ok";
  renderServers(s.servers, now);
  renderOEE(s.oee || []);
}

function row(cells, attrs) {
  const tr = document.createElement("tr");
  for (const [k, v] of Object.entries(attrs)) tr.setAttribute(k, v);
  for (const [field, value, state] of cells) {
    const td = document.createElement("td");
    td.dataset.field = field;
    td.textContent = value;
    if (state) td.dataset.state = state;
    tr.appendChild(td);
  }
  return tr;
}

function renderServers(servers, now) {
  const body = $("servers").tBodies[0];
  body.replaceChildren(...servers.map((s) => row([
    ["name", s.name], ["state", s.state, s.state], ["items-ok", num(s.itemsOk)],
    ["items-failed", num(s.itemsFailed)], ["reconnects", num(s.reconnects)],
    ["readings", num(s.readings)], ["last-data", ago(s.lastData, now)],
  ], { "data-server": s.name })));
}

let trends = {};

function renderOEE(scopes) {
  $("oee-section").hidden = scopes.length === 0;
  const body = $("oee").tBodies[0];
  body.replaceChildren(...scopes.map((o) => {
    const key = o.station ? o.line + "/" + o.station : o.line;
    const r = o.rolling || {}, sh = o.shift;
    const tr = row([
      ["scope", o.station || o.line],
      ["rolling-oee", pct(r.oee)], ["rolling-availability", pct(r.availability)],
      ["rolling-performance", pct(r.performance)], ["rolling-quality", pct(r.quality)],
      ["shift-name", sh ? sh.shift + " " + sh.day : "no shift"], ["shift-oee", sh ? pct(sh.oee) : "–"],
      ["unplanned", duration(r.unplannedStopS)],
      ["small-stops", num(r.smallStops) + " / " + duration(r.smallStopS)],
      ["rejects", num(r.reject)],
    ], { "data-scope": key, class: o.station ? "station" : "line" });
    const td = document.createElement("td");
    td.appendChild(sparkline(trends[key]));
    tr.appendChild(td);
    return tr;
  }));
}

const svgNS = "http://www.w3.org/2000/svg";
function el(name, attrs, parent) {
  const e = document.createElementNS(svgNS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

// points scales (t, v) pairs into a w×h box; null values are skipped.
function points(ts, vs, t0, t1, vmax, w, h, pad) {
  const out = [];
  ts.forEach((t, i) => {
    if (vs[i] === null || vs[i] === undefined) return;
    const x = pad + (t1 > t0 ? (t - t0) / (t1 - t0) : 1) * (w - pad - 4);
    const y = h - 14 - (vmax > 0 ? vs[i] / vmax : 0) * (h - 24);
    out.push(x.toFixed(1) + "," + y.toFixed(1));
  });
  return out.join(" ");
}

function sparkline(tr) {
  const svg = el("svg", { class: "spark", viewBox: "0 0 160 32", preserveAspectRatio: "none" });
  if (!tr || tr.t.length < 2) return svg;
  el("line", { class: "grid", x1: 0, x2: 160, y1: 3, y2: 3 }, svg);
  el("polyline", { points: points(tr.t, tr.oee, tr.t[0], tr.t[tr.t.length - 1], 100, 160, 46, 0) }, svg);
  return svg;
}

function renderCharts(c) {
  trends = {};
  for (const tr of c.oee) trends[tr.station ? tr.line + "/" + tr.station : tr.line] = tr;
  const svg = $("rate-chart");
  svg.replaceChildren();
  const w = 600, h = 140, pad = 46;
  const vmax = Math.max(1, ...c.ackRate, ...c.commitRate) * 1.1;
  for (const f of [0, 0.5, 1]) {
    const y = h - 14 - f * (h - 24);
    el("line", { class: "grid", x1: pad, x2: w, y1: y, y2: y }, svg);
    el("text", { x: 2, y: y + 4 }, svg).textContent = num(Math.round(f * vmax));
  }
  if (c.t.length === 0) return;
  const t0 = c.t[0], t1 = c.t[c.t.length - 1];
  el("text", { x: pad, y: h - 1 }, svg).textContent = new Date(t0).toLocaleTimeString("en-GB");
  el("text", { x: w - 52, y: h - 1 }, svg).textContent = new Date(t1).toLocaleTimeString("en-GB");
  el("polyline", { class: "commit", points: points(c.t, c.commitRate, t0, t1, vmax, w, h, pad) }, svg);
  el("polyline", { class: "ack", points: points(c.t, c.ackRate, t0, t1, vmax, w, h, pad) }, svg);
}

async function refresh() {
  try {
    const [status, charts] = await Promise.all(["api/status", "api/charts"].map(async (u) => {
      const r = await fetch(u, { cache: "no-store" });
      if (!r.ok) throw new Error(u + ": " + r.status);
      return r.json();
    }));
    renderCharts(charts);
    renderStatus(status);
    $("error").hidden = true;
  } catch (e) {
    $("error").hidden = false;
    $("error").textContent = "bridge not reachable: " + e.message;
  }
  setTimeout(refresh, refreshMs);
}

refresh();
