#!/usr/bin/env python3
"""Opens the status page in headless Chromium and waits until JavaScript expectations hold.

Standard library only: Chromium's DevTools protocol is spoken over a minimal WebSocket client.

    page_test.py URL --expect 'JS expression' [--expect …] [--screenshot out.png]
                 [--width 1280] [--height 900] [--timeout 60] [--interactive]

Every --expect must become truthy (polled) within --timeout seconds; exit 0 then, else 1 with
the failing expressions and the page's text. --screenshot is taken once all hold.
"""
import argparse
import base64
import http.client
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.parse


class WebSocket:
    """Just enough RFC 6455 for the DevTools protocol: text frames, client masking."""

    def __init__(self, url):
        parsed = urllib.parse.urlparse(url)
        self.sock = socket.create_connection((parsed.hostname, parsed.port), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {parsed.path} HTTP/1.1\r\nHost: {parsed.hostname}:{parsed.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise RuntimeError("DevTools closed the WebSocket handshake")
            head += chunk
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise RuntimeError(f"WebSocket handshake refused: {head[:200]!r}")
        self.buffer = head.split(b"\r\n\r\n", 1)[1]

    def send(self, text):
        payload = text.encode()
        header = bytearray([0x81])
        length = len(payload)
        if length < 126:
            header.append(0x80 | length)
        elif length < 1 << 16:
            header.append(0x80 | 126)
            header += struct.pack(">H", length)
        else:
            header.append(0x80 | 127)
            header += struct.pack(">Q", length)
        mask = os.urandom(4)
        header += mask
        self.sock.sendall(bytes(header) + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def _read(self, count):
        while len(self.buffer) < count:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise RuntimeError("DevTools closed the WebSocket")
            self.buffer += chunk
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def receive(self):
        message = b""
        while True:
            first, second = self._read(2)
            length = second & 0x7F
            if length == 126:
                length = struct.unpack(">H", self._read(2))[0]
            elif length == 127:
                length = struct.unpack(">Q", self._read(8))[0]
            payload = self._read(length)
            opcode = first & 0x0F
            if opcode == 0x8:
                raise RuntimeError("DevTools closed the WebSocket")
            if opcode in (0x1, 0x2, 0x0):
                message += payload
                if first & 0x80:
                    return message.decode()


class Page:
    def __init__(self, ws):
        self.ws = ws
        self.next_id = 0

    def call(self, method, **params):
        self.next_id += 1
        ident = self.next_id
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            reply = json.loads(self.ws.receive())
            if reply.get("id") == ident:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            return None
        return result.get("result", {}).get("value")


def wait_for(page, expressions, timeout):
    pending = list(expressions)
    deadline = time.time() + timeout
    while pending and time.time() < deadline:
        pending = [e for e in pending if not page.evaluate(f"Boolean({e})")]
        if pending:
            time.sleep(0.2)
    return pending


def serve_commands(page):
    """One JSON command per stdin line, one answer line per command, until EOF."""
    for line in sys.stdin:
        if not line.strip():
            continue
        command = json.loads(line)
        if "expect" in command:
            pending = wait_for(page, command["expect"], command.get("timeout", 60))
            if pending:
                text = (page.evaluate("document.body.innerText") or "").replace("\n", " | ")[:1500]
                print("fail: " + " ; ".join(pending) + " -- page: " + text, flush=True)
            else:
                print("ok", flush=True)
        elif "evaluate" in command:
            print("value " + json.dumps(page.evaluate(command["evaluate"])), flush=True)
        elif "viewport" in command:
            size = command["viewport"]
            page.call("Emulation.setDeviceMetricsOverride", width=size["width"], height=size["height"],
                      deviceScaleFactor=1, mobile=size["width"] < 500)
            print("ok", flush=True)
        elif "colorScheme" in command:
            page.call("Emulation.setEmulatedMedia",
                      features=[{"name": "prefers-color-scheme", "value": command["colorScheme"]}])
            print("ok", flush=True)
        elif "screenshot" in command:
            shot = page.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
            with open(command["screenshot"], "wb") as out:
                out.write(base64.b64decode(shot["data"]))
            print("ok", flush=True)
        else:
            print("fail: unknown command", flush=True)


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("page_test: no chromium on PATH (apt-get install chromium)")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--expect", action="append", default=[])
    parser.add_argument("--screenshot")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=900)
    parser.add_argument("--timeout", type=float, default=60)
    parser.add_argument("--interactive", action="store_true",
                        help="after the --expect checks, read JSON commands from stdin: "
                             '{"expect": [js…], "timeout": s}, {"screenshot": path}, '
                             '{"viewport": {"width": w, "height": h}}, {"colorScheme": "dark"|"light"} '
                             '(answers "ok" or "fail: …") or {"evaluate": js} (answers "value <JSON>")')
    args = parser.parse_args()

    profile = tempfile.mkdtemp(prefix="whisker-chromium-")
    browser = subprocess.Popen(
        [find_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--remote-debugging-port=0",
         f"--window-size={args.width},{args.height}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = os.path.join(profile, "DevToolsActivePort")
        deadline = time.time() + 30
        while not os.path.exists(port_file) or not open(port_file).read().strip():
            if time.time() > deadline or browser.poll() is not None:
                sys.exit("page_test: chromium did not start its DevTools endpoint")
            time.sleep(0.05)
        port = int(open(port_file).read().split()[0])
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/json/list")
        targets = json.loads(connection.getresponse().read())
        target = next(t for t in targets if t.get("type") == "page")
        page = Page(WebSocket(target["webSocketDebuggerUrl"]))
        page.call("Emulation.setDeviceMetricsOverride", width=args.width, height=args.height,
                  deviceScaleFactor=1, mobile=args.width < 500)
        page.call("Page.enable")
        page.call("Page.navigate", url=args.url)

        pending = list(args.expect)
        deadline = time.time() + args.timeout
        while pending and time.time() < deadline:
            pending = [e for e in pending if not page.evaluate(f"Boolean({e})")]
            if pending:
                time.sleep(0.2)
        if args.screenshot:
            shot = page.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
            with open(args.screenshot, "wb") as out:
                out.write(base64.b64decode(shot["data"]))
        if pending:
            text = page.evaluate("document.body.innerText") or ""
            print("page_test: not shown within %.0f s:" % args.timeout, file=sys.stderr)
            for expression in pending:
                print("  " + expression, file=sys.stderr)
            print("page text:\n" + text[:4000], file=sys.stderr)
            sys.exit(1)
        print("page_test: all %d expectations hold" % len(args.expect), flush=True)
        if args.interactive:
            serve_commands(page)
    finally:
        browser.kill()
        browser.wait()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    main()
