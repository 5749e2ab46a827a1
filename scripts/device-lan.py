#!/usr/bin/env python3
"""A phone on the LAN (issue 12): an aarch64 device patched live over a veth pair with a token.

Copies examples/counter (and runtime/) to a temporary directory and serves it for
`aarch64-unknown-linux-gnu` with Debian's cargo 1.65 + rustc 1.63 (`serve --target … --cargo …
--rustc … --entry-patching --lan --host <host side> --token …`). The device is the fat build's
binary, copied out of the cache as an app is installed on a phone, running under user-mode QEMU in
its own network namespace: a veth pair this script makes (a /30 no interface here uses, removed at
exit), no route but the pair, and a private mount namespace where the server's cache directory is
an empty tmpfs, so the patch library can only arrive by download (the runtime logs its path).

Then, on the one live process:
1. `tick` and `message` edited: the new text, and `[seen N]` — the executable's static
   `TICKS_SEEN` read by the patch — equal to the tick number (a library with its own copy of the
   static would count from its load);
2. a compile error: the patch fails, the device keeps running the first patch's code;
3. the error fixed with new text (recovery): the next patch applies, the static still counts;
4. `heartbeat`, which `main`'s loop calls directly: only the entry jump brings the edit in;
5. back to the fat build (`POST /api/builds/{id}/revert`): the original text, and heartbeat's
   own code again (the runtime writes its first bytes back);
6. a hot restart (`POST /api/restart`): the device is offered the new build, downloads its binary
   and checks its sha256 (QEMU without binfmt can't exec it, so it reports restart-required).
Every patch: same pid, tick numbers continuing, library downloaded (not the server's file),
acked. Before the patches: a token-less request from the device's namespace gets 401 (the status
page's static files stay open), one with the token 200. After: the library the device got has no
TEXTREL and no writable + executable segment (readelf), and is an aarch64 shared object.

Prints `step | result | save→new output ms | note` and exits 1 if any step failed, 2 when the
setup failed. When this machine can't run the device (no qemu-aarch64, cross gcc, Debian's
aarch64 std, or no permission to make a network namespace) it prints `skipped: <why>` and exits 0.

    scripts/device-lan.py [--whisker-dev PATH] [--no-build] [--keep]

python3 standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import atexit

sys.dont_write_bytecode = True  # no __pycache__ in the checkout
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from whisker_harness import (  # noqa: E402  (the sibling module, found through sys.path above)
    AARCH64,
    QEMU_AARCH64,
    App,
    HarnessError,
    Server,
    aarch64_skip_reason,
    build_whisker_dev,
    copy_example,
    register_cleanup,
    toolchain_arguments,
)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = AARCH64
MAIN = "src/main.rs"

FAT_BUILD_TIMEOUT = 300.0
STEP_TIMEOUT = 90.0
TICK = re.compile(r"^tick (\d+): (.*)$")
SEEN = re.compile(r"^(.*) \[seen (\d+)\]$")
APPLIED = re.compile(r"^whisker-hot: applied patch (\d+) \((.*)\)$")


def skip_reason() -> str | None:
    """Why this machine can't run the aarch64 device on its own network, or None."""
    for tool in ("ip", "unshare", "readelf"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (scripts/setup.sh installs it)"
    reason = aarch64_skip_reason()
    if reason:
        return reason
    if os.geteuid() != 0:
        return "making a network namespace needs root"
    return None


class DeviceNetwork:
    """A network namespace joined to this one by a veth pair on a /30 nobody here uses."""

    def __init__(self) -> None:
        tag = os.getpid() % 100000
        self.name = f"whisker-dev-{os.getpid()}"
        self.host_interface, self.device_interface = f"wh{tag}h", f"wh{tag}d"
        self.host_address = self.device_address = ""

    def create(self) -> None:
        in_use = subprocess.run(["ip", "-o", "-4", "addr"], stdout=subprocess.PIPE, text=True).stdout
        in_use += subprocess.run(["ip", "-4", "route"], stdout=subprocess.PIPE, text=True).stdout
        start = os.getpid() % 256
        for third in [(start + i) % 256 for i in range(256)]:
            prefix = f"10.213.{third}."
            if prefix not in in_use:
                break
        else:
            raise HarnessError("every 10.213.x.0/30 is in use here")
        self.host_address, self.device_address = prefix + "1", prefix + "2"
        atexit.register(self.remove)  # before the harness's cleanup, so it runs after it
        for command in (
            ["ip", "netns", "add", self.name],
            ["ip", "link", "add", self.host_interface, "type", "veth", "peer", "name", self.device_interface],
            ["ip", "link", "set", self.device_interface, "netns", self.name],
            ["ip", "addr", "add", f"{self.host_address}/30", "dev", self.host_interface],
            ["ip", "link", "set", self.host_interface, "up"],
            ["ip", "-n", self.name, "addr", "add", f"{self.device_address}/30", "dev", self.device_interface],
            ["ip", "-n", self.name, "link", "set", self.device_interface, "up"],
            ["ip", "-n", self.name, "link", "set", "lo", "up"],
        ):
            result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            if result.returncode != 0:
                raise HarnessError(f"{' '.join(command)}: {result.stdout.strip()}")

    def remove(self) -> None:
        subprocess.run(["ip", "netns", "del", self.name], stderr=subprocess.DEVNULL)
        subprocess.run(["ip", "link", "del", self.host_interface], stderr=subprocess.DEVNULL)

    def exec(self, command: list[str]) -> list[str]:
        return ["ip", "netns", "exec", self.name] + command

    def routes(self) -> str:
        return subprocess.run(["ip", "-n", self.name, "route"], stdout=subprocess.PIPE, text=True).stdout


def status_from_device(network: DeviceNetwork, url: str, token: str | None) -> int:
    """The HTTP status of GET `url` sent from inside the device's namespace."""
    script = (
        "import sys, urllib.request, urllib.error\n"
        "request = urllib.request.Request(sys.argv[1])\n"
        "if len(sys.argv) > 2: request.add_header('Authorization', 'Bearer ' + sys.argv[2])\n"
        "try:\n    print(urllib.request.urlopen(request, timeout=10).status)\n"
        "except urllib.error.HTTPError as err:\n    print(err.code)\n"
    )
    command = network.exec([sys.executable, "-c", script, url] + ([token] if token else []))
    output = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=30).stdout
    try:
        return int(output.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise HarnessError(f"GET {url} from the device's namespace: {output.strip()[-300:]}")


def edit(project: str, replacements: list[tuple[str, str]]) -> float:
    """Makes every replacement (each `old` must be there) in the copy's main.rs in one save;
    the save's time."""
    path = os.path.join(project, MAIN)
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    for old, new in replacements:
        if old not in text:
            raise HarnessError(f"{MAIN} no longer contains {old!r}")
        text = text.replace(old, new, 1)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    return time.monotonic()


def check_library(path: str) -> str | None:
    """None when the library at `path` is an aarch64 shared object Android's loader would take."""
    header = subprocess.run(["readelf", "-hW", path], stdout=subprocess.PIPE, text=True).stdout
    if "AArch64" not in header or "DYN" not in header:
        return f"not an aarch64 shared object: {header[-200:]}"
    dynamic = subprocess.run(["readelf", "-dW", path], stdout=subprocess.PIPE, text=True).stdout
    if re.search(r"\(TEXTREL\)|FLAGS\)[^\n]*TEXTREL", dynamic):
        return "the library has TEXTREL"
    segments = subprocess.run(["readelf", "-lW", path], stdout=subprocess.PIPE, text=True).stdout
    for line in segments.splitlines():
        fields = line.split()
        if fields and fields[0] == "LOAD" and "W" in line.split()[-2] and "E" in line.split()[-2]:
            return f"a writable + executable segment: {line.strip()}"
        if fields and fields[0] == "LOAD" and re.search(r"\sRWE\s", line):
            return f"a writable + executable segment: {line.strip()}"
    return None


class DeviceRun:
    """The live device and what every step checks on it."""

    def __init__(self, server: Server, app: App, project: str, downloads: str):
        self.server, self.app, self.project, self.downloads = server, app, project, downloads
        self.results: list[tuple[str, str, str, str]] = []
        self.failed = False
        self.pid = app.proc.pid

    def record(self, step: str, ok: bool, ms: float | None, note: str) -> None:
        self.results.append((step, "ok" if ok else "FAILED", "" if ms is None else f"{ms:.0f}", note))
        self.failed |= not ok

    def wait_line(self, mark: int, predicate, timeout: float):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.app.alive():
                raise HarnessError(f"the device exited ({self.app.proc.returncode}): {self.app.stderr_tail()}")
            for seen, tag, text, _ in self.app.lines[mark:]:
                if tag == "out" and predicate(text):
                    return seen, text
            time.sleep(0.05)
        return None

    def wait_stderr(self, mark: int, predicate, timeout: float) -> str | None:
        """The first runtime (stderr) line since `mark` matching `predicate`, waiting up to `timeout`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for _, tag, text, _ in self.app.lines[mark:]:
                if tag == "err" and predicate(text):
                    return text
            time.sleep(0.1)
        return None

    def applied_line(self, mark: int, patch: int) -> str | None:
        for _, tag, text, _ in self.app.lines[mark:]:
            match = APPLIED.match(text) if tag == "err" else None
            if match and int(match.group(1)) == patch:
                return match.group(2)
        return None

    def patch_step(self, step: str, replacements: list[tuple[str, str]], expect) -> int | None:
        """Saves one edit and waits for the device's output `expect` (a predicate on a stdout
        line) from the patch it triggered; records the step; the patch id when it applied."""
        before = self.server.last_patch_id()
        mark = self.app.mark()
        saved = edit(self.project, replacements)
        found = self.wait_line(mark, expect, STEP_TIMEOUT)
        if found is None:
            patches = self.server.patches_since(before)
            state = patches[-1].get("state") if patches else "no patch"
            self.record(step, False, None, f"no new output within {STEP_TIMEOUT:.0f} s (patch: {state}); {self.app.stderr_tail()[-400:]}")
            return None
        seen, text = found
        patch = self.app.wait_applied_after(before, 10)
        problems = []
        if patch is None:
            problems.append("no 'applied patch' line")
        else:
            detail = self.applied_line(mark, patch) or ""
            if self.downloads not in detail:
                problems.append(f"library not downloaded into the device's directory: {detail}")
            record = self.server.get(f"/api/patches/{patch}")
            device = self.server.device_of_pid(self.pid)
            if device is None or device.get("lastAppliedPatch") != patch:
                problems.append(f"the server has no ack of patch {patch} from pid {self.pid}: {device}")
            mode = (record.get("library") or {}).get("linkMode")
            text = f"{text} (patch {patch}, {mode} link)"
        if not self.app.alive() or self.server.device_of_pid(self.pid) is None:
            problems.append("the device process is gone")
        self.record(step, not problems, (seen - saved) * 1000, "; ".join(problems) or text)
        return patch

    def ticks_continue(self) -> tuple[str | None, int]:
        """(None, last tick) when every tick line of the run counts on by one from 1 (no restart,
        state kept); otherwise what broke the count."""
        expected = 1
        for _, tag, text, _ in self.app.lines:
            match = TICK.match(text) if tag == "out" else None
            if match:
                if int(match.group(1)) != expected:
                    return f"tick {expected} expected, got {match.group(1)}", expected - 1
                expected += 1
        return (None if expected > 1 else "no tick printed"), expected - 1


def seen_matches_tick(text_expected: str):
    """A predicate on `tick N: <text> [seen M]` lines: the text, and M == N (the static kept)."""

    def predicate(line: str) -> bool:
        tick = TICK.match(line)
        seen = SEEN.match(tick.group(2)) if tick else None
        return bool(seen and seen.group(1) == text_expected)

    return predicate


def static_note(run: DeviceRun, text_expected: str) -> str | None:
    """The first mismatch between `[seen M]` and the tick number for `text_expected`'s lines."""
    for _, tag, line, _ in run.app.lines:
        tick = TICK.match(line) if tag == "out" else None
        seen = SEEN.match(tick.group(2)) if tick else None
        if seen and seen.group(1) == text_expected and seen.group(2) != tick.group(1):
            return f"the patch's static is not the executable's: tick {tick.group(1)} but seen {seen.group(2)}"
    return None


def run(args: argparse.Namespace) -> int:
    reason = skip_reason()
    if reason:
        print(f"device-lan: skipped: {reason}")
        return 0
    binary = args.whisker_dev or build_whisker_dev(ROOT, skip=args.no_build)
    network = DeviceNetwork()
    work = tempfile.mkdtemp(prefix="whisker-device-lan-")
    try:
        network.create()
    except HarnessError as err:
        shutil.rmtree(work, ignore_errors=True)
        print(f"device-lan: skipped: cannot make the device's network ({err})")
        return 0
    # The device's private view of the file system (the server's cache hidden) needs a mount
    # namespace and tmpfs; a container that grants network namespaces may still refuse these.
    probe = os.path.join(work, "probe")
    os.makedirs(probe)
    result = subprocess.run(network.exec(["unshare", "--mount", "--propagation", "private", "--", "sh", "-c",
                                          'mount -t tmpfs whisker-probe "$0" && echo mounted', probe]),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if "mounted" not in result.stdout:
        network.remove()
        shutil.rmtree(work, ignore_errors=True)
        print(f"device-lan: skipped: cannot give the device its own mounts ({result.stdout.strip()[-200:]})")
        return 0
    register_cleanup(work, args.keep)
    project = copy_example(ROOT, "examples/counter", work)
    token = secrets.token_hex(16)
    server = Server.start(binary, project, work, entry_patching=True, token=token, extra=toolchain_arguments(TARGET) + [
        "--lan", "--host", network.host_address, "--token", token])
    if not server.entry_patching:
        raise HarnessError("this whisker-dev serve has no --entry-patching")
    print(f"device-lan: serving {TARGET} at {server.url}; device at {network.device_address} in {network.name}")
    build_id, fat_binary = server.wait_for_build(FAT_BUILD_TIMEOUT)

    # The phone: its own copy of the app and a download directory; the server's cache invisible.
    device_dir = os.path.join(work, "device")
    downloads = os.path.join(device_dir, "tmp")
    os.makedirs(downloads)
    app_binary = os.path.join(device_dir, "counter")
    shutil.copy2(fat_binary, app_binary)
    cache = os.path.join(work, "cache")
    launcher = network.exec(["unshare", "--mount", "--propagation", "private", "--", "sh", "-c",
                             'mount -t tmpfs whisker-device-view "$0" && exec ' + " ".join(QEMU_AARCH64) + ' "$@"', cache])

    results: list[tuple[str, str, str, str]] = []
    lan_url = server.url
    unauthorized = status_from_device(network, f"{lan_url}/api/status", None)
    authorized = status_from_device(network, f"{lan_url}/api/status", token)
    page = status_from_device(network, f"{lan_url}/", None)
    routes = network.routes().strip()
    ok = (unauthorized, authorized, page) == (401, 200, 200) and "default" not in routes
    results.append(("token from the device's namespace", "ok" if ok else "FAILED", "",
                    f"no token {unauthorized}, token {authorized}, status page {page}; routes: {routes}"))

    app = App.start(app_binary, lan_url, build_id, "aarch64-phone", device_dir, interval_ms=200, launcher=launcher,
                    extra_env={"WHISKER_DEV_TOKEN": token, "TMPDIR": downloads, "COUNTER_HEARTBEAT_EVERY": "1"})
    device = app.wait_registered(server, 60)
    results.append(("device registers over the LAN", "ok" if device.get("triple") == TARGET else "FAILED", "",
                    f"device {device.get('id')} pid {device.get('pid')} triple {device.get('triple')}"))
    run = DeviceRun(server, app, project, downloads)
    run.results = results
    run.failed = any(result[1] != "ok" for result in results)
    if run.wait_line(0, lambda line: line.startswith("heartbeat "), 60) is None:
        raise HarnessError(f"the device printed no heartbeat: {app.stderr_tail()}")

    tick_line = 'say(&format!("tick {}: {}", state.ticks, message()));'
    seen_line = 'say(&format!("tick {}: {} [seen {}]", state.ticks, message(), TICKS_SEEN.load(Ordering::Relaxed)));'
    first = run.patch_step("1 text + the executable's static",
                           [('"hello from counter"', '"patched once"'), (tick_line, seen_line)],
                           seen_matches_tick("patched once"))

    # A compile error: the patch fails, the device keeps the first patch's code.
    before = server.last_patch_id()
    mark = app.mark()
    edit(project, [('"patched once"', '"patched once" +')])
    deadline = time.monotonic() + STEP_TIMEOUT
    failed = None
    while time.monotonic() < deadline and failed is None:
        failed = next((p for p in server.patches_since(before) if p.get("state") in ("failed", "succeeded")), None)
        time.sleep(0.2)
    still = run.wait_line(app.mark(), seen_matches_tick("patched once"), 10)
    ok = failed is not None and failed.get("state") == "failed" and still is not None and not app.applied_since(mark)
    error = ((failed or {}).get("error") or {}).get("message", "") if isinstance((failed or {}).get("error"), dict) else str((failed or {}).get("error", ""))
    run.record("2 compile error", ok, None,
               f"patch {(failed or {}).get('id')} {(failed or {}).get('state')}: {error[:120]}; device still prints 'patched once'"
               if ok else f"expected a failed patch and the old code running: {failed}")

    # Recovery: the error fixed with new text; the static still counts with the tick.
    second = run.patch_step("3 fixed: recovery", [('"patched once" +', '"patched twice"')],
                            seen_matches_tick("patched twice"))

    # Reached only through the entry jump: main's loop calls heartbeat() directly.
    third = run.patch_step("4 entry patching only", [('"heartbeat {round}: steady"', '"heartbeat {round}: entry-patched"')],
                           lambda line: line.startswith("heartbeat ") and line.endswith(": entry-patched"))
    if third is not None:
        detail = run.applied_line(0, third) or ""
        if "entries patched" not in detail:
            run.record("4 entry jump written", False, None, f"the runtime wrote no entry jump: {detail}")

    # Back to the fat build (issue 13's revert) over the LAN: the original text, and heartbeat's
    # first bytes written back on aarch64.
    mark = app.mark()
    started = time.monotonic()
    status, body = server.request("POST", f"/api/builds/{build_id}/revert?wait=true", timeout=120)
    back = run.wait_line(mark, lambda line: TICK.match(line) is not None and line.endswith(": hello from counter"), 60)
    beat = run.wait_line(max(mark, app.mark() - 1), lambda line: line.startswith("heartbeat ") and line.endswith(": steady"), 30)
    ok = status == 200 and back is not None and beat is not None
    run.record("5 revert to the fat build", ok, (back[0] - started) * 1000 if back else None,
               f"{back[1]}; {beat[1]}" if ok else f"revert answered {status}: {body[:200]!r}; {app.stderr_tail()[-300:]}")

    # Hot restart over the LAN: a new build; the device downloads its binary (the server's file is
    # hidden from it) and checks its sha256 before it tries to exec it. Under user-mode QEMU with no
    # binfmt the kernel can't run an aarch64 binary, so the runtime reports `restart-required`
    # (a phone's own runtime execs); the binary URL's bytes must match the sha256 offered.
    mark = app.mark()
    status, body = server.request("POST", "/api/restart")
    new_build = json.loads(body).get("id") if status == 202 else None
    restarting = run.wait_stderr(mark, lambda line: "restarting into build" in line or "restart-required" in line, 300)
    device = server.device_of_pid(run.pid) or {}
    same = False
    if new_build:
        record = server.get(f"/api/builds/{new_build}")
        fetched = subprocess.run(network.exec([sys.executable, "-c", (
            "import sys, hashlib, urllib.request\n"
            "request = urllib.request.Request(sys.argv[1], headers={'Authorization': 'Bearer ' + sys.argv[2]})\n"
            "print(hashlib.sha256(urllib.request.urlopen(request, timeout=60).read()).hexdigest())\n"),
            f"{lan_url}/api/builds/{new_build}/binary", token]), stdout=subprocess.PIPE, text=True, timeout=120).stdout.strip()
        same = fetched == record.get("binarySha256")
    ok = restarting is not None and "restarting into build" in restarting and device.get("state") == "restarting" and same
    run.record("6 restart offered over the LAN", ok, None,
               f"{restarting}; device {device.get('state')}; binary from the namespace matches sha256: {same}"
               if restarting else f"no restart on the device (POST /api/restart {status}); {app.stderr_tail()[-300:]}")

    for text in ("patched once", "patched twice"):
        problem = static_note(run, text)
        if problem:
            run.record(f"static kept ({text})", False, None, problem)
    problem, last = run.ticks_continue()
    run.record("same process throughout", problem is None and app.alive() and app.proc.pid == run.pid, None,
               problem or f"pid {run.pid}, ticks 1…{last} without a gap")

    # The library the device downloaded: what Android's loader would be given.
    newest = third or second or first
    device_id = (server.device_of_pid(run.pid) or {}).get("id")
    if newest is not None and device_id:
        status, body = server.request("GET", f"/api/patches/{newest}/library?device={device_id}", timeout=60)
        library = os.path.join(work, f"patch-{newest}.so")
        with open(library, "wb") as handle:
            handle.write(body)
        problem = check_library(library) if status == 200 else f"GET library answered {status}"
        mode = (server.get(f"/api/patches/{newest}").get("library") or {}).get("linkMode")
        run.record("library: no TEXTREL, no W+X segment", problem is None, None, problem or f"{len(body)} bytes, {mode} link")

    print_table(run.results)
    return 1 if run.failed else 0


def print_table(results: list[tuple[str, str, str, str]]) -> None:
    widths = [max(len(row[i]) for row in results + [("step", "result", "save→new output ms", "")]) for i in range(3)]
    print(f"{'step':<{widths[0]}} | {'result':<{widths[1]}} | {'save→new output ms':>{widths[2]}} | note")
    for step, result, ms, note in results:
        print(f"{step:<{widths[0]}} | {result:<{widths[1]}} | {ms:>{widths[2]}} | {note}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--whisker-dev", help="whisker-dev binary (default: build and use .build/debug)")
    parser.add_argument("--no-build", action="store_true", help="do not run swift build first")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    try:
        return run(args)
    except HarnessError as err:
        print(f"device-lan: setup failed: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
