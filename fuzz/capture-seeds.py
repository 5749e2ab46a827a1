#!/usr/bin/env python3
"""Captures the fuzzers' message seeds from a real session (how fuzz/seeds/ was made).

Starts a release `whisker-dev serve` on a copy of examples/counter and a recording proxy in front
of it on loopback; the counter app (a real device: register, long polls, acks, logs) and a few API
calls go through the proxy, and one edit is patched live. Every exchange is written out:
  fuzz/seeds/http-responses/  `0` + the raw response as the runtime reads it (rust-http-response);
  fuzz/seeds/json/            every JSON body either way (fuzz-json, rust-json);
  fuzz/seeds/request-bodies/  the selector letter of fuzz-request-bodies + each POST body.

    python3 fuzz/capture-seeds.py [--whisker-dev .build/release/whisker-dev]

python3 standard library only; loopback only.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import socket
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from whisker_harness import App, HarnessError, Server, copy_example, register_cleanup  # noqa: E402

SEEDS = os.path.join(ROOT, "fuzz", "seeds")
CAP = 16 * 1024  # bytes kept of one direction of an exchange (an SSE stream never ends)
SELECTORS = [(r"^/api/builds$", "b"), (r"^/api/patches$", "p"), (r"^/api/devices$", "d"),
             (r"^/api/devices/[^/]+/acks$", "a"), (r"^/api/devices/[^/]+/logs$", "l"), (r"^/api/diffs$", "x")]


class Proxy:
    """Forwards each loopback connection to the server, keeping the first CAP bytes each way."""

    def __init__(self, upstream_port: int):
        self.upstream = upstream_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.exchanges: list[tuple[bytearray, bytearray]] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            client, _ = self.listener.accept()
            server = socket.create_connection(("127.0.0.1", self.upstream))
            exchange = (bytearray(), bytearray())
            with self.lock:
                self.exchanges.append(exchange)
            threading.Thread(target=self._pump, args=(client, server, exchange[0]), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, exchange[1]), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket, record: bytearray) -> None:
        try:
            while data := source.recv(65536):
                if len(record) < CAP:
                    record += data[: CAP - len(record)]
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (sink, source):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def split_message(raw: bytes) -> tuple[str, bytes]:
    """(first line, body) of one HTTP message (chunked bodies decoded)."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode(errors="replace").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    if "chunked" in headers.get("transfer-encoding", "").lower():
        decoded, rest = b"", body
        while rest:
            size_line, _, rest = rest.partition(b"\r\n")
            try:
                size = int(size_line.split(b";")[0], 16)
            except ValueError:
                break
            if size == 0:
                break
            decoded, rest = decoded + rest[:size], rest[size + 2:]
        body = decoded
    return lines[0], body


def write(directory: str, name: str, data: bytes) -> None:
    os.makedirs(directory, exist_ok=True)
    digest = hashlib.sha256(data).hexdigest()[:10]
    with open(os.path.join(directory, f"{name}-{digest}"), "wb") as handle:
        handle.write(data)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--whisker-dev", default=os.path.join(ROOT, ".build/release/whisker-dev"))
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="whisker-capture-")
    register_cleanup(work, keep=False)
    project = copy_example(ROOT, "examples/counter", work)
    server = Server.start(args.whisker_dev, project, work)
    build_id, binary = server.wait_for_build(timeout=300)
    proxy = Proxy(int(server.url.rsplit(":", 1)[1]))
    via = f"http://127.0.0.1:{proxy.port}"

    def call(method: str, path: str, body: bytes | None = None) -> None:
        request = urllib.request.Request(via + path, data=body, method=method,
                                         headers={"Content-Type": "application/json"} if body else {})
        try:
            urllib.request.urlopen(request, timeout=30).read()
        except urllib.error.HTTPError as err:
            err.read()

    app = App.start(binary, via, build_id, "capture-device", work, interval_ms=100)
    device = app.wait_registered(server, timeout=60)
    main_rs = os.path.join(project, "src/main.rs")
    with open(main_rs, encoding="utf-8") as handle:
        source = handle.read()
    with open(main_rs, "w", encoding="utf-8") as handle:
        handle.write(source.replace('"hello from counter"', '"hello from the capture"'))
    if app.wait_applied_after(0, timeout=120) is None:
        raise HarnessError(f"the device did not apply the patch: {app.stderr_tail()}")
    time.sleep(1.5)  # the ack and a log batch
    patch = server.last_patch_id()
    for path in ["/healthz", "/api/status", "/api/builds", f"/api/builds/{build_id}", "/api/patches",
                 f"/api/patches/{patch}", f"/api/patches/{patch}/plan", "/api/devices", f"/api/devices/{device['id']}",
                 f"/api/devices/{device['id']}/patches?after=0", f"/api/devices/{device['id']}/logs",
                 "/api/symbols?limit=5&match=tick", "/api/nope", "/api/patches/999"]:
        call("GET", path)
    call("POST", "/api/diffs", json.dumps({"old": binary, "new": binary}).encode())
    for body in [b'{"name": ', b'{"name":"x","pid":"1"}', b'[1,2', b'{"lines":[{"stream":"out","text":"hi","time":1.5e12}],"dropped":2}']:
        call("POST", "/api/devices" if b"name" in body else f"/api/devices/{device['id']}/logs", body)
    time.sleep(0.5)

    counts = {"http-responses": 0, "json": 0, "request-bodies": 0}
    with proxy.lock:
        exchanges = [(bytes(a), bytes(b)) for a, b in proxy.exchanges]
    for index, (request, response) in enumerate(exchanges):
        if not request or not response:
            continue
        request_line, request_body = split_message(request)
        method, _, rest = request_line.partition(" ")
        path = rest.split(" ")[0].split("?")[0]
        slug = re.sub(r"[^a-z0-9]+", "-", f"{method} {path}".lower()).strip("-")
        write(os.path.join(SEEDS, "http-responses"), f"{index:03d}-{slug}", b"0" + response)
        counts["http-responses"] += 1
        _, response_body = split_message(response)
        for kind, body in (("request", request_body), ("response", response_body)):
            if body.strip()[:1] in (b"{", b"["):
                write(os.path.join(SEEDS, "json"), f"{index:03d}-{kind}-{slug}", body)
                counts["json"] += 1
        if method == "POST":
            letter = next((letter for pattern, letter in SELECTORS if re.match(pattern, path)), None)
            if letter:
                write(os.path.join(SEEDS, "request-bodies"), f"{letter}-{slug}", letter.encode() + request_body)
                counts["request-bodies"] += 1
    print(f"capture: {len(exchanges)} exchanges; seeds written: {counts}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except HarnessError as err:
        print(f"capture: {err}", file=sys.stderr)
        sys.exit(2)
