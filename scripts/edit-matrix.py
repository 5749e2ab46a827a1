#!/usr/bin/env python3
"""The edit-kind matrix (issue 6): one live process, one kind of edit per row.

Copies examples/matrix (and runtime/) to a temporary directory, starts `whisker-dev serve` on the
copy, starts two processes of the fat build's binary connected to it, then for each row edits the
copy's sources IN PLACE, saves, and waits until the first process prints the row's new line —
same pid, tick counter continuing, statics and thread-locals continuing where the row is about
them. Then checks that both processes applied one patch from one library file (same bytes for
both devices) and the DiffReport counts of a one-function edit.

Correctness against a full rebuild (issue 10): after every row that passes (and after the
chained patches' last one), the copy's edited sources are built with plain `cargo build --offline`
into `<tmp>/fresh-target` (its own target dir, apart from the fat build's; cold once, during the
fat build, then incremental), that binary runs one tick without a server (`MATRIX_MAX_TICKS=1`,
no `WHISKER_*` variables), and its `row <name>:` line must equal the patched process's latest one
for the same row, or the row fails with both lines in its note. Normalisation: only the row's own
line is compared (tick numbers are never part of it), verbatim, except in rows marked `counts`
(static, thread-local, static added by a patch), whose value carries a count the patched process
kept across patches on purpose (the fresh process is at its first tick): there every run of
digits becomes `<n>`, so the text around the count — what the edit changed — is still compared.
`--no-rebuild-check` skips all of this.

Prints `row | result | ms | note`, then how many rows matched a fresh build, and exits 1 if any
row failed (2 when the setup failed).

    scripts/edit-matrix.py [--whisker-dev PATH] [--no-build] [--keep] [--only ROW,ROW]
                           [--without-thread-local] [--no-rebuild-check] [--target aarch64-unknown-linux-gnu]

`--target aarch64-unknown-linux-gnu` runs the same rows on an aarch64 device (issue 12): serve
builds with Debian's cargo 1.65 + rustc 1.63, both apps run under qemu-aarch64, and the rebuild
check cross-builds and runs under QEMU too; it prints `skipped` when the machine has no QEMU or
aarch64 std.

`--without-thread-local` builds the app without its tip-crate thread-local: while the pipeline
cannot link one into a patch library (local-exec TLS, R_X86_64_TPOFF32), every patch fails, so
this shows how the other rows fare. The entry-patching row runs only when `serve --help` lists
`--entry-patching` (then serve gets the flag); otherwise it is skipped.

python3 standard library only.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the checkout
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import whisker_harness  # noqa: E402  (its child registry: the rebuild check's cargo and binary)
from whisker_harness import (  # noqa: E402  (the sibling module, found through sys.path above)
    App,
    HarnessError,
    Server,
    aarch64_skip_reason,
    build_whisker_dev,
    copy_example,
    cross_environment,
    device_launcher,
    register_cleanup,
    toolchain_arguments,
)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
APP_SOURCE = "matrix-app/src/rows.rs"
MAIN_SOURCE = "matrix-app/src/main.rs"
LIB_SOURCE = "matrix-lib/src/lib.rs"

ROW_TIMEOUT = 60.0
# A patch the app applied must show its new line within this (ticks are 100 ms apart).
AFTER_APPLY_GRACE = 4.0
# No patch queued this long after a save means the server did not see the edit.
NO_PATCH_TIMEOUT = 15.0
# The whole matrix must stay under ~6 minutes on 2 cores; rows left when this runs out fail.
# It includes the rebuild check: a cold `cargo build` overlapping the fat build, then one
# incremental build (~0.5-2 s) and one tick per compared row.
TOTAL_BUDGET = 330.0
# The rebuild check's cargo builds: the cold one (whisker-hot at opt-level 3 and both crates),
# the incremental ones (one or two crates), and one tick of the fresh binary.
COLD_BUILD_TIMEOUT = 240.0
INCREMENTAL_BUILD_TIMEOUT = 120.0
FRESH_RUN_TIMEOUT = 15.0


class Edit:
    """Replaces `old` (which must occur exactly once) by `new` in `path`, or appends `new`."""

    def __init__(self, path: str, old: str | None, new: str):
        self.path, self.old, self.new = path, old, new

    def apply(self, project: str) -> None:
        full = os.path.join(project, self.path)
        with open(full, encoding="utf-8") as handle:
            text = handle.read()
        if self.old is None:
            text += self.new
        else:
            count = text.count(self.old)
            if count != 1:
                raise HarnessError(f"{self.path}: expected exactly one {self.old!r}, found {count}")
            if self.old.count("\n") != self.new.count("\n"):
                # Moving lines would change every later function (panic locations embed lines).
                raise HarnessError(f"{self.path}: the edit {self.old!r} → {self.new!r} changes the line count")
            text = text.replace(self.old, self.new)
        with open(full, "w", encoding="utf-8") as handle:
            handle.write(text)


class Row:
    """One kind of edit: the edits to save, the row line expected after the patch, and an
    optional extra check of the tick that showed it."""

    def __init__(self, name: str, key: str, edits: list[Edit], row: str, expect: str, check=None, then=None,
                 counts: bool = False):
        self.name, self.key, self.edits, self.row = name, key, edits, row
        self.expect = re.compile(expect)
        self.check = check
        # A follow-up (edits, row, expect) that must also show, e.g. calming the panic again.
        self.then = then
        # The row's value carries a count the patched process kept across patches (state meant
        # to survive), so the rebuild check compares it with its numbers normalised.
        self.counts = counts


def counter_matches_ticks(label: str):
    """The counter (incremented once per tick, like the tick number) still equals the tick
    number: it kept its value across every patch so far, it was never a fresh copy."""

    def check(tick: dict, match: re.Match) -> str | None:
        value = int(match.group(1))
        if value != tick["n"]:
            return f"{label} is {value} at tick {tick['n']}: reset by a patch (a fresh copy), not continued"
        return None

    return check


ROWS = [
    Row("fn body", "body",
        [Edit(APP_SOURCE, "    40 + 2\n", "    40 + 3\n")], "body", r"^43$"),
    Row("new fn called from an old one", "new-fn",
        [Edit(APP_SOURCE, '    String::from("original")\n', "    added_helper(7)\n"),
         Edit(APP_SOURCE, None, '\nfn added_helper(x: u64) -> String {\n    format!("added {x}")\n}\n')],
        "new-fn", r"^added 7$"),
    Row("signature change of a non-hot fn + callers", "signature",
        [Edit(APP_SOURCE, "fn scale(x: u64) -> u64 {\n    x * 2\n}", "fn scale(x: u64, y: u64) -> u64 {\n    x * y\n}"),
         Edit(APP_SOURCE, "scale(21)", "scale(21, 3)")],
        "signature", r"^63$"),
    Row("generic fn at a new type", "generic",
        [Edit(APP_SOURCE, "    describe(7u32)\n", '    describe(("pair", 2.5f64))\n')],
        "generic", r'^\("pair", 2\.5\)$'),
    Row("closure body", "closure",
        [Edit(APP_SOURCE, "let f = |x: u64| x + 1;", "let f = |x: u64| x * 100;")], "closure", r"^1000$"),
    Row("trait method impl", "trait",
        [Edit(APP_SOURCE, "        self.0 * self.0\n", "        self.0 * 4\n")], "trait", r"^20$"),
    Row("new string literal", "literal",
        [Edit(APP_SOURCE, '"literal v0"', '"a brand-new literal"')], "literal", r"^a brand-new literal$"),
    Row("tip-crate static continues", "static",
        [Edit(APP_SOURCE, 'format!("{}", COUNTER.load', 'format!("{} kept", COUNTER.load')],
        "static", r"^(\d+) kept$", check=counter_matches_ticks("static COUNTER"), counts=True),
    Row("thread_local continues", "thread-local",
        [Edit(APP_SOURCE, 'format!("{}", TL_COUNTER.with', 'format!("{} kept", TL_COUNTER.with')],
        "thread-local", r"^(\d+) kept$", check=counter_matches_ticks("thread_local TL_COUNTER"), counts=True),
    Row("workspace lib crate edit", "lib",
        [Edit(LIB_SOURCE, '"lib v0"', '"lib v1 edited"')], "lib", r"^lib v1 edited$"),
    Row("panic in patched code (caught, alive)", "panic",
        [Edit(APP_SOURCE, '    String::from("calm")\n', '    panic!("matrix boom")\n')],
        "panic", r"^caught matrix boom$",
        then=([Edit(APP_SOURCE, '    panic!("matrix boom")\n', '    String::from("calm again")\n')], "panic", r"^calm again$")),
    Row("entry patching (call outside whisker_hot::call)", "entry",
        [Edit(APP_SOURCE, '    String::from("entry v0")\n', '    String::from("entry v1")\n')], "entry", r"^entry v1$"),
]
CHAIN_LENGTH = 10


def added_static_rows() -> Row:
    """A static a patch adds keeps counting in the next patch (it lives in the first patch's
    library; the second binds to it), instead of starting a fresh copy."""
    seen: dict[str, int] = {}

    def first(tick: dict, match: re.Match) -> str | None:
        seen["first"] = int(match.group(1))
        return None

    def second(tick: dict, match: re.Match) -> str | None:
        value = int(match.group(1))
        if value <= seen.get("first", 0):
            return f"ADDED is {value} after the second patch, {seen.get('first')} after the first: a fresh copy"
        return None

    return Row("static added by a patch continues in the next", "added-static",
               [Edit(APP_SOURCE, '    "a brand-new literal"\n',
                     '    { static ADDED: AtomicU64 = AtomicU64::new(0); '
                     'Box::leak(format!("added {}", ADDED.fetch_add(1, Ordering::Relaxed) + 1).into_boxed_str()) }\n')],
               "literal", r"^added (\d+)$", check=first,
               then=([Edit(APP_SOURCE, 'format!("added {}"', 'format!("added again {}"')], "literal", r"^added again (\d+)$", second),
               counts=True)


ROWS.insert(ROWS.index(next(row for row in ROWS if row.key == "literal")) + 1, added_static_rows())


def normalise(value: str, counts: bool) -> str:
    """A row's value as the rebuild check compares it: verbatim, or with every run of digits as
    `<n>` in rows whose value is a count the patched process kept across patches (the fresh
    process prints its first tick's count)."""
    return re.sub(r"\d+", "<n>", value) if counts else value


class FreshBuild:
    """The rebuild check: plain `cargo build` of the project copy's current sources into its own
    target dir (`<work>/fresh-target`; the fat build's lives in the server's cache dir), and one
    tick of that binary without a server."""

    def __init__(self, project: str, work: str, bin_name: str = "matrix-app", triple: str | None = None):
        self.project, self.work, self.bin_name, self.triple = project, work, bin_name, triple
        self.target = os.path.join(work, "fresh-target")
        self.binary = os.path.join(self.target, *([triple] if triple else []), "debug", bin_name)
        self.cold_seconds: float | None = None
        self.cold_error: str | None = None
        self.spent = 0.0  # seconds of incremental builds and runs, in all
        self.compared = 0
        self.mismatched = 0
        self._cold: threading.Thread | None = None

    def env(self, run: bool = False) -> dict:
        """The caller's environment without anything that would make this build or run differ
        from a plain one: no server for the runtime, no redirected target dir or wrapped rustc."""
        drop = ("CARGO_TARGET_DIR", "CARGO_BUILD_TARGET_DIR", "RUSTC_WRAPPER", "CARGO_BUILD_RUSTC_WRAPPER",
                "RUSTC_WORKSPACE_WRAPPER", "RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "CARGO_BUILD_RUSTFLAGS")
        env = {k: v for k, v in os.environ.items()
               if k not in drop and not k.startswith(("WHISKER_", "MATRIX_", "COUNTER_"))}
        env["CARGO_NET_OFFLINE"] = "true"
        env.update(cross_environment(self.triple))
        if run:
            env.update({"MATRIX_MAX_TICKS": "1", "MATRIX_INTERVAL_MS": "0"})
        return env

    def build(self, timeout: float) -> str | None:
        """`cargo build --offline`; None, or why it failed."""
        command = ["cargo", "build", "--offline", "--bin", self.bin_name, "--target-dir", self.target]
        if self.triple:
            command = [whisker_harness.DEBIAN_CARGO] + command[1:] + ["--target", self.triple]
        try:
            # Its own group, registered with the harness: on exit it is killed with its rustc.
            proc = subprocess.Popen(command, cwd=self.project, env=self.env(), stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                    errors="replace", start_new_session=True)
        except OSError as err:
            return f"`cargo build`: {err}"
        whisker_harness._children.append(proc)
        try:
            output, _ = proc.communicate(timeout=max(1.0, timeout))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return f"`cargo build` took over {timeout:.0f} s"
        if proc.returncode != 0:
            return f"`cargo build` exited {proc.returncode}: {summarize_error(output[-3000:])}"
        return None

    def start_cold(self) -> None:
        """The first (cold) build, on a thread, while the server does its fat build; the sources
        are not edited before `wait_cold` returns."""

        def cold() -> None:
            started = time.monotonic()
            self.cold_error = self.build(COLD_BUILD_TIMEOUT)
            self.cold_seconds = time.monotonic() - started

        self._cold = threading.Thread(target=cold, daemon=True)
        self._cold.start()

    def wait_cold(self) -> float:
        """Waits for the cold build; the seconds waited."""
        started = time.monotonic()
        if self._cold is not None:
            self._cold.join(COLD_BUILD_TIMEOUT + 10)
            if self._cold.is_alive():
                self.cold_error = self.cold_error or "the cold `cargo build` did not finish"
        return time.monotonic() - started

    def one_tick(self) -> tuple[dict[str, str], str | None]:
        """Runs the fresh binary for one tick ({row: value}, or why not). `MATRIX_MAX_TICKS=1`
        makes it exit; should it not, it is killed once it printed its first full tick (the
        `row entry:` line ends one) or after FRESH_RUN_TIMEOUT."""
        try:
            proc = subprocess.Popen(device_launcher(self.triple) + [self.binary], cwd=self.work, env=self.env(run=True), stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                    errors="replace", start_new_session=True)
        except OSError as err:
            return {}, f"could not start the fresh binary: {err}"
        whisker_harness._children.append(proc)
        timer = threading.Timer(FRESH_RUN_TIMEOUT, proc.kill)
        timer.start()
        values: dict[str, str] = {}
        ticks = 0
        try:
            for raw in proc.stdout:
                text = raw.rstrip("\n")
                if re.match(r"^tick \d+$", text):
                    ticks += 1
                    if ticks > 1:
                        break
                    continue
                match = re.match(r"^row ([a-z-]+): (.*)$", text)
                if match and ticks == 1:
                    values[match.group(1)] = match.group(2)
                    if match.group(1) == "entry":
                        break
        finally:
            timer.cancel()
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            proc.stdout.close()
        if not values:
            return {}, f"the fresh binary printed no tick (exit {proc.returncode})"
        return values, None

    def compare(self, row: str, patched: str | None, counts: bool) -> str | None:
        """Builds the current sources, runs one tick, compares the row's line; None when the
        same, else why not (with both lines)."""
        started = time.monotonic()
        try:
            error = self.build(INCREMENTAL_BUILD_TIMEOUT)
            if error:
                return f"rebuild check: {error}"
            values, error = self.one_tick()
            if error:
                return f"rebuild check: {error}"
        finally:
            self.spent += time.monotonic() - started
        self.compared += 1
        fresh = values.get(row)
        if patched is None or fresh is None or normalise(patched, counts) != normalise(fresh, counts):
            self.mismatched += 1
            shown = lambda value: "no line" if value is None else repr(f"row {row}: {value}")
            return (f"differs from a fresh `cargo build`: patched process {shown(patched)}, "
                    f"fresh build {shown(fresh)}" + (" (digits normalised)" if counts else ""))
        return None

    def summary(self) -> str:
        cold = "not run" if self.cold_seconds is None else f"{self.cold_seconds:.0f} s"
        return (f"rebuild check: {self.compared} rows compared with a fresh `cargo build`, "
                f"{self.compared - self.mismatched} the same, {self.mismatched} differed; "
                f"cold build {cold} (during the fat build), incremental builds and runs {self.spent:.1f} s in all")


class Matrix:
    def __init__(self, server: Server, app: App, project: str, deadline: float, fresh: FreshBuild | None = None):
        self.server, self.app, self.project, self.deadline = server, app, project, deadline
        self.fresh = fresh
        self.results: list[tuple[str, str, str, str]] = []
        self.patch_of_row: dict[str, int] = {}

    def record(self, name: str, ok: bool | None, ms: float | None, note: str = "") -> None:
        result = "skip" if ok is None else ("pass" if ok else "FAIL")
        self.results.append((name, result, "" if ms is None else f"{ms:.0f}", note))
        print(f"matrix: {name}: {result}{'' if ms is None else f' in {ms:.0f} ms'}{f' — {note}' if note else ''}", flush=True)

    def step(self, edits: list[Edit], row: str, expect: re.Pattern, check=None) -> tuple[bool, float, str, int | None]:
        """Saves the edits, waits for the row's new line; (ok, ms, note, patch id applied)."""
        mark, before = self.app.mark_and_tick()
        known = self.server.last_patch_id()
        for edit in edits:
            edit.apply(self.project)
        saved = time.monotonic()
        limit = min(saved + ROW_TIMEOUT, self.deadline)
        applied_at = None
        patches: list[dict] = []
        next_poll = saved
        while True:
            now = time.monotonic()
            if not self.app.alive():
                return False, (now - saved) * 1000, f"the app died (exit {self.app.proc.returncode})", None
            hit = self.app.find_row(mark, row, expect)
            if hit is not None:
                tick, match, seen = hit
                ms = (seen - saved) * 1000
                trouble = self.app.tick_sequence_problem(mark, before)
                if trouble is None and check is not None:
                    trouble = check(tick, match)
                return trouble is None, ms, trouble or "", self.app.wait_applied_after(known, timeout=2.0)
            if now >= next_poll:
                # Plans carry whole jump tables: ask the server four times a second, not 20.
                patches = self.server.patches_since(known)
                next_poll = now + 0.25
            # Cancelled jobs are not failures: a save that found nothing new is cancelled.
            failed = [p for p in patches if p.get("state") == "failed"]
            if failed:
                error = failed[-1].get("error") or {}
                error = f"{error.get('message', '')}\n{error.get('diagnostics', '')}".strip() or failed[-1].get("state")
                return False, (now - saved) * 1000, f"patch {failed[-1].get('id')} {failed[-1].get('state')}: {summarize_error(error)}", None
            device_failure = self.app.patch_failure(mark)
            if device_failure:
                return False, (now - saved) * 1000, f"the app refused the patch: {device_failure}", None
            if applied_at is None and self.app.applied_since(mark):
                applied_at = now
            if applied_at is not None and now - applied_at > AFTER_APPLY_GRACE:
                shown = self.app.last_row_value(row)
                return False, (now - saved) * 1000, f"patch applied, but the row still prints {shown!r}", self.app.last_applied_patch()
            if not patches and now - saved > NO_PATCH_TIMEOUT:
                return False, (now - saved) * 1000, f"no patch started within {NO_PATCH_TIMEOUT:.0f} s of the save", None
            if now > limit:
                states = ", ".join(f"{p.get('id')}:{p.get('state')}" for p in patches) or "none"
                return False, (now - saved) * 1000, f"timed out (patches since the save: {states})", None
            time.sleep(0.05)

    def revert(self, edits: list[Edit]) -> None:
        """Puts a failed row's sources back, so later rows do not carry its edit, and lets the
        server finish whatever the save started."""
        for edit in reversed(edits):
            if edit.old is None:
                path = os.path.join(self.project, edit.path)
                with open(path, encoding="utf-8") as handle:
                    text = handle.read()
                if text.endswith(edit.new):
                    with open(path, "w", encoding="utf-8") as handle:
                        handle.write(text[: -len(edit.new)])
            else:
                Edit(edit.path, edit.new, edit.old).apply(self.project)
        self.server.wait_idle(min(30.0, max(0.0, self.deadline - time.monotonic())))

    def run_row(self, row: Row) -> None:
        if time.monotonic() > self.deadline:
            self.record(row.name, False, None, "not run: the matrix's time budget ran out")
            return
        saved = list(row.edits)
        ok, ms, note, patch = self.step(row.edits, row.row, row.expect, row.check)
        if ok and row.then is not None:
            edits, name, expect, *then_check = row.then
            saved += edits
            ok, _, then_note, _ = self.step(edits, name, re.compile(expect), then_check[0] if then_check else None)
            if not ok:
                note = f"afterwards: {then_note}"
        if ok:
            ok, note = self.rebuild_check(row.row, row.counts, note)
        if ok:
            self.patch_of_row[row.key] = patch
        self.record(row.name, ok, ms, note)
        if not ok:
            self.revert(saved)

    def rebuild_check(self, row: str, counts: bool, note: str) -> tuple[bool, str]:
        """After a passing row: the patched process's line for `row` against a fresh build's."""
        if self.fresh is None:
            return True, note
        trouble = self.fresh.compare(row, self.app.last_row_value(row), counts)
        if trouble:
            return False, trouble
        return True, f"{note}; same as fresh build" if note else "same as fresh build"

    def run_chain(self) -> None:
        name = f"{CHAIN_LENGTH} chained patches"
        times = []
        for k in range(1, CHAIN_LENGTH + 1):
            if time.monotonic() > self.deadline:
                self.record(name, False, None, f"time budget ran out after {k - 1} patches")
                return
            old, new = f"fn chain_row() -> u64 {{\n    {k - 1}\n}}", f"fn chain_row() -> u64 {{\n    {k}\n}}"
            ok, ms, note, patch = self.step([Edit(APP_SOURCE, old, new)], "chain", re.compile(rf"^{k}$"))
            if not ok:
                self.record(name, False, ms, f"patch {k} of {CHAIN_LENGTH}: {note}")
                return
            times.append(ms)
            self.patch_of_row["chain"] = patch
        times.sort()
        ok, note = self.rebuild_check("chain", False, f"median per patch; {sum(times) / 1000:.1f} s in all, slowest {times[-1]:.0f} ms")
        self.record(name, ok, times[len(times) // 2], note)


def summarize_error(message: str) -> str:
    """A job error in one short line: its head, without the tool's command line, plus the first
    diagnostic (`error: …`) when the message carries one."""
    text = " ".join(str(message).split())
    head = re.split(r": (?:cc|clang|ld|rustc|/)\S* ", text, maxsplit=1)[0]
    found = re.search(r"(?:rust-lld|ld\.lld|ld|rustc)?:? ?error(?:\[E\d+\])?: .*", text[len(head):])
    diagnostic = found.group(0).split(" >>> ")[0] if found else ""
    return one_line(head + (f" — {diagnostic}" if diagnostic else ""), 400)


def one_line(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def check_shared_library(matrix: Matrix, apps: list[App]) -> None:
    """Both processes applied the last patch, from byte-identical library files (one link)."""
    name = "two processes, one link"
    patch = matrix.patch_of_row.get("chain") or max(matrix.patch_of_row.values(), default=None)
    if patch is None:
        matrix.record(name, False, None, "no patch succeeded to compare")
        return
    started = time.monotonic()
    second = apps[1]
    # The second process gets the same patches; give it time to catch up.
    while time.monotonic() - started < 30 and patch not in second.applied_patch_ids():
        if not second.alive():
            break
        time.sleep(0.1)
    if patch not in second.applied_patch_ids():
        failure = second.patch_failure(0)
        matrix.record(name, False, None, f"the second process did not apply patch {patch}" + (f": {failure}" if failure else ""))
        return
    devices = {d.get("pid"): d for d in matrix.server.get("/api/devices").get("devices", [])}
    ids = []
    for app in apps:
        device = devices.get(app.proc.pid)
        if device is None:
            matrix.record(name, False, None, f"pid {app.proc.pid} is not among the server's devices")
            return
        ids.append(device["id"])
    plan = matrix.server.get(f"/api/patches/{patch}")
    applied_by = set(plan.get("appliedBy") or [])
    digests = [matrix.server.library_sha256(patch, device) for device in ids]
    link_mode = (plan.get("library") or {}).get("linkMode")
    # The runtime logs the file it loaded: on the server's machine, the server's own library.
    loaded = []
    for app in apps:
        lines = [text for _, tag, text, _ in app.lines if tag == "err" and text.startswith(f"whisker-hot: applied patch {patch} (")]
        loaded.append(lines[-1].rstrip(")").split(", ")[-1] if lines else "?")
    details = (f"patch {patch}; {link_mode} link; sha256 {digests[0][:12]} vs {digests[1][:12]}; "
               f"file {os.path.basename(loaded[0])}{' (same file)' if loaded[0] == loaded[1] else ' vs ' + os.path.basename(loaded[1])}")
    if not set(ids) <= applied_by:
        matrix.record(name, False, None, f"appliedBy {sorted(applied_by)} lacks {sorted(set(ids) - applied_by)}; {details}")
    elif digests[0] != digests[1] or link_mode != "shared":
        matrix.record(name, False, None, f"each device got its own link (per-slide libraries); {details}")
    elif loaded[0] != loaded[1]:
        matrix.record(name, False, None, f"one link, but the processes loaded different files; {details}")
    else:
        matrix.record(name, True, None, details)


def diff_names(entries) -> list[str]:
    """Function names from a DiffReport list: plain symbol names or objects with a name."""
    if not isinstance(entries, list):
        return []
    return [e if isinstance(e, str) else str(e.get("name") or e.get("demangled")) for e in entries]


def diff_count(diff: dict, kind: str) -> int | None:
    """`changed`/`added`/`removed` as a count, whether the report carries a count or a list."""
    value = diff.get(kind)
    if isinstance(value, list):
        return len(value)
    if isinstance(value, int):
        return value
    listed = [f for f in diff.get("functions") or [] if isinstance(f, dict) and f.get("change", f.get("kind")) == kind]
    return len(listed) if listed else None


def check_diff_counts(matrix: Matrix, key: str, function: str, label: str) -> None:
    """The row `key` changed exactly one function (`function`) in place: its patch's DiffReport
    must say "1 function changed" and name it."""
    name = f"DiffReport of a one-fn edit, {label}"
    patch = matrix.patch_of_row.get(key)
    if patch is None:
        matrix.record(name, False, None, f"the {key} row produced no applied patch")
        return
    diff = matrix.server.get(f"/api/patches/{patch}").get("diff") or {}
    counts = {kind: diff_count(diff, kind) for kind in ("changed", "added", "removed")}
    names = diff_names(diff.get("changed"))
    names += [str(f.get("name")) for f in diff.get("functions") or [] if isinstance(f, dict)]
    summary = diff.get("summary")
    note = f"patch {patch} vs {diff.get('baseline', '?')}: {summary!r}; changed {[n[:60] for n in names[:4]]}"
    ok = counts == {"changed": 1, "added": 0, "removed": 0} and summary in (None, "1 function changed")
    ok = ok and any(function in n for n in names)
    matrix.record(name, ok, None, note)


def print_table(results: list[tuple[str, str, str, str]]) -> None:
    widths = [max(len(r[i]) for r in results + [("row", "result", "ms", "note")]) for i in range(3)]
    print()
    print(f"{'row':<{widths[0]}} | {'result':<{widths[1]}} | {'ms':>{widths[2]}} | note")
    print(f"{'-' * widths[0]}-+-{'-' * widths[1]}-+-{'-' * widths[2]}-+-----")
    for name, result, ms, note in results:
        print(f"{name:<{widths[0]}} | {result:<{widths[1]}} | {ms:>{widths[2]}} | {note}")
    passed = sum(1 for r in results if r[1] == "pass")
    failed = sum(1 for r in results if r[1] == "FAIL")
    print(f"\nedit matrix: {passed} passed, {failed} failed, {len(results) - passed - failed} skipped", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--whisker-dev", help="whisker-dev binary (default: build it, then .build/debug/whisker-dev)")
    parser.add_argument("--no-build", action="store_true", help="do not run `swift build --product whisker-dev` first")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, sources)")
    parser.add_argument("--only", help="comma-separated row keys (body,new-fn,…,chain) to run")
    parser.add_argument("--without-thread-local", action="store_true",
                        help="build the app without its thread-local (the row is skipped): a tip-crate "
                             "thread-local that the pipeline cannot link breaks every patch, not only its row")
    parser.add_argument("--no-rebuild-check", action="store_true",
                        help="do not compare each passing row with a fresh `cargo build` of the edited sources")
    parser.add_argument("--target", choices=[whisker_harness.AARCH64],
                        help="run the matrix on an aarch64 device: built with Debian's cargo + rustc 1.63, run under "
                             "qemu-aarch64 (the rebuild check builds for it too)")
    args = parser.parse_args()
    if args.target:
        reason = aarch64_skip_reason()
        if reason:
            print(f"matrix: skipped on {args.target}: {reason}")
            return 0
        global TOTAL_BUDGET
        TOTAL_BUDGET *= 2  # QEMU runs the apps (and the rebuild check's binary) several times slower

    started = time.monotonic()
    work = tempfile.mkdtemp(prefix="whisker-matrix-")
    register_cleanup(work, keep=args.keep)
    try:
        binary = args.whisker_dev or build_whisker_dev(ROOT, skip=args.no_build)
        project = copy_example(ROOT, "examples/matrix", work)
        if args.without_thread_local:
            Edit("matrix-app/Cargo.toml", 'default = ["thread-local"]', "default = []").apply(project)
        fresh = None if args.no_rebuild_check else FreshBuild(project, work, triple=args.target)
        if fresh is not None:
            fresh.start_cold()  # overlaps the fat build; joined before the first edit
        server = Server.start(binary, project, work, bin_name="matrix-app", entry_patching=True,
                              extra=toolchain_arguments(args.target))
        print(f"matrix: serve at {server.url} (log {server.log_path}); entry patching {'on' if server.entry_patching else 'not available'}", flush=True)
        build_id, app_binary = server.wait_for_build(timeout=240)
        print(f"matrix: fat build {build_id} ready after {time.monotonic() - started:.0f} s", flush=True)
        apps = [App.start(app_binary, server.url, build_id, f"matrix-{tag}", work, interval_ms=100,
                          launcher=device_launcher(args.target)) for tag in ("a", "b")]
        for app in apps:
            app.wait_registered(server, timeout=30)
    except HarnessError as err:
        print(f"matrix: setup failed: {err}", file=sys.stderr)
        return 2

    matrix = Matrix(server, apps[0], project, deadline=started + TOTAL_BUDGET, fresh=fresh)
    if fresh is not None:
        waited = fresh.wait_cold()
        print(f"matrix: cold `cargo build` for the rebuild check took {fresh.cold_seconds or 0:.0f} s "
              f"({waited:.1f} s waited for it after the apps started)", flush=True)
        if fresh.cold_error:
            matrix.record("rebuild check (cold cargo build)", False, None, fresh.cold_error)
            matrix.fresh = None
    only = set(args.only.split(",")) if args.only else None
    for row in ROWS:
        if only is not None and row.key not in only:
            continue
        if row.key == "thread-local" and args.without_thread_local:
            matrix.record(row.name, None, None, "--without-thread-local")
            continue
        if row.key == "entry" and not server.entry_patching:
            matrix.record(row.name, None, None, "serve has no --entry-patching (not merged yet)")
            continue
        try:
            matrix.run_row(row)
        except HarnessError as err:
            matrix.record(row.name, False, None, str(err))
    if only is None or "chain" in only:
        matrix.run_chain()
    try:
        check_shared_library(matrix, apps)
        # The first patch of a session compares against the fat build's objects, later ones
        # against the previous patch's: check one of each.
        check_diff_counts(matrix, "body", "body_value", "first patch (fat-build baseline)")
        check_diff_counts(matrix, "trait", "area", "later patch (previous-patch baseline)")
    except HarnessError as err:
        matrix.record("API checks", False, None, str(err))
    print_table(matrix.results)
    if fresh is not None:
        print(fresh.summary())
    print(f"edit matrix: {time.monotonic() - started:.0f} s in all; logs in {work}{'' if args.keep else ' (removed)'}")
    return 1 if any(r[1] == "FAIL" for r in matrix.results) else 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main())
