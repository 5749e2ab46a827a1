"""The load run of benchmarks/server_bench.py (issue 14): `wrk` against the API while SSE
subscribers and long-polling devices stay connected and a patch is made.

Every subscriber must receive the patch's `jump-table` event for every device, every device must
receive the patch (with its jump table) from its long poll, wrk must see no non-2xx answer and no
socket error, and the server's RSS once everything has disconnected must be close to what it was
before. python3 standard library only; loopback only.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import selectors
import shutil
import socket
import subprocess
import threading
import time


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def open_sockets(pid: int) -> int:
    """The server's open sockets (listening and connected)."""
    count = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            count += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
        except OSError:
            pass
    return count


def run_wrk(url: str, seconds: int, connections: int = 32, threads: int = 2) -> dict | None:
    """`wrk -t -c -d` against `url`: requests/s, requests, non-2xx and socket errors; None without wrk."""
    wrk = shutil.which("wrk")
    if not wrk:
        return None
    out = subprocess.run([wrk, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", url],
                         capture_output=True, text=True).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    requests = re.search(r"(\d+) requests in", out)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    socket_errors = sum(int(n) for n in errors.groups()) if errors else 0
    return {
        "rps": float(rps.group(1)) if rps else 0.0,
        "requests": int(requests.group(1)) if requests else 0,
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": socket_errors,
        "socket_detail": errors.group(0) if errors else "none",
        "command": f"wrk -t{threads} -c{connections} -d{seconds}s",
    }


def dechunk(raw: bytes) -> tuple[bytes, bytes]:
    """The complete chunks at the start of `raw` (chunked transfer coding), decoded, and the rest."""
    body = b""
    while True:
        line_end = raw.find(b"\r\n")
        if line_end < 0:
            return body, raw
        size = int(raw[:line_end].split(b";")[0] or b"0", 16)
        end = line_end + 2 + size + 2
        if len(raw) < end:
            return body, raw
        body += raw[line_end + 2:line_end + 2 + size]
        raw = raw[end:]


class Subscribers:
    """`count` SSE connections to /api/events, read on one thread; the `jump-table` events each
    received, as (patchId, device) pairs, and how many streams ended early."""

    def __init__(self, port: int, count: int):
        self.sockets = []
        for _ in range(count):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(b"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
            s.setblocking(False)
            self.sockets.append(s)
        self.tables = [set() for _ in self.sockets]
        self.statuses = [None] * count
        self.dropped = 0
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        selector = selectors.DefaultSelector()
        buffers, raws, chunked = {}, {}, {}
        for index, s in enumerate(self.sockets):
            selector.register(s, selectors.EVENT_READ, index)
            buffers[index] = raws[index] = b""
        open_count = len(self.sockets)
        while open_count and not self.stopping.is_set():
            for key, _ in selector.select(timeout=0.2):
                index = key.data
                try:
                    data = key.fileobj.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if not data:
                    selector.unregister(key.fileobj)
                    open_count -= 1
                    if not self.stopping.is_set():
                        with self.lock:
                            self.dropped += 1
                    continue
                raw = raws[index] + data
                if self.statuses[index] is None:
                    if b"\r\n\r\n" not in raw:
                        raws[index] = raw
                        continue
                    head, raw = raw.split(b"\r\n\r\n", 1)
                    self.statuses[index] = int(head.split(b" ", 2)[1])
                    chunked[index] = b"chunked" in head.lower()
                # The stream is chunked (its length is unknown): an event may span chunks.
                body, raw = dechunk(raw) if chunked[index] else (raw, b"")
                raws[index] = raw
                buffer = buffers[index] + body
                while b"\n\n" in buffer:
                    event, buffer = buffer.split(b"\n\n", 1)
                    self._event(index, event)
                buffers[index] = buffer[-(1 << 20):]
        selector.close()

    def _event(self, index: int, raw: bytes) -> None:
        # Only `event:` and `data:` lines count (`id:`, `retry:` and `: heartbeat` comments don't).
        name, data = None, None
        for line in raw.split(b"\n"):
            line = line.rstrip(b"\r")
            if line.startswith(b"event: "):
                name = line[7:].decode()
            elif line.startswith(b"data: "):
                data = line[6:]
        if name == "jump-table" and data:
            try:
                payload = json.loads(data)
            except ValueError:
                return
            if payload.get("jumpTable"):
                with self.lock:
                    self.tables[index].add((payload.get("patchId"), payload.get("device")))

    def have_all(self, patch_id: int, devices: set[str]) -> int:
        """How many subscribers got the patch's jump table for every device in `devices`."""
        with self.lock:
            return sum(1 for tables in self.tables if devices <= {d for p, d in tables if p == patch_id})

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)
        for s in self.sockets:
            s.close()


class Device(threading.Thread):
    """A simulated device: registers, then long-polls its patches (`wait=5`) and acknowledges
    each one as the runtime does. Counts requests and errors."""

    def __init__(self, port: int, index: int, build_id: str, aslr_reference: str):
        super().__init__(daemon=True)
        self.port, self.index = port, index
        self.registration = {"name": f"load-device-{index}", "pid": 4_000_000 + index,
                             "triple": "x86_64-unknown-linux-gnu", "aslrReference": aslr_reference,
                             "buildId": build_id}
        self.id = None
        self.after = 0
        self.tables: set[int] = set()  # patch ids received with a jump table
        self.requests = self.errors = 0
        self.last_error = ""
        self.stopping = threading.Event()
        self.registered = threading.Event()

    def _call(self, method: str, path: str, body: dict | None, timeout: float) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            payload = None if body is None else json.dumps(body)
            headers = {"Content-Type": "application/json"} if body is not None else {}
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def _failed(self, what: str) -> None:
        self.errors += 1
        self.last_error = what
        time.sleep(0.2)

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.requests += 1
                if self.id is None:
                    status, body = self._call("POST", "/api/devices", self.registration, 10)
                    if status != 201:
                        self._failed(f"register answered {status}")
                        continue
                    self.id = json.loads(body)["id"]
                    self.registered.set()
                    continue
                status, body = self._call("GET", f"/api/devices/{self.id}/patches?after={self.after}&wait=5", None, 20)
                if status != 200:
                    self._failed(f"poll answered {status}")
                    continue
                for patch in json.loads(body).get("patches", []):
                    if patch.get("jumpTable"):
                        self.tables.add(patch["id"])
                    self.after = max(self.after, patch["id"])
                    self.requests += 1
                    ack = {"patch": patch["id"], "status": "applied"}
                    status, _ = self._call("POST", f"/api/devices/{self.id}/acks", ack, 10)
                    if status != 204:
                        self._failed(f"ack answered {status}")
            except (OSError, ValueError, KeyError, http.client.HTTPException) as err:
                self._failed(f"{type(err).__name__}: {err}")

    def remove(self) -> None:
        if self.id:
            try:
                self._call("DELETE", f"/api/devices/{self.id}", None, 10)
            except (OSError, http.client.HTTPException):
                pass


def load_with_subscribers(base: str, port: int, server_pid: int, build_id: str, aslr_reference: str,
                          other_devices: set[str], patch, subscribers: int = 100, devices: int = 20,
                          duration: int = 10) -> tuple[list[tuple[str, str]], bool, tuple[int, int]]:
    """Runs the load and returns (table rows, whether it was error-free with every jump table
    delivered and every connection released, (RSS before, RSS after) in KiB). `patch()` makes one
    patch and returns its id; `other_devices`: ids of devices already connected (the real app)."""
    rss_before = rss_kib(server_pid)
    sockets_before = open_sockets(server_pid)
    listeners = Subscribers(port, subscribers)
    pollers = [Device(port, i, build_id, aslr_reference) for i in range(devices)]
    for device in pollers:
        device.start()
    for device in pollers:
        device.registered.wait(timeout=30)
    time.sleep(1.0)  # every device's first long poll parked, every stream's head received
    rss_connected = rss_kib(server_pid)

    peak = [rss_connected]
    sampling = threading.Event()

    def sample() -> None:
        while not sampling.is_set():
            peak[0] = max(peak[0], rss_kib(server_pid))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    outcome: dict = {}

    def make_patch() -> None:
        time.sleep(duration * 0.3)
        started = time.perf_counter()
        try:
            outcome["id"] = patch()
        except Exception as err:  # reported in the table
            outcome["error"] = str(err)
        outcome["ms"] = (time.perf_counter() - started) * 1000

    patcher = threading.Thread(target=make_patch, daemon=True)
    patcher.start()
    wrk = run_wrk(base + "/api/status", duration)
    patcher.join(timeout=300)

    patch_id = outcome.get("id")
    expected = {d.id for d in pollers if d.id} | other_devices
    deadline = time.monotonic() + 60
    while patch_id is not None and time.monotonic() < deadline:
        if listeners.have_all(patch_id, expected) == subscribers and all(patch_id in d.tables for d in pollers):
            break
        time.sleep(0.1)
    got_subscribers = listeners.have_all(patch_id, expected) if patch_id is not None else 0
    got_devices = sum(1 for d in pollers if patch_id in d.tables)
    stream_ok = sum(1 for status in listeners.statuses if status == 200)

    listeners.close()
    for device in pollers:
        device.stopping.set()
    for device in pollers:
        device.join(timeout=15)
        device.remove()
    # A closed subscriber's connection stays suspended in libmicrohttpd, which does not see the
    # close, until the next event or heartbeat resumes it: wait for the server to let them go.
    closed_at = time.monotonic()
    # The real app's own connections (its long poll, a log batch) come and go meanwhile.
    allowed = sockets_before + 2 * len(other_devices)
    while open_sockets(server_pid) > allowed and time.monotonic() - closed_at < 60:
        time.sleep(0.5)
    released_s = time.monotonic() - closed_at
    sockets_after = open_sockets(server_pid)
    time.sleep(1.0)
    sampling.set()
    sampler.join()
    rss_after = rss_kib(server_pid)

    device_requests = sum(d.requests for d in pollers)
    device_errors = sum(d.errors for d in pollers)
    errors = device_errors + listeners.dropped + (subscribers - stream_ok)
    if wrk:
        errors += wrk["non2xx"] + wrk["socket_errors"]
    rows = [
        ("load", f"{subscribers} SSE subscribers + {devices} long-polling devices (+ the real app) during "
                 f"{wrk['command'] if wrk else 'no wrk'} /api/status, one patch at {duration * 0.3:.0f} s"),
    ]
    if wrk:
        rows.append(("wrk /api/status", f"{wrk['rps']:.0f} requests/s ({wrk['requests']} requests), non-2xx: "
                                        f"{wrk['non2xx']}, socket errors: {wrk['socket_detail']}"))
    else:
        rows.append(("wrk /api/status", "wrk not installed (apt-get install wrk): skipped"))
    rows += [
        ("patch under load", f"patch {patch_id} in {outcome.get('ms', 0):.0f} ms" if patch_id is not None
         else f"failed: {outcome.get('error')}"),
        ("subscribers with the jump table of every device", f"{got_subscribers} / {subscribers} "
         f"({len(expected)} devices each; {listeners.dropped} streams dropped, {stream_ok} answered 200)"),
        ("devices with the jump table (long poll)", f"{got_devices} / {devices} "
         f"({device_requests} device requests, {device_errors} errors"
         + (f": {next(d.last_error for d in pollers if d.errors)}" if device_errors else "") + ")"),
        ("errors (wrk non-2xx + socket, device, SSE)", str(errors)),
        ("server connections released after the clients closed", f"{released_s:.1f} s (open sockets {sockets_before} before, "
         f"{sockets_after} after)"),
        ("server RSS before / connected / peak / after", f"{rss_before / 1024:.1f} / {rss_connected / 1024:.1f} / "
         f"{peak[0] / 1024:.1f} / {rss_after / 1024:.1f} MiB"),
    ]
    ok = (errors == 0 and patch_id is not None and got_subscribers == subscribers and got_devices == devices
          and sockets_after <= allowed)
    return rows, ok, (rss_before, rss_after)
