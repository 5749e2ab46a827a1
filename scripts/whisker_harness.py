"""Drives `whisker-dev serve` and apps connected to it, for scripts/edit-matrix.py and
benchmarks/devices_bench.py. python3 standard library only.

Every child is started in its own process group and registered here; on exit (normal, an
exception, SIGINT or SIGTERM turned into SystemExit) each is stopped by its id: the server with
SIGINT first (it cancels its jobs and writes its journal), then SIGKILL to its group.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request


class HarnessError(Exception):
    """A step of the setup or of a check failed; the message says which and why."""


_children: list[subprocess.Popen] = []
_servers: list[subprocess.Popen] = []


def _stop_all() -> None:
    for proc in _children:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # its own group: the app and nothing else
            except ProcessLookupError:
                pass
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
    for proc in _servers:
        if proc.poll() is None:
            try:
                proc.send_signal(signal.SIGINT)
                proc.wait(timeout=10)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                pass
        try:
            # The server's cargo/rustc/linker children share its group.
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass


def register_cleanup(work: str, keep: bool) -> None:
    """Stops every child on exit, then removes `work` unless `keep`."""

    def cleanup() -> None:
        _stop_all()
        if not keep:
            shutil.rmtree(work, ignore_errors=True)

    atexit.register(cleanup)


PRODUCTS = ("whisker-dev", "whisker-rustc-shim", "whisker-linker-shim")


def build_whisker_dev(root: str, skip: bool = False, configuration: str = "debug") -> str:
    """`swift build -c <configuration> --product …` for whisker-dev and the capture shims it runs
    (a no-op when up to date); the whisker-dev binary's path."""
    binary = os.path.join(root, ".build", configuration, "whisker-dev")
    if not skip:
        for product in PRODUCTS:
            result = subprocess.run(["swift", "build", "-c", configuration, "--product", product], cwd=root,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            if result.returncode != 0:
                raise HarnessError(f"swift build --product {product} failed:\n{result.stdout[-3000:]}")
    if not os.access(binary, os.X_OK):
        raise HarnessError(f"{binary} is missing; run `swift build` or pass --whisker-dev PATH")
    return binary


def copy_example(root: str, relative: str, work: str) -> str:
    """Copies the example and runtime/ under `work` at the same relative places (the example's
    path dependency on the runtime keeps working); returns the example copy's directory."""
    ignore = shutil.ignore_patterns("target", ".build", "*.swp")
    destination = os.path.join(work, relative)
    shutil.copytree(os.path.join(root, relative), destination, ignore=ignore)
    shutil.copytree(os.path.join(root, "runtime"), os.path.join(work, "runtime"), ignore=ignore)
    return destination


class Server:
    """A running `whisker-dev serve` and a small JSON client for its API."""

    def __init__(self, proc: subprocess.Popen, url: str, log_path: str, entry_patching: bool,
                 token: str | None = None):
        self.proc, self.url, self.log_path, self.entry_patching = proc, url, log_path, entry_patching
        self.token = token  # sent as a bearer token on every request (LAN mode)

    @staticmethod
    def start(binary: str, project: str, work: str, bin_name: str | None = None,
              entry_patching: bool = False, extra: list[str] | None = None,
              token: str | None = None) -> "Server":
        """Starts serve on a free port with its own cache dir under `work`; waits for its URL.
        `entry_patching` passes `--entry-patching` when this serve knows the flag; `token` is
        the bearer token the requests send (pass `--lan --token` in `extra` to make serve ask)."""
        help_text = subprocess.run([binary, "serve", "--help"], stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True).stdout
        use_entry = entry_patching and "--entry-patching" in help_text
        command = [binary, "serve", "--project", project, "--port", "0",
                   "--cache-dir", os.path.join(work, "cache")]
        if bin_name:
            command += ["--bin", bin_name]
        if use_entry:
            command.append("--entry-patching")
        command += extra or []
        log_path = os.path.join(work, "serve.log")
        log = open(log_path, "w", encoding="utf-8")
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
        log.close()
        _servers.append(proc)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with open(log_path, encoding="utf-8", errors="replace") as handle:
                match = re.search(r"http://[^\s/]+:\d+", handle.read())
            if match:
                return Server(proc, match.group(0), log_path, use_entry, token)
            if proc.poll() is not None:
                raise HarnessError(f"whisker-dev serve exited ({proc.returncode}):\n{tail(log_path)}")
            time.sleep(0.1)
        raise HarnessError(f"whisker-dev serve printed no URL within 30 s:\n{tail(log_path)}")

    def request(self, method: str, path: str, body: dict | None = None, timeout: float = 30) -> tuple[int, bytes]:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if data else {}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()
        except (urllib.error.URLError, OSError) as err:
            raise HarnessError(f"{method} {path}: {err}") from err

    def get(self, path: str) -> dict:
        status, body = self.request("GET", path)
        if status != 200:
            raise HarnessError(f"GET {path} answered {status}: {body[:300]!r}")
        try:
            return json.loads(body)
        except ValueError as err:
            raise HarnessError(f"GET {path}: not JSON ({err})") from err

    def wait_for_build(self, timeout: float, moments: dict | None = None) -> tuple[str, str]:
        """Waits for the start-up fat build and its warm-up; (build id, path of the kept binary).
        `moments`, when given, gets the monotonic times `binaryReady` (first seen `succeeded`)
        and `warmedUp` (warm-up finished)."""
        moments = {} if moments is None else moments
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise HarnessError(f"whisker-dev serve exited ({self.proc.returncode}):\n{tail(self.log_path)}")
            build = self.get("/api/status").get("build") or {}
            state = build.get("state")
            if state == "succeeded":
                moments.setdefault("binaryReady", time.monotonic())
                record = self.get(f"/api/builds/{build['id']}")
                # The binary is ready; the warm-up after it gives the first patch its baseline
                # (an edit saved while it runs would cost the patch that baseline).
                if (record.get("warmUp") or {}).get("state", "succeeded") in ("queued", "running"):
                    time.sleep(0.1)
                    continue
                moments.setdefault("warmedUp", time.monotonic())
                return build["id"], record["binaryPath"]
            if state in ("failed", "cancelled"):
                status, log = self.request("GET", f"/api/builds/{build['id']}/log")
                raise HarnessError(f"the fat build {state}:\n{log.decode(errors='replace')[-3000:]}")
            time.sleep(0.1)
        raise HarnessError(f"no fat build after {timeout:.0f} s:\n{tail(self.log_path)}")

    def patches_since(self, patch_id: int) -> list[dict]:
        return self.get(f"/api/patches?since={patch_id}").get("patches", [])

    def last_patch_id(self) -> int:
        return max((p.get("id", 0) for p in self.patches_since(0)), default=0)

    def wait_idle(self, timeout: float) -> bool:
        """Waits until no job is queued or running (after a revert, say)."""
        deadline = time.monotonic() + timeout
        time.sleep(0.4)  # the watcher's debounce: let the save become a job first
        while time.monotonic() < deadline:
            if not self.get("/api/status").get("queue"):
                return True
            time.sleep(0.2)
        return False

    def library_sha256(self, patch_id: int, device_id: str) -> str:
        """sha256 of the library bytes the server hands this device for the patch."""
        status, body = self.request("GET", f"/api/patches/{patch_id}/library?device={device_id}", timeout=60)
        if status != 200:
            raise HarnessError(f"GET /api/patches/{patch_id}/library?device={device_id} answered {status}")
        return hashlib.sha256(body).hexdigest()

    def device_of_pid(self, pid: int) -> dict | None:
        for device in self.get("/api/devices").get("devices", []):
            if device.get("pid") == pid:
                return device
        return None


def tail(path: str, lines: int = 40) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return "".join(handle.readlines()[-lines:])
    except OSError:
        return ""


TICK = re.compile(r"^tick (\d+)$")
ROW = re.compile(r"^row ([a-z-]+): (.*)$")
APPLIED = re.compile(r"^whisker-hot: applied patch (\d+)")
REFUSED = re.compile(r"^whisker-hot: patch (\d+) failed: (.*)$")


class App:
    """A running example app; its stdout and stderr lines, timestamped as they arrive.

    `lines[i] = (monotonic time, "out" | "err", text, number of the tick being printed)`.
    """

    def __init__(self, proc: subprocess.Popen, name: str):
        self.proc, self.name = proc, name
        self.lines: list[tuple[float, str, str, int]] = []
        self._tick = 0
        self._lock = threading.Lock()
        self.on_line = None  # optional callback(time, stream, text) for benchmarks
        for stream, tag in ((proc.stdout, "out"), (proc.stderr, "err")):
            threading.Thread(target=self._read, args=(stream, tag), daemon=True).start()

    @staticmethod
    def start(binary: str, url: str, build_id: str, name: str, work: str, interval_ms: int = 100,
              extra_env: dict | None = None, launcher: list[str] | None = None) -> "App":
        """Starts `binary` (behind `launcher`, e.g. a network namespace and QEMU, when given) with
        the device variables pointing at `url`."""
        env = dict(os.environ)
        env.update({"WHISKER_DEV_SERVER": url, "WHISKER_BUILD_ID": build_id, "WHISKER_DEVICE_NAME": name,
                    "MATRIX_INTERVAL_MS": str(interval_ms), "COUNTER_INTERVAL_MS": str(interval_ms)})
        env.update(extra_env or {})
        proc = subprocess.Popen((launcher or []) + [binary], stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                env=env, cwd=work, start_new_session=True, text=True, bufsize=1,
                                errors="replace")
        _children.append(proc)
        return App(proc, name)

    def _read(self, stream, tag: str) -> None:
        for raw in stream:
            text = raw.rstrip("\n")
            now = time.monotonic()
            with self._lock:
                if tag == "out":
                    match = TICK.match(text)
                    if match:
                        self._tick = int(match.group(1))
                self.lines.append((now, tag, text, self._tick))
            if self.on_line is not None:
                self.on_line(now, tag, text)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def mark(self) -> int:
        return len(self.lines)

    def _since(self, mark: int):
        with self._lock:
            return self.lines[mark:]

    def last_tick(self) -> int:
        return self._tick

    def mark_and_tick(self) -> tuple[int, int]:
        """`mark()` and the tick being printed at that mark, taken together."""
        with self._lock:
            return len(self.lines), self._tick

    def wait_registered(self, server: Server, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise HarnessError(f"{self.name} exited ({self.proc.returncode}): {self.stderr_tail()}")
            device = server.device_of_pid(self.proc.pid)
            if device is not None:
                return device
            time.sleep(0.1)
        raise HarnessError(f"{self.name} (pid {self.proc.pid}) did not register within {timeout:.0f} s: {self.stderr_tail()}")

    def stderr_tail(self) -> str:
        return " | ".join(text for _, tag, text, _ in self.lines[-200:] if tag == "err")[-1500:]

    def find_row(self, mark: int, row: str, expect: re.Pattern):
        """The first `row <row>: <value>` since `mark` whose value matches: (tick, match, time)."""
        for seen, tag, text, tick in self._since(mark):
            if tag != "out":
                continue
            match = ROW.match(text)
            if match and match.group(1) == row:
                value = expect.match(match.group(2))
                if value:
                    return {"n": tick}, value, seen
        return None

    def last_row_value(self, row: str) -> str | None:
        with self._lock:
            for _, tag, text, _ in reversed(self.lines):
                match = ROW.match(text) if tag == "out" else None
                if match and match.group(1) == row:
                    return match.group(2)
        return None

    def tick_sequence_problem(self, mark: int, before: int) -> str | None:
        """None when every tick since `mark` continues the count from `before`."""
        expected = before + 1
        for _, tag, text, _ in self._since(mark):
            match = TICK.match(text) if tag == "out" else None
            if match:
                n = int(match.group(1))
                if n != expected:
                    return f"the tick counter jumped from {expected - 1} to {n} (state not kept)"
                expected += 1
        return None

    def applied_since(self, mark: int) -> bool:
        return any(tag == "err" and APPLIED.match(text) for _, tag, text, _ in self._since(mark))

    def patch_failure(self, mark: int) -> str | None:
        for _, tag, text, _ in self._since(mark):
            match = REFUSED.match(text) if tag == "err" else None
            if match:
                return f"patch {match.group(1)}: {match.group(2)[:300]}"
        return None

    def applied_patch_ids(self) -> set[int]:
        return {int(m.group(1)) for _, tag, text, _ in self._since(0) if tag == "err" for m in [APPLIED.match(text)] if m}

    def last_applied_patch(self) -> int | None:
        ids = self.applied_patch_ids()
        return max(ids) if ids else None

    def wait_applied_after(self, known: int, timeout: float) -> int | None:
        """The newest patch id above `known` this app reported applied, waiting a little: the
        runtime's stderr line can arrive after the new code's stdout."""
        deadline = time.monotonic() + timeout
        while True:
            newest = self.last_applied_patch()
            if newest is not None and newest > known or time.monotonic() > deadline:
                return newest if newest is not None and newest > known else None
            time.sleep(0.05)


# The aarch64 "phone" (issue 12): Debian's cargo 1.65 + rustc 1.63 with its aarch64 std build
# for it, user-mode QEMU runs it. LD_LIBRARY_PATH keeps the cross libc beside the cross loader:
# with -L alone the loader reads the host's ld.so.cache, loads libc6:arm64's newer libc, and the
# first pthread_create spins forever.
AARCH64 = "aarch64-unknown-linux-gnu"
CROSS_ROOT = "/usr/aarch64-linux-gnu"
QEMU_AARCH64 = ["qemu-aarch64", "-L", CROSS_ROOT, "-E", f"LD_LIBRARY_PATH={CROSS_ROOT}/lib"]
DEBIAN_CARGO, DEBIAN_RUSTC = "/usr/bin/cargo", "/usr/bin/rustc"


def toolchain_arguments(target: str | None) -> list[str]:
    """serve's flags for building `target` (nothing for the host)."""
    if target is None:
        return []
    return ["--target", target, "--cargo", DEBIAN_CARGO, "--rustc", DEBIAN_RUSTC]


def device_launcher(target: str | None) -> list[str]:
    """What runs a binary for `target` here: QEMU for aarch64, nothing for the host."""
    return list(QEMU_AARCH64) if target == AARCH64 else []


def cross_environment(target: str | None) -> dict:
    """The variables a plain `cargo build --target` of `target` needs (Debian's rustc, the cross linker)."""
    if target is None:
        return {}
    return {"RUSTC": DEBIAN_RUSTC, f"CARGO_TARGET_{target.upper().replace('-', '_')}_LINKER": "aarch64-linux-gnu-gcc"}


def aarch64_skip_reason() -> str | None:
    """Why this machine can't build and run an aarch64 device, or None."""
    for tool in ("qemu-aarch64", "aarch64-linux-gnu-gcc"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (scripts/setup.sh installs it)"
    for path in (DEBIAN_CARGO, DEBIAN_RUSTC):
        if not os.access(path, os.X_OK):
            return f"{path} is missing (Debian's cargo and rustc; scripts/setup.sh installs them)"
    sysroot = subprocess.run([DEBIAN_RUSTC, "--print", "sysroot"], stdout=subprocess.PIPE, text=True).stdout.strip()
    if not os.path.isdir(os.path.join(sysroot, "lib", "rustlib", AARCH64, "lib")):
        return f"{DEBIAN_RUSTC} has no {AARCH64} std (libstd-rust-dev:arm64)"
    return None
