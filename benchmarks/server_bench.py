#!/usr/bin/env python3
"""Issue 4 benchmark: fan-out of a jump table to 100 SSE subscribers, and `wrk` against
/api/status (requests/s, errors, server RSS before/after). Loopback only.

    benchmarks/server_bench.py [--subscribers 100] [--rounds 3] [--whisker-dev .build/release/whisker-dev]
"""
import argparse
import json
import os
import re
import selectors
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def get(url, method="GET"):
    request = urllib.request.Request(url, method=method)
    with urllib.request.urlopen(request, timeout=300) as response:
        return json.loads(response.read() or b"null")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def subscribe(port, count):
    sockets = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
        s.setblocking(False)
        sockets.append(s)
    return sockets


def wait_for_event(sockets, name, timeout=120):
    """Arrival time of the first `event: name` on every socket."""
    selector = selectors.DefaultSelector()
    buffers, arrived = {}, {}
    for s in sockets:
        selector.register(s, selectors.EVENT_READ)
        buffers[s] = b""
    needle = f"event: {name}\n".encode()
    deadline = time.perf_counter() + timeout
    while len(arrived) < len(sockets) and time.perf_counter() < deadline:
        for key, _ in selector.select(timeout=0.5):
            s = key.fileobj
            try:
                data = s.recv(65536)
            except BlockingIOError:
                continue
            buffers[s] += data
            if s not in arrived and needle in buffers[s]:
                arrived[s] = time.perf_counter()
                buffers[s] = b""
            elif len(buffers[s]) > 1 << 20:
                buffers[s] = buffers[s][-4096:]
    selector.close()
    return list(arrived.values())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--whisker-dev", default=os.path.join(ROOT, ".build/release/whisker-dev"))
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="whisker-server-bench-")
    server = app = None
    try:
        os.makedirs(os.path.join(work, "examples"))
        for src in ("runtime", "examples/counter"):
            shutil.copytree(os.path.join(ROOT, src), os.path.join(work, src), ignore=shutil.ignore_patterns("target"))
        project = os.path.join(work, "examples/counter")
        env = dict(os.environ, WHISKER_CACHE_DIR=os.path.join(work, "cache"))
        env["PATH"] = os.path.expanduser("~/.cargo/bin") + ":" + env.get("PATH", "")
        log = open(os.path.join(work, "serve.log"), "w+")
        server = subprocess.Popen([args.whisker_dev, "serve", "--project", project, "--port", "0", "--no-watch"],
                                  stdout=log, stderr=subprocess.STDOUT, env=env)
        port = None
        for _ in range(600):
            log.seek(0)
            match = re.search(r"http://127\.0\.0\.1:(\d+)", log.read())
            if match:
                port = int(match.group(1))
                break
            time.sleep(0.1)
        if port is None:
            raise SystemExit("bench: the server printed no URL")
        base = f"http://127.0.0.1:{port}"
        build = None
        for _ in range(600):
            builds = [b for b in get(base + "/api/builds")["builds"] if b["state"] == "succeeded"]
            if builds:
                build = builds[0]
                break
            time.sleep(0.2)
        # A real connected app, so every patch publishes a jump table for it.
        app = subprocess.Popen([build["binaryPath"]], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env=dict(env, WHISKER_DEV_SERVER=base, WHISKER_BUILD_ID=build["id"], COUNTER_INTERVAL_MS="100"))
        while not get(base + "/api/devices")["devices"]:
            time.sleep(0.05)

        main_rs = os.path.join(project, "src/main.rs")
        text = "hello from counter"
        spreads = []
        for round_index in range(1, args.rounds + 1):
            sockets = subscribe(port, args.subscribers)
            time.sleep(0.5)
            source = open(main_rs).read()
            new_text = f"fan-out {round_index}"
            open(main_rs, "w").write(source.replace(f'"{text}"', f'"{new_text}"'))
            text = new_text
            get(base + "/api/patches?wait=true", method="POST")
            arrivals = wait_for_event(sockets, "jump-table")
            for s in sockets:
                s.close()
            if len(arrivals) < args.subscribers:
                raise SystemExit(f"bench: only {len(arrivals)} of {args.subscribers} subscribers got the jump table")
            spreads.append((max(arrivals) - min(arrivals)) * 1000)

        rss_before = rss_kib(server.pid)
        wrk = shutil.which("wrk")
        wrk_line = "wrk not installed (apt-get install wrk): skipped"
        if wrk:
            out = subprocess.run([wrk, "-t2", "-c32", "-d10s", base + "/api/status"], capture_output=True, text=True).stdout
            rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
            non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
            socket_errors = re.search(r"Socket errors:(.*)", out)
            wrk_line = (f"{float(rps.group(1)):.0f} requests/s, non-2xx: {non2xx.group(1) if non2xx else 0}, "
                        f"socket errors: {socket_errors.group(1).strip() if socket_errors else 'none'}")
        rss_after = rss_kib(server.pid)

        print(f"\n| measurement | value |\n|---|---|")
        print(f"| jump table to {args.subscribers} SSE subscribers, first to last (median of {args.rounds}) | {statistics.median(spreads):.1f} ms |")
        print(f"| same, worst round | {max(spreads):.1f} ms |")
        print(f"| wrk -t2 -c32 -d10s /api/status | {wrk_line} |")
        print(f"| server RSS before / after wrk | {rss_before / 1024:.1f} MiB / {rss_after / 1024:.1f} MiB |")
    finally:
        if app:
            app.kill()
        if server:
            server.send_signal(2)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
