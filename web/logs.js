// Device log panes: one per device, fed by `GET /api/devices/{id}/logs?since=` once and then by
// `device.log` events (the same `seq` numbering, so a replayed or overlapping batch is skipped
// and a gap is fetched). Each pane filters by text and stream, pauses (lines are kept and shown
// on resume) and keeps at most MAX_LINES lines in the DOM. Text goes through renderAnsi
// (textContent only).
import { request } from "./api.js";
import { renderAnsi } from "./ansi.js";
import { element } from "./render.js";

const MAX_LINES = 1000;

class LogPane {
  constructor(deviceId) {
    this.deviceId = deviceId;
    this.lastSeq = 0;
    this.fetching = null;
    this.queued = [];
    this.pending = [];
    this.paused = false;
    this.dropped = 0;
    this.missed = 0;
    this.filter = "";
    this.stream = "all";
    this.build();
    this.fetch();
  }

  build() {
    const id = this.deviceId;
    this.title = element("strong", { text: id });
    this.info = element("span", { className: "muted log-info" });
    this.search = element("input", {
      className: "log-filter",
      attrs: { type: "search", placeholder: "filter", "aria-label": `Filter the log of ${id}` },
    });
    this.search.addEventListener("input", () => { this.filter = this.search.value.toLowerCase(); this.refilter(); });
    this.streamSelect = element("select", { className: "log-stream", attrs: { "aria-label": `Streams shown for ${id}` } },
      element("option", { text: "stdout + stderr", attrs: { value: "all" } }),
      element("option", { text: "stdout", attrs: { value: "stdout" } }),
      element("option", { text: "stderr", attrs: { value: "stderr" } }));
    this.streamSelect.addEventListener("change", () => { this.stream = this.streamSelect.value; this.refilter(); });
    this.pauseButton = element("button", { className: "log-pause", text: "Pause", attrs: { type: "button", "aria-pressed": "false" } });
    this.pauseButton.addEventListener("click", () => this.setPaused(!this.paused));
    const clear = element("button", { className: "log-clear", text: "Clear", attrs: { type: "button" } });
    clear.addEventListener("click", () => { this.lines.replaceChildren(); this.pending = []; this.updateInfo(); });
    this.lines = element("div", {
      className: "log-lines",
      attrs: { role: "log", "aria-live": "off", tabindex: "0", "aria-label": `Output of ${id}` },
    });
    // Following the end until the reader scrolls up; back at the end, following again.
    this.follow = true;
    this.lines.addEventListener("scroll", () => { this.follow = this.atEnd(); });
    this.node = element("section", { className: "log-pane", data: { deviceId: id } },
      element("div", { className: "row log-head" }, this.title, this.info),
      element("div", { className: "row log-tools" }, this.search, this.streamSelect, this.pauseButton, clear),
      this.lines);
    this.updateInfo();
  }

  /** The device's name, pid and state, from the device list. */
  describe(device) {
    this.title.textContent = `${device.name} (pid ${device.pid})`;
    this.node.dataset.state = device.state;
  }

  /** Fetches what came after lastSeq; events arriving meanwhile wait until it is in. */
  async fetch() {
    if (this.fetching) return this.fetching;
    this.fetching = (async () => {
      try {
        const page = await request("GET", `/api/devices/${encodeURIComponent(this.deviceId)}/logs?since=${this.lastSeq}`);
        this.dropped = page.dropped ?? this.dropped;
        this.missed = page.missed ?? this.missed;
        this.accept(page.lines ?? []);
      } catch {
        // The device may be gone (404) or the server away: events (or the next reload) retry.
      } finally {
        this.fetching = null;
        // What came meanwhile, without another gap check: one fetch per gap, even when it failed.
        const queued = this.queued;
        this.queued = [];
        for (const lines of queued) this.accept(lines);
      }
    })();
    return this.fetching;
  }

  /** A `device.log` event's lines. */
  receive(lines) {
    if (this.fetching) { this.queued.push(lines); return; }
    const fresh = lines.filter((line) => line.seq > this.lastSeq);
    if (fresh.length && fresh[0].seq > this.lastSeq + 1) {
      // A gap (events lost while the page was away): the ring has them.
      this.queued.push(lines);
      this.fetch();
      return;
    }
    this.accept(fresh);
  }

  accept(lines) {
    const fresh = lines.filter((line) => line.seq > this.lastSeq);
    if (!fresh.length) return;
    this.lastSeq = fresh[fresh.length - 1].seq;
    if (this.paused) {
      this.pending.push(...fresh);
      if (this.pending.length > MAX_LINES) this.pending.splice(0, this.pending.length - MAX_LINES);
    } else {
      this.show(fresh);
    }
    this.updateInfo();
  }

  show(lines) {
    const box = this.lines;
    const fragment = document.createDocumentFragment();
    for (const line of lines) fragment.append(this.lineNode(line));
    box.append(fragment);
    while (box.childElementCount > MAX_LINES) box.firstElementChild.remove();
    this.scrollToEnd();
  }

  atEnd() { return this.lines.scrollHeight - this.lines.scrollTop - this.lines.clientHeight < 24; }

  scrollToEnd() { if (this.follow) this.lines.scrollTop = this.lines.scrollHeight; }

  lineNode(line) {
    const stream = line.stream === "stderr" ? "stderr" : "stdout";
    const text = element("span", { className: "log-text" });
    renderAnsi(text, line.text ?? "");
    const node = element("div", {
      className: "log-line",
      data: { seq: String(line.seq), stream, time: line.time ?? line.receivedAt ?? "" },
      attrs: { title: `${stream} · ${line.time ?? line.receivedAt ?? ""}` },
    }, element("span", { className: "log-mark", text: stream === "stderr" ? "err" : "out", attrs: { "aria-label": stream } }), text);
    node.hidden = !this.matches(node);
    return node;
  }

  matches(node) {
    if (this.stream !== "all" && node.dataset.stream !== this.stream) return false;
    return !this.filter || node.lastElementChild.textContent.toLowerCase().includes(this.filter);
  }

  refilter() {
    for (const node of this.lines.children) node.hidden = !this.matches(node);
    this.scrollToEnd();
    this.updateInfo();
  }

  setPaused(paused) {
    this.paused = paused;
    this.pauseButton.setAttribute("aria-pressed", String(paused));
    this.node.dataset.paused = String(paused);
    if (!paused && this.pending.length) {
      const lines = this.pending;
      this.pending = [];
      this.show(lines);
    }
    this.updateInfo();
  }

  updateInfo() {
    const parts = [`${this.lines.childElementCount} lines`];
    if (this.filter || this.stream !== "all") {
      parts.push(`${[...this.lines.children].filter((node) => !node.hidden).length} shown`);
    }
    if (this.dropped) parts.push(`${this.dropped} dropped by the app`);
    if (this.missed) parts.push(`${this.missed} older ones not kept`);
    this.info.textContent = parts.join(" · ");
    this.pauseButton.textContent = this.paused ? `Resume${this.pending.length ? ` (${this.pending.length} new)` : ""}` : "Pause";
  }
}

/** The panes of every device, kept across renders (so the lines and the scroll position stay). */
export class LogPanes {
  constructor(container) {
    this.container = container;
    this.panes = new Map();
  }

  pane(deviceId) {
    let pane = this.panes.get(deviceId);
    if (!pane) {
      pane = new LogPane(deviceId);
      this.panes.set(deviceId, pane);
    }
    return pane;
  }

  /** A `device.log` event's data. */
  receive(data) {
    if (data?.device && Array.isArray(data.lines)) this.pane(data.device).receive(data.lines);
  }

  /** One pane per listed device, in the list's order; a device no longer listed loses its pane. */
  render(devices) {
    const listed = new Set(devices.map((device) => device.id));
    for (const id of [...this.panes.keys()]) if (!listed.has(id)) this.panes.delete(id);
    if (!devices.length) {
      this.container.replaceChildren(element("p", { className: "empty", text: "No app connected yet: its stdout and stderr show here." }));
      return;
    }
    const nodes = devices.map((device) => {
      const pane = this.pane(device.id);
      pane.describe(device);
      return pane.node;
    });
    // Keep nodes in place when the order is unchanged (a move would reset their scroll position).
    const current = [...this.container.children];
    if (current.length !== nodes.length || current.some((node, index) => node !== nodes[index])) {
      this.container.replaceChildren(...nodes);
    }
  }

  /** After a reconnect: whatever came while the stream was away. */
  catchUp() { for (const pane of this.panes.values()) pane.fetch(); }
}
