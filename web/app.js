// The status page: loads the server's state over REST, then follows the SSE stream. Any event
// schedules a (debounced) reload of the resources it touches, so the page always shows what the
// server knows, including after a reconnect.
import { adoptTokenFromURL, eventsURL, request, setToken, APIError } from "./api.js";
import { buildError, deviceItem, element, formatBytes, formatMs, patchItem, phases, stateBadge } from "./render.js";
import { LogPanes } from "./logs.js";
import { renderChart } from "./chart.js";

const $ = (id) => document.getElementById(id);
const state = { status: null, patches: [], devices: [], statusAt: 0, source: null, reloadTimer: null };
const logs = new LogPanes($("logs"));

function setConnection(value, text) {
  const node = $("connection");
  node.dataset.state = value;
  node.textContent = text ?? value;
}

async function reload() {
  try {
    const [status, patches, devices] = await Promise.all([
      request("GET", "/api/status"), request("GET", "/api/patches"), request("GET", "/api/devices"),
    ]);
    state.status = status;
    state.statusAt = Date.now();
    state.patches = patches.patches ?? [];
    state.devices = devices.devices ?? [];
    $("token-form").hidden = true;
    render();
  } catch (error) {
    if (error instanceof APIError && error.status === 401) {
      setConnection("unauthorized", "token needed");
      $("token-form").hidden = false;
      $("token-input").focus();
    } else {
      setConnection("offline", "server unreachable");
    }
  }
}

function scheduleReload() {
  clearTimeout(state.reloadTimer);
  state.reloadTimer = setTimeout(reload, 120);
}

function render() {
  const status = state.status;
  if (!status) return;
  $("project-name").textContent = `${status.project?.name ?? "?"} — ${status.project?.path ?? ""}`;
  $("toolchain").textContent = `rustc ${status.toolchain?.rustc ?? "?"} (${status.toolchain?.host ?? "?"})`;
  $("server-url").textContent = `${status.server?.url ?? location.origin}${status.server?.lan ? " (LAN mode)" : ""}`;
  renderBuild(status.build);
  renderQueue(status.queue ?? []);
  renderDevices();
  logs.render(state.devices);
  renderPatches();
  renderChart($("chart"), state.patches);
  tick();
}

function renderBuild(build) {
  const section = $("build");
  section.dataset.state = build?.state ?? "none";
  $("build-state").replaceWith(Object.assign(build ? stateBadge(build.state) : element("span", { text: "no build yet" }), { id: "build-state" }));
  $("build-id").textContent = build ? `${build.id}${build.durationMs !== undefined ? ` · ${formatMs(build.durationMs)}` : ""}` : "";
  const timeline = $("build-timeline");
  section.querySelector(".phases")?.remove();
  section.querySelector(".error")?.remove();
  if (build?.phases?.length) timeline.after(phases(build.phases, timeline)); else timeline.replaceChildren();
  $("build-binary").textContent = build?.binaryPath ? `${build.binaryPath} (${formatBytes(build.binarySize)})` : "–";
  $("build-symbols").textContent = build?.symbolCount?.toLocaleString() ?? "–";
  $("build-warm-up").textContent = warmUpText(build?.warmUp);
  const error = buildError(build);
  if (error) section.append(error);
}

// The warm-up follows a succeeded build: the app can already run; patches wait for it.
function warmUpText(warmUp) {
  if (!warmUp) return "–";
  const took = warmUp.durationMs !== undefined ? ` in ${formatMs(warmUp.durationMs)}` : "";
  const label = { queued: "queued", running: "running — patches wait for it", succeeded: `done${took}` }[warmUp.state] ?? `${warmUp.state}${took}`;
  return warmUp.message ? `${label}: ${warmUp.message}` : label;
}

function renderQueue(queue) {
  const list = $("queue");
  if (!queue.length) {
    list.replaceChildren(element("li", { className: "empty", text: "Idle." }));
    return;
  }
  list.replaceChildren(...queue.map((job) => {
    const cancel = element("button", { text: "Cancel", attrs: { type: "button", "aria-label": `Cancel ${job.kind} ${job.id}` } });
    cancel.addEventListener("click", () => act("POST", `/api/${job.kind === "build" ? "builds" : "patches"}/${job.id}/cancel`, "cancelling"));
    return element("li", { data: { jobKind: job.kind, jobId: String(job.id), state: job.state } },
      element("div", { className: "row" }, element("strong", { text: `${job.kind} ${job.id}` }), stateBadge(job.state), cancel));
  }));
}

function renderDevices() {
  const list = $("devices");
  if (!state.devices.length) {
    list.replaceChildren(element("li", { className: "empty", text: "No app connected yet." }));
    return;
  }
  const now = Date.now();
  list.replaceChildren(...state.devices.map((device) => deviceItem(device, now)));
}

function renderPatches() {
  const list = $("patches");
  if (!state.patches.length) {
    list.replaceChildren(element("li", { className: "empty", text: "No patches yet: save a source file." }));
    return;
  }
  const names = new Map(state.devices.map((device) => [device.id, `${device.name} (${device.pid})`]));
  const revert = (patch) => act("POST", `/api/patches/${patch.id}/revert`, `reverting patch #${patch.id}`);
  list.replaceChildren(...[...state.patches].sort((a, b) => b.id - a.id).map((patch) => patchItem(patch, names, revert)));
}

/** Once a second: uptime and "seen N s ago" move on without a request. */
function tick() {
  const status = state.status;
  if (status?.server?.uptimeMs !== undefined) {
    const seconds = Math.round((status.server.uptimeMs + Date.now() - state.statusAt) / 1000);
    $("uptime").textContent = seconds < 120 ? `${seconds} s` : `${Math.floor(seconds / 60)} min`;
  }
  for (const node of document.querySelectorAll("#devices .seen")) {
    const seen = node.dataset.seen;
    if (seen) node.textContent = `seen ${Math.max(0, Math.round((Date.now() - Date.parse(seen)) / 1000))} s ago`;
  }
}

async function act(method, path, verb) {
  const message = $("action-message");
  message.textContent = `${verb}…`;
  try {
    await request(method, path);
    message.textContent = "";
  } catch (error) {
    message.textContent = error.message;
  }
  scheduleReload();
}

function connectEvents() {
  state.source?.close();
  setConnection("connecting", "connecting…");
  const source = new EventSource(eventsURL());
  state.source = source;
  source.onopen = () => {
    setConnection("connected");
    scheduleReload();
    logs.catchUp();
  };
  source.onerror = () => {
    if (source.readyState === EventSource.CLOSED) {
      setConnection("offline", "offline — retrying");
      setTimeout(connectEvents, 2000);
    } else {
      setConnection("reconnecting", "reconnecting…");
    }
  };
  const names = [
    "build.queued", "build.started", "build.progress", "build.succeeded", "build.failed", "build.cancelled", "build.warmUp",
    "patch.queued", "patch.started", "patch.progress", "patch.succeeded", "patch.failed", "patch.cancelled", "patch.latency",
    "jump-table", "device.registered", "device.applied", "device.failed", "device.lost", "device.removed",
    "restart.requested", "restart.completed", "restart.lost",
    "replay.incomplete",
  ];
  for (const name of names) source.addEventListener(name, scheduleReload);
  // Log lines go straight into their pane: no reload, no debounce.
  source.addEventListener("device.log", (event) => {
    try { logs.receive(JSON.parse(event.data)); } catch { /* a malformed event is skipped */ }
  });
  source.addEventListener("server.shutdown", () => setConnection("reconnecting", "server restarting…"));
}

adoptTokenFromURL();
$("token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  setToken($("token-input").value);
  connectEvents();
  reload();
});
$("rebuild").addEventListener("click", () => act("POST", "/api/builds", "queueing a build"));
$("patch-now").addEventListener("click", () => act("POST", "/api/patches", "queueing a patch"));
$("hot-restart").addEventListener("click", () => act("POST", "/api/restart", "building, then restarting the apps"));
$("revert-all").addEventListener("click", () => {
  const build = state.status?.build?.id;
  if (build) act("POST", `/api/builds/${encodeURIComponent(build)}/revert`, "reverting to the fat build");
});
setInterval(tick, 1000);
// The chart is drawn in pixels at its container's width: again when that changes.
let chartWidth = 0;
new ResizeObserver(() => {
  const width = $("chart").clientWidth;
  if (width !== chartWidth) { chartWidth = width; renderChart($("chart"), state.patches); }
}).observe($("chart"));
connectEvents();
reload();
