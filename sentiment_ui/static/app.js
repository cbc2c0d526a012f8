// The page: filters live in the URL (a view can be sent to a colleague); every number comes from
// the read-only JSON API beside it. Text from the warehouse is only ever set as textContent.
"use strict";

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"];
const state = { by: "day", source: [], topic: [], lang: "", from: "", to: "", order: "negative", q: "", window: null, tab: "trend" };
let meta = null;
let zoom = null;

const $ = (id) => document.getElementById(id);

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}

function showError(message) {
  const box = $("error");
  box.textContent = message || "";
  box.hidden = !message;
}

async function api(path, params) {
  const query = params ? "?" + params.toString() : "";
  const response = await fetch(path + query);
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || body.detail || response.statusText);
  return body;
}

// --- the URL holds the view ---------------------------------------------------------------------

function readUrl() {
  const p = new URLSearchParams(location.search);
  state.by = p.get("by") || "day";
  state.source = p.getAll("source");
  state.topic = p.getAll("topic");
  for (const key of ["lang", "from", "to", "q"]) state[key] = p.get(key) || "";
  state.order = p.get("order") || "negative";
  state.tab = p.get("tab") || "trend";
  state.window = p.get("window_start") ? { start: p.get("window_start"), end: p.get("window_end") } : null;
}

function filterParams() {
  const p = new URLSearchParams();
  p.set("by", state.by);
  state.source.forEach((s) => p.append("source", s));
  state.topic.forEach((t) => p.append("topic", t));
  for (const key of ["lang", "from", "to"]) if (state[key]) p.set(key, state[key]);
  return p;
}

function writeUrl() {
  const p = filterParams();
  if (state.tab !== "trend") p.set("tab", state.tab);
  if (state.window) {
    p.set("window_start", state.window.start);
    p.set("window_end", state.window.end);
    if (state.order !== "negative") p.set("order", state.order);
    if (state.q) p.set("q", state.q);
  }
  history.replaceState(null, "", "?" + p.toString());
}

// --- controls -------------------------------------------------------------------------------------

function checkboxes(container, name, items, chosen) {
  for (const item of items) {
    const label = el("label");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.name = name;
    box.value = item.name;
    box.checked = chosen.includes(item.name);
    label.append(box, " " + item.name + " ", el("span", `(${item.documents})`, "muted"));
    container.append(label);
  }
}

function buildControls() {
  $("root").textContent = meta.root;
  $("by").value = state.by;
  $("from").value = state.from;
  $("to").value = state.to;
  $("from").min = $("to").min = meta.first;
  $("from").max = $("to").max = meta.last;
  if (!meta.hourly) $("by").querySelector("option[value=hour]").disabled = true;
  for (const lang of meta.languages) $("lang").append(new Option(`${lang.name} (${lang.documents})`, lang.name));
  $("lang").value = state.lang;
  checkboxes($("sources"), "source", meta.sources, state.source);
  checkboxes($("topics"), "topic", meta.topics.slice(0, 40).map((t) => ({ name: t.topic, documents: t.documents })), state.topic);
  if (!meta.topics.length) $("topics").hidden = true;
  $("order").value = state.order;
  $("q").value = state.q;
  $("sql-tab").hidden = !meta.allow_sql;
}

function readControls() {
  state.by = $("by").value;
  state.from = $("from").value;
  state.to = $("to").value;
  state.lang = $("lang").value;
  state.source = [...document.querySelectorAll("#sources input:checked")].map((b) => b.value);
  state.topic = [...document.querySelectorAll("#topics input:checked")].map((b) => b.value);
}

// --- trend ----------------------------------------------------------------------------------------

async function drawTrend() {
  writeUrl();
  let data;
  try {
    data = await api("/api/trend", filterParams());
    showError("");
  } catch (err) {
    showError(err.message);
    return;
  }
  const traces = [];
  let lowest = 1;
  data.series.forEach((series, i) => {
    const color = COLORS[i % COLORS.length];
    const x = series.rows.map((r) => r.period);
    const name = series.name;
    lowest = Math.min(lowest, ...series.rows.map((r) => r.ci95_low ?? 0));
    traces.push({ x, y: series.rows.map((r) => r.ci95_high), mode: "lines", line: { width: 0 }, hoverinfo: "skip", showlegend: false, legendgroup: name });
    traces.push({
      x, y: series.rows.map((r) => r.ci95_low), mode: "lines", line: { width: 0 }, fill: "tonexty",
      fillcolor: color + "33", name: name + " 95% band", hoverinfo: "skip", showlegend: false, legendgroup: name,
    });
    traces.push({
      // a marker per point only where there are few: thousands of SVG markers slow the first draw
      x, y: series.rows.map((r) => r.mean_score), mode: series.rows.length > 400 ? "lines" : "lines+markers", name, legendgroup: name,
      line: { color }, marker: { size: 5 }, customdata: x,
      hovertemplate: "%{x}<br>mean %{y:.3f}<extra>" + name.replace(/[<>&]/g, "") + "</extra>",
    });
    traces.push({
      x, y: series.rows.map((r) => r.documents), type: "bar", yaxis: "y2", name: name + " documents", legendgroup: name,
      marker: { color }, opacity: 0.6, showlegend: false, customdata: x,
      hovertemplate: "%{x}<br>%{y} documents<extra>" + name.replace(/[<>&]/g, "") + "</extra>",
    });
  });
  if (data.alerts.length) {
    traces.push({
      x: data.alerts.map((a) => a.date), y: data.alerts.map(() => 1.02), mode: "markers", name: "alerts",
      marker: { symbol: "triangle-down", size: 11, color: data.alerts.map((a) => (a.severity === "error" ? "#b3261e" : "#e8a317")) },
      text: data.alerts.map((a) => `${a.check} (${a.source}): ${a.message}`), hovertemplate: "%{x}<br>%{text}<extra>alert</extra>",
    });
  }
  const layout = {
    margin: { t: 30, r: 20, b: 40, l: 55 }, barmode: "stack", hovermode: "closest", dragmode: "zoom",
    legend: { orientation: "h", y: 1.08 },
    xaxis: { type: "date", anchor: "y2" },
    yaxis: { title: "mean score", domain: [0.34, 1], range: [Math.max(-1.05, lowest - 0.1), 1.08], zeroline: true },
    yaxis2: { title: "documents", domain: [0, 0.26] },
    title: { text: `Mean score (95% band) and volume per ${state.by}`, font: { size: 14 } },
  };
  await Plotly.react("chart", traces, layout, { responsive: true, displaylogo: false });
  const chart = $("chart");
  chart.removeAllListeners && chart.removeAllListeners("plotly_click");
  chart.on("plotly_click", (event) => {
    const point = event.points.find((p) => p.customdata !== undefined);
    if (point) openWindow(periodWindow(point.customdata));
  });
  chart.removeAllListeners && chart.removeAllListeners("plotly_relayout");
  chart.on("plotly_relayout", (event) => {
    zoom = event["xaxis.range[0]"] ? [event["xaxis.range[0]"], event["xaxis.range[1]"]] : null;
  });
}

function utc(text) {
  // "2015-02-17" or "2015-02-17 08:00:00" (UTC) -> Date
  const t = text.length <= 10 ? text + "T00:00:00Z" : text.replace(" ", "T").slice(0, 19) + "Z";
  return new Date(t);
}

function periodWindow(period) {
  const start = utc(period);
  const end = new Date(start);
  if (state.by === "hour") end.setUTCHours(end.getUTCHours() + 1);
  else if (state.by === "day") end.setUTCDate(end.getUTCDate() + 1);
  else if (state.by === "week") end.setUTCDate(end.getUTCDate() + 7);
  else end.setUTCMonth(end.getUTCMonth() + 1);
  return { start: start.toISOString().slice(0, 19) + "Z", end: end.toISOString().slice(0, 19) + "Z" };
}

// --- drill-down -----------------------------------------------------------------------------------

function openWindow(window) {
  state.window = window;
  state.q = $("q").value;
  writeUrl();
  listDocuments();
}

function documentParams(extra) {
  const p = new URLSearchParams();
  p.set("start", state.window.start);
  p.set("end", state.window.end);
  state.source.forEach((s) => p.append("source", s));
  if (state.lang) p.set("lang", state.lang);
  if (state.topic.length === 1) p.set("topic", state.topic[0]);
  if (state.q) p.set("q", state.q);
  p.set("order", state.order);
  for (const [k, v] of Object.entries(extra || {})) p.set(k, v);
  return p;
}

async function listDocuments() {
  if (!state.window) return;
  let data;
  try {
    data = await api("/api/documents", documentParams({ limit: 100 }));
    showError("");
  } catch (err) {
    showError(err.message);
    return;
  }
  $("drill").hidden = false;
  const shown = (t) => t.replace("T", " ").replace("Z", "");
  $("drill-title").textContent = `Documents from ${shown(state.window.start)} to ${shown(state.window.end)} (UTC)`;
  $("drill-count").textContent = `${data.total} documents` + (data.total > data.rows.length ? `, the first ${data.rows.length} shown` : "");
  const labels = data.labels || [];
  const head = $("documents").tHead;
  head.replaceChildren();
  const row = head.insertRow();
  for (const name of ["Time (UTC)", "Source", "Lang", "Label", ...labels.map((l) => `P(${l})`), "Score", "Model", "Text"]) row.append(el("th", name));
  const body = $("documents").tBodies[0];
  body.replaceChildren();
  for (const doc of data.rows) {
    const tr = body.insertRow();
    tr.dataset.docId = doc.doc_id;
    tr.append(el("td", doc.published_at.replace("T", " ").replace("Z", "")), el("td", doc.source), el("td", doc.lang), el("td", doc.label, doc.label));
    for (const label of labels) tr.append(el("td", (doc["p_" + label] ?? 0).toFixed(3), "num"));
    tr.append(el("td", doc.score === null ? "" : doc.score.toFixed(3), "num"), el("td", doc.model_version));
    const text = el("td", null, "text");
    if (doc.title && doc.title !== doc.text) text.append(el("strong", doc.title), document.createElement("br"));
    text.append(doc.text || "");
    if (doc.url && /^https?:\/\//.test(doc.url)) {
      const link = el("a", "link");
      link.href = doc.url;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      link.addEventListener("click", (e) => e.stopPropagation());
      text.append(" ", link);
    }
    tr.append(text);
    tr.addEventListener("click", () => {
      body.querySelectorAll("tr.chosen").forEach((r) => r.classList.remove("chosen"));
      tr.classList.add("chosen");
      explain(doc);
    });
  }
}

// --- why ------------------------------------------------------------------------------------------

async function explain(doc) {
  let data;
  try {
    data = await api("/api/explain", new URLSearchParams({ doc_id: doc.doc_id, date: doc.date, source: doc.source }));
    showError("");
  } catch (err) {
    showError(err.message);
    return;
  }
  $("why").hidden = false;
  $("why-text").textContent = `${data.text} — labelled ${data.label} by ${data.scored_by}` + (data.scored_by !== data.model_version ? ` (explained by ${data.model_version}: that version is not in the registry)` : "");
  const x = data.steps.map((s, i) => i);
  const ticks = data.steps.map((s) => s.token);
  const traces = data.labels.map((label, i) => ({
    x, y: data.steps.map((s) => s.probabilities[label]), mode: "lines+markers", name: `P(${label})`,
    line: { color: { negative: "#b3261e", positive: "#1b7f3b", neutral: "#777777" }[label] || COLORS[i % COLORS.length] },
  }));
  traces.push({
    x, y: ["input gate", "forget gate", "output gate"], type: "heatmap", yaxis: "y2", colorscale: "Viridis", zmin: 0, zmax: 1,
    z: [data.steps.map((s) => s.input_gate), data.steps.map((s) => s.forget_gate), data.steps.map((s) => s.output_gate)],
    colorbar: { len: 0.35, y: 0.15, title: { text: "gate" } }, hovertemplate: "%{y} at '%{customdata}': %{z:.3f}<extra></extra>",
    customdata: [ticks, ticks, ticks],
  });
  const layout = {
    margin: { t: 20, r: 20, b: 90, l: 90 }, legend: { orientation: "h", y: 1.08 },
    xaxis: { tickmode: "array", tickvals: x, ticktext: ticks, tickangle: -45, anchor: "y2", zeroline: false },
    yaxis: { title: "probability", range: [0, 1], domain: [0.38, 1] },
    yaxis2: { domain: [0, 0.3] },
  };
  await Plotly.react("why-chart", traces, layout, { responsive: true, displaylogo: false });
  $("why").scrollIntoView({ behavior: "smooth", block: "nearest" });
}

// --- runs, model, alerts, SQL ---------------------------------------------------------------------

function fillTable(id, rows, columns) {
  const body = $(id).tBodies[0];
  body.replaceChildren();
  for (const row of rows) {
    const tr = body.insertRow();
    for (const c of columns) tr.append(el("td", typeof c === "function" ? c(row) : row[c]));
  }
}

async function showRuns() {
  try {
    const [runs, model] = await Promise.all([api("/api/runs"), api("/api/model")]);
    fillTable("runs", runs.runs, ["from", "to", "days", "model_version", "scored", "skipped", "written_at"]);
    fillTable("models", model.models, ["version", (m) => (m.current ? "yes" : ""), (m) => m.labels.join(", ")]);
    $("card").textContent = model.card || "(no model card)";
  } catch (err) {
    showError(err.message);
  }
}

async function showAlerts() {
  try {
    const data = await api("/api/alerts");
    fillTable("alerts", data.alerts, ["date", "source", "check", "severity", "value", "threshold", "message"]);
  } catch (err) {
    showError(err.message);
  }
}

async function runSql() {
  const response = await fetch("/api/sql", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ sql: $("sql").value }) });
  const body = await response.json();
  if (!response.ok) return showError(body.error || body.detail);
  showError("");
  const head = $("sql-result").tHead;
  head.replaceChildren();
  const tr = head.insertRow();
  body.columns.forEach((c) => tr.append(el("th", c)));
  fillTable("sql-result", body.rows, body.columns.map((_, i) => (r) => r[i]));
}

function showTab(name) {
  state.tab = name;
  document.querySelectorAll(".tab").forEach((b) => b.classList.toggle("active", b.dataset.tab === name));
  document.querySelectorAll(".panel").forEach((p) => (p.hidden = p.id !== "tab-" + name));
  writeUrl();
  if (name === "runs") showRuns();
  if (name === "alerts") showAlerts();
}

function download(path, params) {
  const a = el("a");
  a.href = path + "?" + params.toString();
  a.download = "";
  document.body.append(a);
  a.click();
  a.remove();
}

// --- start ----------------------------------------------------------------------------------------

async function start() {
  readUrl();
  try {
    meta = await api("/api/meta");
  } catch (err) {
    showError(err.message);
    return;
  }
  if (meta.empty) {
    showError(`No scored days in ${meta.root} yet: run \`sentiment demo\`, or ingest and score (docs/scoring.md).`);
    return;
  }
  buildControls();
  $("filters").addEventListener("change", () => {
    readControls();
    drawTrend();
  });
  document.querySelectorAll(".tab").forEach((b) => b.addEventListener("click", () => showTab(b.dataset.tab)));
  $("order").addEventListener("change", () => { state.order = $("order").value; writeUrl(); listDocuments(); });
  $("search").addEventListener("click", () => { state.q = $("q").value; writeUrl(); listDocuments(); });
  $("q").addEventListener("keydown", (e) => { if (e.key === "Enter") { state.q = $("q").value; writeUrl(); listDocuments(); } });
  $("range-docs").addEventListener("click", () => {
    const [a, b] = zoom || [state.from || meta.first, state.to ? periodWindow(state.to).end : periodWindow(meta.last).end];
    openWindow({ start: utc(String(a)).toISOString().slice(0, 19) + "Z", end: utc(String(b)).toISOString().slice(0, 19) + "Z" });
  });
  $("export-csv").addEventListener("click", () => download("/api/export/trend.csv", filterParams()));
  $("export-parquet").addEventListener("click", () => download("/api/export/trend.parquet", filterParams()));
  $("export-docs").addEventListener("click", () => {
    if (!state.window) return;
    const p = filterParams();
    p.set("window_start", state.window.start);
    p.set("window_end", state.window.end);
    p.set("order", state.order);
    if (state.q) p.set("q", state.q);
    download("/api/export/documents.csv", p);
  });
  $("copy-link").addEventListener("click", () => navigator.clipboard && navigator.clipboard.writeText(location.href));
  $("run-sql").addEventListener("click", runSql);
  await drawTrend();
  if (state.window) listDocuments();
  if (state.tab !== "trend") showTab(state.tab);
  document.body.dataset.ready = "true";
}

start();
