#!/usr/bin/env python3
"""Real apps patched live, end to end (issue 10): one of the examples built on Debian's packaged
crates (tokio + hyper, tui + crossterm, a 111-crate workspace) served by `whisker-dev serve`,
edited while it runs, then built by plain cargo.

    scripts/real-apps.py [--app async-service|tui-app|big-workspace] [--whisker-dev PATH]
                         [--no-build] [--keep] [--entry-patching] [--max-library-bytes N]

Copies the example (and runtime/) to a temporary directory and runs a plain `cargo build` there
(cargo's own target/, the baseline). Starts `whisker-dev serve` on the copy, starts the kept
binary of its fat build with WHISKER_DEV_SERVER / WHISKER_BUILD_ID, and observes the old
behaviour (an HTTP answer, a frame line, a tick line). Then, per step, edits one line of the
sources in place and waits until the same process shows the new behaviour with its state
continuing (request counter, frame or tick numbers, running totals). Afterwards it checks that
patching never touched cargo's target/ (every file's size and mtime unchanged), and that a plain
`cargo build` succeeds and compiles only the project's own crates, incrementally.

Prints `step | result | ms | note` (ms = save → new behaviour observed) and exits 1 when a
step failed, 2 when the setup failed. python3 standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in the checkout
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from whisker_harness import (  # noqa: E402  (the sibling module, found through sys.path above)
    App,
    HarnessError,
    Server,
    build_whisker_dev,
    copy_example,
    register_cleanup,
)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STEP_TIMEOUT = 120.0
FAT_BUILD_TIMEOUT = 900.0
COMPILING = re.compile(r"^\s*Compiling (\S+) v\S+(?: \((.*)\))?")


class Edit:
    """Replaces `old` (exactly one occurrence, same line count) by `new` in `path`."""

    def __init__(self, path: str, old: str, new: str):
        self.path, self.old, self.new = path, old, new

    def apply(self, project: str) -> None:
        full = os.path.join(project, self.path)
        with open(full, encoding="utf-8") as handle:
            text = handle.read()
        count = text.count(self.old)
        if count != 1:
            raise HarnessError(f"{self.path}: expected exactly one {self.old!r}, found {count}")
        with open(full, "w", encoding="utf-8") as handle:
            handle.write(text.replace(self.old, self.new))

    def reverted(self) -> "Edit":
        return Edit(self.path, self.new, self.old)


class Step:
    """One edit and the behaviour it must produce: `expect` matches an observation (a text the
    app's observer returns), whose groups the app's `continues` check reads."""

    def __init__(self, name: str, edit: Edit, expect: str, crate: str):
        self.name, self.edit, self.expect, self.crate = name, edit, re.compile(expect), crate


class LineApp:
    """An app that prints one numbered line per frame/tick on stdout: `pattern` matches such a
    line and its group 1 is the number, which must keep counting across patches."""

    numbered: re.Pattern

    def __init__(self, app: App):
        self.app = app

    def ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.latest() is not None:
                return
            if not self.app.alive():
                raise HarnessError(f"{self.app.name} exited ({self.app.proc.returncode}): {self.app.stderr_tail()}")
            time.sleep(0.05)
        raise HarnessError(f"{self.app.name} printed no numbered line within {timeout:.0f} s")

    def latest(self) -> str | None:
        for _, tag, text, _ in reversed(self.app.lines[-50:]):
            if tag == "out" and self.numbered.match(text):
                return text
        return None

    def observe(self, mark: int) -> list[tuple[float, str]]:
        """The numbered lines since `mark`, with their arrival times."""
        return [(seen, text) for seen, tag, text, _ in self.app._since(mark) if tag == "out" and self.numbered.match(text)]

    def number(self, text: str) -> int:
        return int(self.numbered.match(text).group(1))

    def continues(self, before: str, lines: list[str]) -> str | None:
        """None when the numbers since `before` go on by one (the process's state was kept)."""
        expected = self.number(before) + 1
        for text in lines:
            n = self.number(text)
            if n < expected:
                return f"the counter went back from {expected - 1} to {n} (state not kept)"
            expected = n + 1
        return None


class TuiApp(LineApp):
    numbered = re.compile(r"^frame (\d+): ")


class BigWorkspaceApp(LineApp):
    numbered = re.compile(r"^tick (\d+): ")
    TOTAL = re.compile(r"\| (?:total|records so far) (\d+)")

    def continues(self, before: str, lines: list[str]) -> str | None:
        trouble = super().continues(before, lines)
        if trouble:
            return trouble
        # The engine's running total lives in the library's state: it must keep growing.
        previous = int(self.TOTAL.search(before).group(1)) if self.TOTAL.search(before) else 0
        for text in lines:
            found = self.TOTAL.search(text)
            if found:
                total = int(found.group(1))
                if total <= previous:
                    return f"the engine's total went from {previous} to {total} (state not kept)"
                previous = total
        return None


class HttpApp:
    """The async service: observed through HTTP; each answer carries the request's number."""

    def __init__(self, app: App):
        self.app, self.base = app, None
        self.answers: list[tuple[float, str]] = []
        self._lock = threading.Lock()

    def ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.base is None:
            for _, tag, text, _ in self.app.lines:
                found = re.match(r"^listening on (http://\S+)", text) if tag == "out" else None
                if found:
                    self.base = found.group(1)
            if not self.app.alive():
                raise HarnessError(f"async-service exited ({self.app.proc.returncode}): {self.app.stderr_tail()}")
            time.sleep(0.05)
        if self.base is None:
            raise HarnessError(f"async-service printed no `listening on` line within {timeout:.0f} s")

    def fetch(self, path: str) -> str:
        try:
            with urllib.request.urlopen(self.base + path, timeout=10) as response:
                return response.read().decode().strip()
        except (urllib.error.URLError, OSError) as err:
            raise HarnessError(f"GET {path}: {err}") from err

    def sample(self) -> str:
        """One observation: `/hello` and `/` together (the two handlers the steps edit)."""
        hello = json.loads(self.fetch("/hello?name=whisker"))
        index = self.fetch("/")
        return f"request {hello['request']}: {hello['message']} | {index}"

    def latest(self) -> str:
        return self.sample()

    def observe(self, mark: int) -> list[tuple[float, str]]:
        return [(time.monotonic(), self.sample())]

    def continues(self, before: str, lines: list[str]) -> str | None:
        previous = int(re.match(r"^request (\d+):", before).group(1))
        for text in lines:
            n = int(re.match(r"^request (\d+):", text).group(1))
            if n <= previous:
                return f"the request counter went from {previous} to {n} (state not kept)"
            previous = n
        return None


APPS = {
    "async-service": {
        "path": "examples/async-service",
        "bin": None,
        "crates": {"async-service"},
        "env": {"ASYNC_SERVICE_ADDR": "127.0.0.1:0"},
        "observer": HttpApp,
        "steps": [
            Step("handler output (greeting)", Edit("src/routes.rs", 'format!("Hello, {name}!")', 'format!("Howdy, {name}!")'),
                 r"^request \d+: Howdy, whisker! \|", "async-service"),
            Step("second fn (index banner)", Edit("src/routes.rs", '"async-service: try /hello?name=you, /stats or /notes"',
                                                   '"async-service (patched): try /hello, /stats or /notes"'),
                 r"^request \d+: Howdy, whisker! \| async-service \(patched\): try", "async-service"),
            Step("same fn again (greeting)", Edit("src/routes.rs", 'format!("Howdy, {name}!")', 'format!("Good day, {name}.")'),
                 r"^request \d+: Good day, whisker\. \|", "async-service"),
        ],
    },
    "tui-app": {
        "path": "examples/tui-app",
        "bin": None,
        "crates": {"tui-app"},
        "env": {"TUI_HEADLESS": "1", "TUI_FRAME_MS": "100"},
        "observer": TuiApp,
        "steps": [
            Step("render text (title)", Edit("src/ui.rs", '    "build farm"\n', '    "render farm"\n'),
                 r"^frame \d+: render farm \|", "tui-app"),
            Step("second fn (status line)", Edit("src/ui.rs", '"{} | {} busy of {} | {} queued |', '"{} | {} busy of {} | {} waiting |'),
                 r"^frame \d+: render farm \| \d+ busy of \d+ \| \d+ waiting \|", "tui-app"),
            Step("same fn again (title)", Edit("src/ui.rs", '    "render farm"\n', '    "job board"\n'),
                 r"^frame \d+: job board \| .* waiting \|", "tui-app"),
        ],
    },
    "big-workspace": {
        "path": "examples/big-workspace",
        "bin": "logscope",
        "crates": {"logscope", "logscope-cli"},
        "env": {"LOGSCOPE_TICK_MS": "200", "LOGSCOPE_RATE": "200"},
        "observer": BigWorkspaceApp,
        "steps": [
            Step("library crate: tick line", Edit("logscope/src/report/mod.rs", '"tick {}: {} lines, {} matched,', '"tick {}: {} log lines, {} matched,'),
                 r"^tick \d+: \d+ log lines, ", "logscope"),
            Step("library crate: other fn (format_ms)", Edit("logscope/src/timefmt.rs", 'format!("{ms:.0}ms")', 'format!("{ms:.0} ms")'),
                 r"^tick \d+: \d+ log lines, .* p95 \d+ ms,", "logscope"),
            Step("library crate: same fn again", Edit("logscope/src/report/mod.rs", '" | total {}"', '" | records so far {}"'),
                 r"^tick \d+: \d+ log lines, .*\| records so far \d+", "logscope"),
        ],
    },
}


def target_snapshot(project: str) -> dict[str, tuple[int, int]]:
    """(size, mtime_ns) of every file under the project's target/ (cargo's own state)."""
    snapshot = {}
    for folder, _, files in os.walk(os.path.join(project, "target")):
        for name in files:
            path = os.path.join(folder, name)
            try:
                info = os.lstat(path)
            except OSError:
                continue
            snapshot[os.path.relpath(path, project)] = (info.st_size, info.st_mtime_ns)
    return snapshot


def snapshot_difference(before: dict, after: dict) -> str | None:
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    changed = sorted(k for k in set(before) & set(after) if before[k] != after[k])
    if not (added or removed or changed):
        return None
    parts = [f"{label} {len(items)} (e.g. {items[0]})" for label, items in (("added", added), ("removed", removed), ("changed", changed)) if items]
    return "target/ was touched: " + ", ".join(parts)


def cargo_build(project: str, bin_name: str | None = None, target_dir: str | None = None) -> tuple[int, float, list[str], str]:
    """Plain `cargo build` in `project`: (exit code, seconds, crates compiled, output)."""
    command = ["cargo", "build"]
    if bin_name:
        command += ["--bin", bin_name]
    if target_dir:
        command += ["--target-dir", target_dir]
    env = dict(os.environ)
    for name in ("RUSTFLAGS", "CARGO_BUILD_RUSTFLAGS", "RUSTC_WRAPPER", "RUSTC_WORKSPACE_WRAPPER", "CARGO_TARGET_DIR"):
        env.pop(name, None)
    started = time.monotonic()
    result = subprocess.run(command, cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seconds = time.monotonic() - started
    compiled = [m.group(1) for m in map(COMPILING.match, result.stdout.splitlines()) if m]
    return result.returncode, seconds, compiled, result.stdout


def patch_plan(server: Server, patch_id: int | None) -> dict:
    if patch_id is None:
        return {}
    try:
        return server.get(f"/api/patches/{patch_id}")
    except HarnessError:
        return {}


def summarize_error(message: str, limit: int = 300) -> str:
    text = " ".join(str(message).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Runner:
    def __init__(self, server: Server, app: App, observer, project: str):
        self.server, self.app, self.observer, self.project = server, app, observer, project
        self.results: list[tuple[str, str, str, str]] = []
        self.plans: list[dict] = []

    def record(self, name: str, ok: bool, ms: float | None, note: str = "") -> None:
        result = "pass" if ok else "FAIL"
        self.results.append((name, result, "" if ms is None else f"{ms:.0f}", note))
        print(f"real-apps: {name}: {result}{'' if ms is None else f' in {ms:.0f} ms'}{f' — {note}' if note else ''}", flush=True)

    def step(self, step: Step, timeout: float = STEP_TIMEOUT) -> tuple[bool, float, str, dict]:
        """Saves the edit and waits for the new behaviour; (ok, ms, note, patch plan)."""
        before = self.observer.latest()
        mark = self.app.mark()
        known = self.server.last_patch_id()
        pid = self.app.proc.pid
        step.edit.apply(self.project)
        saved = time.monotonic()
        seen: list[str] = []
        next_poll = saved
        patches: list[dict] = []
        while True:
            now = time.monotonic()
            if not self.app.alive():
                return False, (now - saved) * 1000, f"the app died (exit {self.app.proc.returncode}): {self.app.stderr_tail()[-300:]}", {}
            for at, text in self.observer.observe(mark):
                if text in seen and isinstance(self.observer, LineApp):
                    continue
                seen.append(text)
                if step.expect.search(text):
                    ms = (at - saved) * 1000
                    trouble = self.observer.continues(before, seen)
                    patch_id = self.app.wait_applied_after(known, timeout=3.0)
                    plan = patch_plan(self.server, patch_id)
                    if trouble is None and self.app.proc.pid != pid:
                        trouble = "a different process answered"
                    if trouble is None and patch_id is None:
                        trouble = "new behaviour, but the app reported no applied patch"
                    return trouble is None, ms, trouble or "", plan
            if now >= next_poll:
                patches = self.server.patches_since(known)
                next_poll = now + 0.25
            failed = [p for p in patches if p.get("state") == "failed"]
            if failed:
                error = failed[-1].get("error") or {}
                message = f"{error.get('message', '')} {error.get('diagnostics', '')}".strip()
                return False, (now - saved) * 1000, f"patch {failed[-1].get('id')} failed: {summarize_error(message)}", failed[-1]
            failure = self.app.patch_failure(mark)
            if failure:
                return False, (now - saved) * 1000, f"the app refused the patch: {failure}", {}
            if now - saved > timeout:
                states = ", ".join(f"{p.get('id')}:{p.get('state')}" for p in patches) or "none"
                return False, (now - saved) * 1000, f"timed out; last seen {seen[-1] if seen else None!r} (patches: {states})", {}
            time.sleep(0.05 if isinstance(self.observer, HttpApp) else 0.02)


def library_size(plan: dict) -> int | None:
    size = (plan.get("library") or {}).get("size")
    return size if isinstance(size, int) else None


def phase_note(plan: dict) -> str:
    phases = [f"{p.get('name')} {p.get('durationMs')}" for p in plan.get("phases") or [] if p.get("durationMs") is not None]
    return ", ".join(phases)


def print_table(results: list[tuple[str, str, str, str]], title: str) -> None:
    header = ("step", "result", "ms", "note")
    widths = [max(len(r[i]) for r in results + [header]) for i in range(3)]
    print(f"\n{title}")
    print(f"{header[0]:<{widths[0]}} | {header[1]:<{widths[1]}} | {header[2]:>{widths[2]}} | note")
    print(f"{'-' * widths[0]}-+-{'-' * widths[1]}-+-{'-' * widths[2]}-+-----")
    for name, result, ms, note in results:
        print(f"{name:<{widths[0]}} | {result:<{widths[1]}} | {ms:>{widths[2]}} | {note}")
    failed = sum(1 for r in results if r[1] == "FAIL")
    print(f"\nreal apps: {len(results) - failed} passed, {failed} failed", flush=True)


def start_app(spec: dict, project: str, work: str, binary: str | None, args, started: float):
    """Serves the project, waits for the fat build, starts its binary; (server, app, observer)."""
    server = Server.start(binary, project, work, bin_name=spec["bin"], entry_patching=args.entry_patching)
    print(f"real-apps: serve at {server.url} (log {server.log_path})", flush=True)
    build_id, app_binary = server.wait_for_build(timeout=FAT_BUILD_TIMEOUT)
    print(f"real-apps: fat build {build_id} ready after {time.monotonic() - started:.0f} s", flush=True)
    app = App.start(app_binary, server.url, build_id, args.app, work, extra_env=spec["env"])
    app.wait_registered(server, timeout=60)
    observer = spec["observer"](app)
    observer.ready(timeout=30)
    return server, app, observer


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--app", choices=sorted(APPS), default="async-service")
    parser.add_argument("--whisker-dev", help="whisker-dev binary (default: build it, then .build/debug/whisker-dev)")
    parser.add_argument("--no-build", action="store_true", help="do not run `swift build --product whisker-dev` first")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, sources)")
    parser.add_argument("--entry-patching", action="store_true", help="serve with --entry-patching")
    parser.add_argument("--max-library-bytes", type=int, default=None,
                        help="fail a step whose patch library is larger (off by default; the goal is 1 MiB)")
    args = parser.parse_args()
    spec = APPS[args.app]

    started = time.monotonic()
    work = tempfile.mkdtemp(prefix=f"whisker-real-{args.app}-")
    register_cleanup(work, keep=args.keep)
    try:
        binary = args.whisker_dev or build_whisker_dev(ROOT, skip=args.no_build)
        project = copy_example(ROOT, spec["path"], work)
        # cargo's own baseline build: the state patching must leave alone.
        code, seconds, compiled, output = cargo_build(project, spec["bin"])
        if code != 0:
            raise HarnessError(f"the baseline `cargo build` failed:\n{output[-3000:]}")
        print(f"real-apps: baseline cargo build: {seconds:.1f} s, {len(compiled)} crates", flush=True)
        server, app, observer = start_app(spec, project, work, binary, args, started)
        print(f"real-apps: {args.app} pid {app.proc.pid}: {observer.latest()}", flush=True)
        baseline_target = target_snapshot(project)
    except HarnessError as err:
        print(f"real-apps: setup failed: {err}", file=sys.stderr)
        return 2

    runner = Runner(server, app, observer, project)
    for step in spec["steps"]:
        try:
            ok, ms, note, plan = runner.step(step)
        except HarnessError as err:
            ok, ms, note, plan = False, None, str(err), {}
        size = library_size(plan)
        details = []
        if plan.get("id") is not None:
            details.append(f"patch {plan['id']}")
        if size is not None:
            details.append(f"library {size / 1024:.0f} KiB")
            if args.max_library_bytes is not None and size > args.max_library_bytes and ok:
                ok, note = False, f"patch library is {size} bytes > --max-library-bytes {args.max_library_bytes}"
        elif ok and args.app == "big-workspace":
            ok, note = False, "GET /api/patches/{id} reports no library.size"
        if plan.get("cratesRebuilt"):
            details.append("rebuilt " + "+".join(plan["cratesRebuilt"]))
        if plan.get("phases"):
            details.append(phase_note(plan))
        runner.record(step.name, ok, ms, "; ".join(filter(None, [note] + details)))
        if not ok:
            break  # later steps build on this one's edit

    # cargo's target/ and incremental state: untouched by the fat build's and the patches' work.
    difference = snapshot_difference(baseline_target, target_snapshot(project))
    runner.record("cargo target/ untouched by patching", difference is None, None, difference or f"{len(baseline_target)} files unchanged")

    code, seconds, compiled, output = cargo_build(project, spec["bin"])
    foreign = sorted(set(compiled) - spec["crates"])
    incremental = os.path.isdir(os.path.join(project, "target", "debug", "incremental"))
    ok = code == 0 and compiled and not foreign and incremental
    if code != 0:
        note = f"cargo build failed: {summarize_error(output[-600:])}"
    elif foreign:
        note = f"recompiled more than the project's crates: {', '.join(foreign)}"
    elif not compiled:
        note = "compiled nothing, though the sources changed"
    elif not incremental:
        note = "no target/debug/incremental: not an incremental build"
    else:
        note = f"compiled only {', '.join(compiled)} in {seconds:.2f} s"
    runner.record("plain cargo build afterwards", bool(ok), seconds * 1000, note)
    if code == 0:
        runner.record("process alive after all steps", app.alive(), None, f"pid {app.proc.pid}")

    print_table(runner.results, f"real apps: {args.app} ({time.monotonic() - started:.0f} s)")
    return 1 if any(r[1] == "FAIL" for r in runner.results) else 0


if __name__ == "__main__":
    sys.exit(main())
