// Save → applied per patch, as an SVG of stacked horizontal bars (oldest patch on top), one bar
// group per patch, split by phase: the server's `watch` and `queue`, the job's own phases
// (`rustc`, `link`, …; what the phases do not cover is `job other`), `commit`, then the slowest
// applying device's `wakeUp`, `transit`, `parse`, `fetch`, `load`, `apply`. Drawn in pixels at
// the container's width (so text stays readable on a phone), with an HTML legend that wraps.
// Failed patches (a compile error, a refused edit) get a faded bar up to where they stopped and
// a ✗, so a run of failures shows in the timeline instead of vanishing from it.
import { element, formatMs } from "./render.js";

const SVG = "http://www.w3.org/2000/svg";
const MAX_BARS = 30;

// A colour per segment; the job's phases share blues/teals, the device's greens.
const COLOURS = {
  watch: "#9aa3b2", queue: "#c2c8d2",
  rustc: "#2f6fdf", link: "#8b5cf6", relocate: "#0ea5b7", objectSymbols: "#38bdf8", selectUnits: "#5eead4",
  jumpTable: "#f59e0b", functionDiff: "#f472b6", changeDetection: "#64748b", "job other": "#94a3b8",
  commit: "#eab308",
  wakeUp: "#86efac", transit: "#4ade80", parse: "#22c55e", fetch: "#16a34a", load: "#15803d", apply: "#166534",
};
const EXTRA = ["#0891b2", "#7c3aed", "#db2777", "#ea580c", "#65a30d", "#0d9488", "#a16207", "#4f46e5"];

function colour(name) {
  if (COLOURS[name]) return COLOURS[name];
  let hash = 0;
  for (const char of name) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return EXTRA[hash % EXTRA.length];
}

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  node.append(...children);
  return node;
}

/** The job's phases, top level only (`rustc counter` is inside `rustc`). */
function jobPhases(patch) {
  const list = (patch.phases ?? []).filter((phase) => !phase.name.includes(" ") && (phase.durationMs ?? 0) > 0);
  return list.map((phase) => ({ name: phase.name, ms: phase.durationMs }));
}

/** The segments of one patch, in order, and its total (save → applied, or → finished). */
export function patchSegments(patch) {
  const latency = patch.latency;
  if (!latency) return null;
  const server = latency.segments ?? {};
  const segments = [];
  const add = (name, ms) => { if (ms !== undefined && ms !== null && ms > 0) segments.push({ name, ms }); };
  add("watch", server.watchMs);
  add("queue", server.queueMs);
  const phases = jobPhases(patch);
  const phaseSum = phases.reduce((sum, phase) => sum + phase.ms, 0);
  const job = server.jobMs ?? 0;
  if (phases.length && phaseSum <= job * 1.05 + 2) {
    segments.push(...phases);
    add("job other", job - phaseSum);
  } else {
    add("job", job);
  }
  add("commit", server.commitMs);
  const applied = (latency.devices ?? []).filter((device) => device.saveToAppliedMs !== undefined);
  const slowest = applied.sort((a, b) => b.saveToAppliedMs - a.saveToAppliedMs)[0];
  if (slowest) {
    for (const name of ["wakeUp", "transit", "parse", "fetch", "load", "apply"]) add(name, slowest.segments?.[`${name}Ms`]);
  }
  const total = slowest?.saveToAppliedMs ?? latency.saveToFinishedMs ?? segments.reduce((sum, s) => sum + s.ms, 0);
  return { segments, total, device: slowest?.device, saved: Boolean(latency.savedAt) };
}

/** Draws the chart of `patches` into `container` (an element holding the svg and the legend). */
export function renderChart(container, patches) {
  const rows = patches
    .filter((patch) => patch.state === "succeeded" || patch.state === "failed")
    .sort((a, b) => a.id - b.id)
    .slice(-MAX_BARS)
    .map((patch) => ({ patch, data: patchSegments(patch) }))
    .filter((row) => row.data && row.data.segments.length);
  if (!rows.length) {
    container.replaceChildren(element("p", { className: "empty", text: "Times show here once a patch is applied." }));
    return;
  }
  const width = Math.max(280, container.clientWidth || 600);
  const label = 46;
  const value = 64;
  const rowHeight = 22;
  const barHeight = 14;
  const top = 4;
  const height = top + rows.length * rowHeight + 4;
  const plot = width - label - value;
  const max = Math.max(...rows.map((row) => Math.max(row.data.total, row.data.segments.reduce((sum, s) => sum + s.ms, 0))), 1);
  const scale = plot / max;
  const chart = svg("svg", {
    id: "patch-chart", width, height, viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": `Save to applied for the last ${rows.length} patches, split by phase`,
  });
  chart.append(svg("title", {}, "Save → applied per patch, by phase"));
  const used = new Set();
  rows.forEach(({ patch, data }, index) => {
    const y = top + index * rowHeight;
    const failed = patch.state === "failed";
    const group = svg("g", { class: failed ? "bar failed" : "bar", "data-patch-id": patch.id, "data-state": patch.state, transform: `translate(0 ${y})` });
    group.append(svg("text", { x: 0, y: barHeight - 2, class: "chart-label" }, `#${patch.id}${patch.revertOf !== undefined ? "↶" : ""}${failed ? "✗" : ""}`));
    let x = label;
    for (const segment of data.segments) {
      const w = Math.max(1, segment.ms * scale);
      used.add(segment.name);
      group.append(svg("rect", { x: x.toFixed(1), y: 0, width: w.toFixed(1), height: barHeight, fill: colour(segment.name), "data-segment": segment.name },
        svg("title", {}, `#${patch.id} ${segment.name} ${formatMs(segment.ms)}`)));
      x += w;
    }
    const total = svg("text", { x: (label + plot + 4).toFixed(1), y: barHeight - 2, class: "chart-value" }, `${failed ? "✗ " : ""}${formatMs(data.total)}`);
    const end = failed ? "failed" : data.device ? "applied" : "finished";
    total.append(svg("title", {}, `#${patch.id}: ${data.saved ? "save" : "queued"} → ${end} ${formatMs(data.total)}`));
    group.append(total);
    chart.append(group);
  });
  const legend = element("ul", { className: "chart-legend" }, ...[...used].map((name) =>
    element("li", { data: { segment: name } }, element("span", { className: "swatch", attrs: { style: `background:${colour(name)}` } }), name)));
  container.replaceChildren(chart, legend);
}
