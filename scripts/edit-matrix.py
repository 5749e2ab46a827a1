#!/usr/bin/env python3
"""The edit-kind matrix (issue 6): one live process, one kind of edit per row.

Copies examples/matrix (and runtime/) to a temporary directory, starts `whisker-dev serve` on the
copy, starts two processes of the fat build's binary connected to it, then for each row edits the
copy's sources IN PLACE, saves, and waits until the first process prints the row's new line —
same pid, tick counter continuing, statics and thread-locals continuing where the row is about
them. Then checks that both processes applied one patch from one library file (same bytes for
both devices) and the DiffReport counts of a one-function edit.

Prints `row | result | ms | note` and exits 1 if any row failed (2 when the setup failed).

    scripts/edit-matrix.py [--whisker-dev PATH] [--no-build] [--keep] [--only ROW,ROW]
                           [--without-thread-local]

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
import sys
import tempfile
import time

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
APP_SOURCE = "matrix-app/src/rows.rs"
MAIN_SOURCE = "matrix-app/src/main.rs"
LIB_SOURCE = "matrix-lib/src/lib.rs"

ROW_TIMEOUT = 60.0
# A patch the app applied must show its new line within this (ticks are 100 ms apart).
AFTER_APPLY_GRACE = 4.0
# No patch queued this long after a save means the server did not see the edit.
NO_PATCH_TIMEOUT = 15.0
# The whole matrix must stay under ~6 minutes on 2 cores; rows left when this runs out fail.
TOTAL_BUDGET = 330.0


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

    def __init__(self, name: str, key: str, edits: list[Edit], row: str, expect: str, check=None, then=None):
        self.name, self.key, self.edits, self.row = name, key, edits, row
        self.expect = re.compile(expect)
        self.check = check
        # A follow-up (edits, row, expect) that must also show, e.g. calming the panic again.
        self.then = then


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
        "static", r"^(\d+) kept$", check=counter_matches_ticks("static COUNTER")),
    Row("thread_local continues", "thread-local",
        [Edit(APP_SOURCE, 'format!("{}", TL_COUNTER.with', 'format!("{} kept", TL_COUNTER.with')],
        "thread-local", r"^(\d+) kept$", check=counter_matches_ticks("thread_local TL_COUNTER")),
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
               then=([Edit(APP_SOURCE, 'format!("added {}"', 'format!("added again {}"')], "literal", r"^added again (\d+)$", second))


ROWS.insert(ROWS.index(next(row for row in ROWS if row.key == "literal")) + 1, added_static_rows())


class Matrix:
    def __init__(self, server: Server, app: App, project: str, deadline: float):
        self.server, self.app, self.project, self.deadline = server, app, project, deadline
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
            self.patch_of_row[row.key] = patch
        self.record(row.name, ok, ms, note)
        if not ok:
            self.revert(saved)

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
        self.record(name, True, times[len(times) // 2], f"median per patch; {sum(times) / 1000:.1f} s in all, slowest {times[-1]:.0f} ms")


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
    args = parser.parse_args()

    started = time.monotonic()
    work = tempfile.mkdtemp(prefix="whisker-matrix-")
    register_cleanup(work, keep=args.keep)
    try:
        binary = args.whisker_dev or build_whisker_dev(ROOT, skip=args.no_build)
        project = copy_example(ROOT, "examples/matrix", work)
        if args.without_thread_local:
            Edit("matrix-app/Cargo.toml", 'default = ["thread-local"]', "default = []").apply(project)
        server = Server.start(binary, project, work, bin_name="matrix-app", entry_patching=True)
        print(f"matrix: serve at {server.url} (log {server.log_path}); entry patching {'on' if server.entry_patching else 'not available'}", flush=True)
        build_id, app_binary = server.wait_for_build(timeout=240)
        print(f"matrix: fat build {build_id} ready after {time.monotonic() - started:.0f} s", flush=True)
        apps = [App.start(app_binary, server.url, build_id, f"matrix-{tag}", work, interval_ms=100) for tag in ("a", "b")]
        for app in apps:
            app.wait_registered(server, timeout=30)
    except HarnessError as err:
        print(f"matrix: setup failed: {err}", file=sys.stderr)
        return 2

    matrix = Matrix(server, apps[0], project, deadline=started + TOTAL_BUDGET)
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
    print(f"edit matrix: {time.monotonic() - started:.0f} s in all; logs in {work}{'' if args.keep else ' (removed)'}")
    return 1 if any(r[1] == "FAIL" for r in matrix.results) else 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main())
