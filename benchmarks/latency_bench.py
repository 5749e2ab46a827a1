#!/usr/bin/env python3
"""Save → applied, segment by segment (issue 10, deliver 5): where the time outside the phases goes.

Starts `whisker-dev serve` on a copy of examples/counter and one app connected to it, then saves a
one-line edit of `message()` a few times — alternately written in place and saved by rename, as
editors do — and prints, per save, the patch's `latency` (GET /api/patches/{id}): watch (save →
queued), queue, job (→ library and table ready), commit, wakeUp (→ poll answered), transit, the
device's parse / fetch / load / apply, ack; then the median of each and save → applied.

    benchmarks/latency_bench.py [--whisker-dev PATH] [--no-build] [--runs 5] [--configuration debug]
                                [--target aarch64-unknown-linux-gnu]

`--target aarch64-unknown-linux-gnu` measures the phone (issue 12): the counter built with
Debian's cargo 1.65 + rustc 1.63 for aarch64, the device under qemu-aarch64 (user-mode emulation
makes its parse / fetch / load / apply several times slower than on a real phone).

Beside it, the figure to beat: a second copy of the project gets each same edit and an
incremental `cargo build` (for the target, with the same toolchain), timed in the same run.

python3 standard library only. Exit status 0 (a benchmark); 2 when the setup failed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # no __pycache__ in the checkout
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from whisker_harness import (  # noqa: E402
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
import whisker_harness  # noqa: E402

SOURCE = "src/main.rs"
SEGMENTS = ["watch", "queue", "job", "commit", "wakeUp", "transit", "parse", "fetch", "load", "apply", "ack"]


def save(project: str, old: str, new: str, by_rename: bool) -> None:
    """Replaces the text `message()` returns: in place, or written beside and renamed over."""
    path = os.path.join(project, SOURCE)
    with open(path, encoding="utf-8") as handle:
        text = handle.read().replace(f'    "{old}"\n', f'    "{new}"\n')
    if by_rename:
        temporary = path + ".whisker-tmp"
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    else:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)


def wait_latency(server: Server, known: int, timeout: float = 120) -> dict:
    """The first patch after `known` once a device acked it: its record."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        patches = [p for p in server.patches_since(known) if p.get("id", 0) > known]
        for patch in patches:
            if patch.get("state") in ("failed", "cancelled"):
                raise HarnessError(f"patch {patch['id']} {patch['state']}: {patch.get('error')}")
            record = server.get(f"/api/patches/{patch['id']}")
            if (record.get("latency") or {}).get("devices"):
                return record
        time.sleep(0.1)
    raise HarnessError("no acked patch within the timeout")


def cargo_build(project: str, target: str | None) -> float:
    """An incremental `cargo build` of `project` (for `target`, with its toolchain); milliseconds."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WHISKER_")}
    env.update(cross_environment(target))
    command = (["cargo"] if target is None else [whisker_harness.DEBIAN_CARGO]) + ["build", "--offline"]
    command += ["--target", target] if target else []
    started = time.monotonic()
    result = subprocess.run(command, cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        raise HarnessError(f"cargo build of the baseline copy failed:\n{result.stdout[-2000:]}")
    return (time.monotonic() - started) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--whisker-dev", help="whisker-dev binary (default: build it)")
    parser.add_argument("--no-build", action="store_true", help="do not run `swift build` first")
    parser.add_argument("--configuration", default="debug", help="swift build configuration (debug or release)")
    parser.add_argument("--runs", type=int, default=5, help="timed saves (median reported; one warm-up more)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--target", choices=[whisker_harness.AARCH64], help="measure an aarch64 device under QEMU")
    args = parser.parse_args()
    if args.target and aarch64_skip_reason():
        print(f"latency bench: skipped on {args.target}: {aarch64_skip_reason()}")
        return 0

    work = tempfile.mkdtemp(prefix="whisker-latency-bench-")
    register_cleanup(work, keep=args.keep)
    try:
        binary = args.whisker_dev or build_whisker_dev(ROOT, skip=args.no_build, configuration=args.configuration)
        project = copy_example(ROOT, "examples/counter", work)
        baseline = copy_example(ROOT, "examples/counter", os.path.join(work, "cargo-baseline"))
        cargo_build(baseline, args.target)  # cold, untimed
        server = Server.start(binary, project, work, extra=toolchain_arguments(args.target))
        build_id, app_binary = server.wait_for_build(timeout=300)
        app = App.start(app_binary, server.url, build_id, "latency-bench", work, interval_ms=50,
                        launcher=device_launcher(args.target))
        app.wait_registered(server, timeout=60)
    except HarnessError as err:
        print(f"latency bench: setup failed: {err}", file=sys.stderr)
        return 2

    message = "hello from counter"
    rows: list[dict] = []
    try:
        for run in range(args.runs + 1):
            new = f"latency edit {run}"
            known = server.last_patch_id()
            time.sleep(0.3)  # let the app's poll park again
            save(project, message, new, by_rename=run % 2 == 1)
            record = wait_latency(server, known)
            save(baseline, message, new, by_rename=False)
            message = new
            cargo_ms = cargo_build(baseline, args.target)
            latency = record["latency"]
            device = latency["devices"][0]
            segments = {**latency.get("segments", {}), **device.get("segments", {})}
            row = {name: segments.get(name + "Ms") for name in SEGMENTS}
            row["total"] = device.get("saveToAppliedMs")
            row["fetchKind"] = (device.get("timings") or {}).get("fetch")
            row["cargo build"] = cargo_ms
            if run == 0:
                continue  # warm-up: the first patch of a session does one-time work
            rows.append(row)
            print("latency bench: patch %d: %s, save → applied %.0f ms" % (
                record["id"], ", ".join(f"{k} {row[k]:.1f}" for k in SEGMENTS if row[k] is not None), row["total"] or -1),
                flush=True)
    except HarnessError as err:
        print(f"latency bench: {err}", file=sys.stderr)
        return 2

    print(f"\n{args.target or 'host'} ({args.configuration} whisker-dev)")
    print("\n| segment | median ms | runs |\n|---|---|---|")
    for name in SEGMENTS + ["total", "cargo build"]:
        values = [row[name] for row in rows if row[name] is not None]
        if values:
            print(f"| {name} | {statistics.median(values):.1f} | {', '.join(f'{v:.1f}' for v in values)} |")
    kinds = sorted({row['fetchKind'] for row in rows if row['fetchKind']})
    print(f"\nlibrary fetched: {', '.join(kinds) or 'unknown'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
