#!/usr/bin/env python3
"""N devices, one save: how long from the save until every device runs the new code (issue 6).

Starts `whisker-dev serve` on a copy of examples/counter, then for N = 1, 4, 16 starts N processes
of the fat build's binary (simulated devices, each connected with its own ASLR slide), edits
`message()` in place, and times save → the last process printing the new text. Median of a few
runs per N; prints a table with the ratio to N = 1 against the goal "16 devices ≤ 1.2 × one
device" (one slide-independent link shared by every device; a per-device link grows with N).

    benchmarks/devices_bench.py [--whisker-dev PATH] [--no-build] [--runs 3] [--devices 1,4,16]

python3 standard library only. Exit status 0 whether or not the goal is met (it is a benchmark);
2 when the setup failed.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # no __pycache__ in the checkout
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from whisker_harness import APPLIED, App, HarnessError, Server, build_whisker_dev, copy_example, register_cleanup  # noqa: E402

SOURCE = "src/main.rs"
GOAL_RATIO = 1.2
RUN_TIMEOUT = 120.0


def set_message(project: str, old: str, new: str) -> None:
    """Replaces the text `message()` returns, in place (one line: nothing else moves)."""
    path = os.path.join(project, SOURCE)
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    needle = f'    "{old}"\n'
    if text.count(needle) != 1:
        raise HarnessError(f"{SOURCE}: expected one line {needle!r}")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text.replace(needle, f'    "{new}"\n'))


def shows(app: App, mark: int, text: str) -> float | None:
    """When the app had the new code since `mark`: the runtime's "applied patch" line, confirmed by a
    later tick printing `text`. The apply line is written the moment the jump table is live, so
    the measurement doesn't depend on the tick interval."""
    suffix = f": {text}"
    applied = None
    for seen, tag, line, _ in app.lines[mark:]:
        if applied is None and tag == "err" and APPLIED.match(line):
            applied = seen
        if tag == "out" and line.startswith("tick ") and line.endswith(suffix):
            return applied if applied is not None else seen
    return None


def one_run(server: Server, project: str, apps: list[App], old: str, new: str) -> tuple[float, int]:
    """Saves the edit and waits until every app prints it: (ms to the last app, patch id)."""
    marks = [app.mark() for app in apps]
    known = server.last_patch_id()
    set_message(project, old, new)
    saved = time.monotonic()
    next_check = saved + 0.5
    while time.monotonic() - saved < RUN_TIMEOUT:
        for app in apps:
            if not app.alive():
                raise HarnessError(f"{app.name} died: {app.stderr_tail()}")
        seen = [shows(app, mark, new) for app, mark in zip(apps, marks)]
        if all(t is not None for t in seen):
            return (max(seen) - saved) * 1000, server.last_patch_id()
        # Asking the server costs it CPU the patch job needs: only every half second.
        if time.monotonic() >= next_check:
            next_check = time.monotonic() + 0.5
            failed = [p for p in server.patches_since(known) if p.get("state") == "failed"]
            if failed:
                raise HarnessError(f"patch {failed[-1].get('id')} {failed[-1].get('state')}: {failed[-1].get('error')}")
        time.sleep(0.02)
    done = sum(1 for app, mark in zip(apps, marks) if shows(app, mark, new) is not None)
    raise HarnessError(f"only {done} of {len(apps)} devices showed the edit within {RUN_TIMEOUT:.0f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--whisker-dev", help="whisker-dev binary (default: build it, then .build/release/whisker-dev)")
    parser.add_argument("--no-build", action="store_true", help="do not run `swift build --product whisker-dev` first")
    parser.add_argument("--runs", type=int, default=3, help="timed saves per N (median reported)")
    parser.add_argument("--devices", default="1,4,16", help="comma-separated device counts")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    counts = [int(n) for n in args.devices.split(",")]

    work = tempfile.mkdtemp(prefix="whisker-devices-bench-")
    register_cleanup(work, keep=args.keep)
    try:
        binary = args.whisker_dev or build_whisker_dev(ROOT, skip=args.no_build, configuration="release")
        project = copy_example(ROOT, "examples/counter", work)
        server = Server.start(binary, project, work)
        build_id, app_binary = server.wait_for_build(timeout=240)
    except HarnessError as err:
        print(f"devices bench: setup failed: {err}", file=sys.stderr)
        return 2

    message = "hello from counter"
    results: dict[int, dict] = {}
    serial = 0
    try:
        for n in counts:
            apps = [App.start(app_binary, server.url, build_id, f"bench-{n}-{i}", work, interval_ms=100)
                    for i in range(n)]
            devices = [app.wait_registered(server, timeout=60) for app in apps]
            # Wait until every new device has caught up with earlier patches (it gets them all).
            deadline = time.monotonic() + RUN_TIMEOUT
            while not all(shows(app, 0, message) for app in apps):
                if time.monotonic() > deadline:
                    raise HarnessError(f"{n} devices did not catch up with the earlier patches")
                time.sleep(0.05)
            times, compile_ms = [], []
            for run in range(args.runs + (1 if n == counts[0] else 0)):
                serial += 1
                new = f"bench edit {serial}"
                ms, patch = one_run(server, project, apps, message, new)
                message = new
                plan = server.get(f"/api/patches/{patch}")
                if n == counts[0] and run == 0:
                    continue  # warm-up: the first patch of a session does one-time work
                times.append(ms)
                compile_ms.append(plan.get("durationMs") or 0)
            results[n] = {"median": statistics.median(times), "runs": times, "server": statistics.median(compile_ms)}
            print(f"devices bench: N={n}: {', '.join(f'{t:.0f}' for t in times)} ms", flush=True)
            for app, device in zip(apps, devices):
                os.killpg(app.proc.pid, signal.SIGKILL)
                app.proc.wait(timeout=5)
                # A dead device would still get its own link per patch; forget it.
                server.request("DELETE", f"/api/devices/{device['id']}")
    except HarnessError as err:
        print(f"devices bench: {err}", file=sys.stderr)
        if not results:
            return 2

    base = results.get(counts[0], {}).get("median")
    print()
    print("| devices | save → all applied, median ms | runs (ms) | patch job, median ms | ratio to N=1 |")
    print("|---:|---:|---|---:|---:|")
    for n in counts:
        if n not in results:
            print(f"| {n} | — | not measured | — | — |")
            continue
        r = results[n]
        ratio = r["median"] / base if base else float("nan")
        print(f"| {n} | {r['median']:.0f} | {' / '.join(f'{t:.0f}' for t in r['runs'])} | {r['server']:.0f} | {ratio:.2f} |")
    largest = max(results) if results else None
    if largest is not None and base:
        ratio = results[largest]["median"] / base
        verdict = "met" if ratio <= GOAL_RATIO else "NOT met"
        print(f"\ngoal: {largest} devices ≤ {GOAL_RATIO} × one device — {ratio:.2f}× — {verdict}")
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main())
