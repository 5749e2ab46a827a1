// Turns the API's resources into DOM. Every value goes through textContent.
import { renderAnsi } from "./ansi.js";

export function element(tag, options = {}, ...children) {
  const node = document.createElement(tag);
  if (options.className) node.className = options.className;
  if (options.text !== undefined) node.textContent = options.text;
  for (const [key, value] of Object.entries(options.data ?? {})) node.dataset[key] = value;
  for (const [key, value] of Object.entries(options.attrs ?? {})) node.setAttribute(key, value);
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

export function stateBadge(state) {
  return element("span", { className: "state", text: state.replaceAll("_", " "), data: { state } });
}

export function formatMs(ms) {
  if (ms === undefined || ms === null) return "–";
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

export function formatBytes(bytes) {
  if (bytes === undefined || bytes === null) return "–";
  if (bytes >= 1 << 20) return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
  if (bytes >= 1 << 10) return `${(bytes / (1 << 10)).toFixed(0)} KiB`;
  return `${bytes} B`;
}

export function formatAge(iso, now = Date.now()) {
  if (!iso) return "never";
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  return `${Math.floor(seconds / 3600)} h ago`;
}

/** Phase list `name 12 ms` plus a proportional timeline bar. */
export function phases(list, timeline) {
  const items = element("ul", { className: "phases" });
  const total = list.reduce((sum, phase) => sum + (phase.durationMs ?? 0), 0) || 1;
  if (timeline) timeline.replaceChildren();
  for (const phase of list) {
    items.append(element("li", { data: { phase: phase.name } }, element("b", { text: phase.name }), ` ${formatMs(phase.durationMs)}`));
    if (timeline) {
      const bar = element("span", { attrs: { title: `${phase.name} ${formatMs(phase.durationMs)}` } });
      bar.style.flexGrow = String(Math.max(phase.durationMs ?? 0, total / 200));
      timeline.append(bar);
    }
  }
  return items;
}

function errorBlock(error) {
  if (!error) return null;
  const block = element("div", { className: "error" },
    element("p", { className: "muted", text: `${error.code}: ${error.message}${error.hint ? ` — ${error.hint}` : ""}` }));
  const output = error.output ?? error.diagnostics;
  if (output) {
    const located = diagnosticsList(output);
    if (located) block.append(located);
    const pre = element("pre", { className: "output" });
    renderAnsi(pre, output);
    block.append(pre);
  }
  return block;
}

const ESCAPES = /\x1b\[[0-9;?]*[A-Za-z]/g;

/**
 * rustc's diagnostics with a location: each `error[E0308]: mismatched types` (or warning) line
 * and the `--> src/main.rs:12:5` under it, as `{severity, code, message, file, line, column}`.
 */
export function parseDiagnostics(output) {
  const found = [];
  const seen = new Set();
  let current = null;
  for (const raw of output.replace(ESCAPES, "").split("\n")) {
    const head = raw.match(/^(error|warning)(?:\[(\w+)\])?: (.*)$/);
    if (head) {
      current = { severity: head[1], code: head[2] ?? null, message: head[3].trim() };
      continue;
    }
    const at = raw.match(/^\s*--> (.+?):(\d+):(\d+)\s*$/);
    if (at && current) {
      const entry = { ...current, file: at[1], line: Number(at[2]), column: Number(at[3]) };
      const key = `${entry.severity} ${entry.message} ${entry.file}:${entry.line}:${entry.column}`;
      if (!seen.has(key)) { seen.add(key); found.push(entry); }
      current = null; // the notes' own `-->` lines are not the diagnostic's location
    }
  }
  return found;
}

/** A compact list of the located diagnostics, errors first, above the full output. */
function diagnosticsList(output) {
  const entries = parseDiagnostics(output);
  if (!entries.length) return null;
  entries.sort((a, b) => (a.severity === b.severity ? 0 : a.severity === "error" ? -1 : 1));
  const shown = entries.slice(0, 50);
  const list = element("ul", { className: "diagnostics" }, ...shown.map((entry) =>
    element("li", { data: { severity: entry.severity, file: entry.file, line: String(entry.line) } },
      element("code", { className: "location", text: `${entry.file}:${entry.line}:${entry.column}` }),
      element("span", { className: "severity", text: entry.code ? `${entry.severity}[${entry.code}]` : entry.severity }),
      element("span", { className: "message", text: entry.message }))));
  if (entries.length > shown.length) list.append(element("li", { className: "muted", text: `… and ${entries.length - shown.length} more` }));
  return list;
}

/**
 * The functions a patch changed, added and removed (demangled), and the crates it rebuilt. The
 * list is open when short; a long one is behind a "functions" disclosure.
 */
function functionsBlock(patch) {
  const diff = patch.diff;
  const functions = diff?.functions ?? [];
  if (!functions.length) return null;
  const marks = { changed: "~", added: "+", removed: "−" };
  const items = functions.map((fn) =>
    element("li", { data: { change: fn.change }, attrs: { title: fn.name } },
      element("span", { className: "change-mark", text: marks[fn.change] ?? "·", attrs: { "aria-label": fn.change } }),
      element("code", { text: fn.demangled ?? fn.name })));
  const counts = ["changed", "added", "removed"].filter((kind) => diff[kind]).map((kind) => `${diff[kind]} ${kind}`).join(", ");
  const crates = (patch.cratesRebuilt ?? []).join(", ");
  const details = element("details", { className: "functions" },
    element("summary", { text: `functions: ${counts || "none"}${crates ? ` · crates rebuilt: ${crates}` : ""}` }),
    element("ul", {}, ...items),
    diff.functionsTruncated ? element("p", { className: "muted", text: "Only the first 200 of each kind are listed." }) : null);
  details.open = functions.length <= 8;
  return details;
}

/** Save → applied per device: the total, then each segment of the path (from `patch.latency`). */
export function latencyBlock(latency, deviceNames) {
  if (!latency) return null;
  const rows = (latency.devices ?? []).map((device) => {
    const segments = { ...(latency.segments ?? {}), ...(device.segments ?? {}) };
    const parts = Object.entries(segments).map(([name, ms]) => `${name.replace(/Ms$/, "")} ${formatMs(ms)}`);
    const who = deviceNames.get(device.device) ?? device.device;
    const total = device.saveToAppliedMs !== undefined ? formatMs(device.saveToAppliedMs) : "—";
    return element("li", { data: { device: device.device } },
      element("b", { text: `${latency.savedAt ? "save" : "queued"} → ${device.status} on ${who}: ${total}` }),
      element("span", { className: "muted", text: ` (${parts.join(", ")})` }));
  });
  if (!rows.length && latency.saveToFinishedMs !== undefined) {
    rows.push(element("li", {}, element("b", { text: `${latency.savedAt ? "save" : "queued"} → finished: ${formatMs(latency.saveToFinishedMs)}` })));
  }
  return rows.length ? element("ul", { className: "latency muted" }, ...rows) : null;
}

// "linked 3 of 256 units (1 changed)": how much of the rebuilt crates the library carries.
function unitsText(crates) {
  if (!crates?.length) return null;
  const sum = (key) => crates.reduce((total, crate) => total + (crate[key] ?? 0), 0);
  return `linked ${sum("linked")} of ${sum("units")} units (${sum("changed")} changed)`;
}

/** What a revert record serves again: "reverts #2 → #1's code" or "→ the fat build's code". */
function revertText(patch) {
  if (patch.revertOf === undefined) return null;
  const to = patch.revertTo === null || patch.revertTo === undefined
    ? (patch.state === "succeeded" ? "the fat build's code" : "…")
    : `#${patch.revertTo}'s code`;
  return `reverts #${patch.revertOf} → ${to}`;
}

/** One patch; `onRevert(patch)`, when given, backs a "Revert" button on a succeeded patch. */
export function patchItem(patch, deviceNames, onRevert) {
  const diff = patch.diff;
  const diffText = diff
    ? (diff.summary ?? `${diff.changed} changed, ${diff.added} added, ${diff.removed} removed, ${diff.unchanged} unchanged`)
    : null;
  const applied = (patch.appliedBy ?? []).map((id) => deviceNames.get(id) ?? id);
  return element("li", { data: { patchId: String(patch.id), state: patch.state } },
    element("div", { className: "row" },
      element("strong", { text: `#${patch.id}` }),
      stateBadge(patch.state),
      element("span", { text: (patch.cratesRebuilt ?? []).join(", ") || "—" }),
      diffText ? element("span", { className: "muted diff", text: diffText }) : null,
      patch.library ? element("span", { className: "muted", text: formatBytes(patch.library.size) }) : null,
      patch.library?.linkMode
        ? element("span", {
            className: "muted link-mode",
            data: { linkMode: patch.library.linkMode },
            text: patch.library.linkMode === "shared" ? "one library for all devices" : "linked per device",
          })
        : null,
      unitsText(patch.codegenUnits) ? element("span", { className: "muted units", text: unitsText(patch.codegenUnits) }) : null,
      patch.durationMs !== undefined ? element("span", { className: "muted", text: formatMs(patch.durationMs) }) : null,
      element("span", { className: "muted", text: `via ${patch.trigger}` }),
      revertText(patch) ? element("span", { className: "revert-of", text: revertText(patch) }) : null,
      onRevert && patch.state === "succeeded" ? revertButton(patch, onRevert) : null),
    patch.phases?.length ? phases(patch.phases) : null,
    applied.length ? element("p", { className: "muted applied", text: `applied by ${applied.join(", ")}` }) : null,
    functionsBlock(patch),
    latencyBlock(patch.latency, deviceNames),
    reasonsBlock(patch),
    errorBlock(patch.error));
}

/** Why an edit could not be patched, one line each; the apps restart into a new build instead. */
function reasonsBlock(patch) {
  if (patch.patchable !== false || !patch.reasons?.length) return null;
  return element("div", { className: "reasons" },
    element("p", { text: "Not patchable — the apps restart into a new build:" }),
    element("ul", {}, ...patch.reasons.map((reason) =>
      element("li", { data: { code: reason.code } }, element("code", { text: reason.code }), ` ${reason.message}`))));
}

function revertButton(patch, onRevert) {
  const button = element("button", {
    className: "revert", text: "Revert",
    attrs: { type: "button", "aria-label": `Revert patch ${patch.id}: devices go back to the code before it` },
  });
  button.addEventListener("click", () => onRevert(patch));
  return button;
}

export function deviceItem(device, now) {
  return element("li", { data: { deviceId: device.id, state: device.state } },
    element("div", { className: "row" },
      element("strong", { text: device.name }),
      stateBadge(device.state),
      element("span", { className: "muted", text: `pid ${device.pid}` }),
      element("span", { className: "muted", text: device.triple })),
    element("div", { className: "row muted" },
      element("span", { text: `build ${device.buildId}` }),
      element("span", { text: device.lastAppliedPatch ? `patch #${device.lastAppliedPatch} applied` : "no patch applied yet" }),
      element("span", { className: "seen", data: { seen: device.lastSeenAt ?? "" }, text: `seen ${formatAge(device.lastSeenAt, now)}` }),
      device.restartedFrom ? element("span", { className: "restarted", text: `restarted from ${device.restartedFrom}` }) : null),
    device.lastError ? element("p", { className: "muted", text: device.lastError }) : null);
}

export function buildError(build) { return errorBlock(build?.error); }
