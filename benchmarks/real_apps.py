#!/usr/bin/env python3
"""Real apps benchmark (issue 10): per real example (examples/async-service, tui-app,
big-workspace), whisker against the tool it must beat, `cargo build`, in the same run.

    python3 benchmarks/real_apps.py [--apps async-service,tui-app,big-workspace]
                                    [--whisker-dev PATH] [--entry-patching] [--keep] [--json-out FILE]

Per app, in a temporary directory holding two copies of the example (and runtime/):
1. cold `cargo build` of the other copy with a fresh target directory (wall time);
2. cold fat build: `whisker-dev serve` on the first copy with a fresh cache directory, timed
   until its build is `succeeded` (the binary can start) and until the warm-up after it is done;
3. the fat build's binary started against that server; then for each of the app's edits (three real one-line edits, the ones
   scripts/real-apps.py makes): save → new behaviour observed in the running app, then the same
   edit in the cargo copy and an incremental `cargo build` (the figure a patch must beat; a
   restart and the lost state come on top of it);
4. each patch's library size (`library.size`), phase breakdown (`phases`) and, when the plan
   has one, its `latency` object, from `GET /api/patches/{id}`.

Prints one table per app (medians over the edits) plus the phases and latency per edit. python3
standard library only. The machine should be quiet: the figures are wall times.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))

from whisker_harness import App, HarnessError, Server, build_whisker_dev, copy_example, register_cleanup  # noqa: E402


def load_real_apps():
    """scripts/real-apps.py (a hyphenated script, so loaded by path): app specs and the step driver."""
    spec = importlib.util.spec_from_file_location("real_apps", os.path.join(ROOT, "scripts", "real-apps.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


real_apps = load_real_apps()


def timed(command: list[str], cwd: str, env: dict | None = None) -> tuple[float, str]:
    started = time.monotonic()
    result = subprocess.run(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seconds = time.monotonic() - started
    if result.returncode != 0:
        raise HarnessError(f"{' '.join(command)} failed:\n{result.stdout[-3000:]}")
    return seconds, result.stdout


def clean_env() -> dict:
    env = dict(os.environ)
    for name in ("RUSTFLAGS", "CARGO_BUILD_RUSTFLAGS", "RUSTC_WRAPPER", "RUSTC_WORKSPACE_WRAPPER", "CARGO_TARGET_DIR"):
        env.pop(name, None)
    return env


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def fmt_ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f} ms"


def flatten_numbers(value, prefix: str = "") -> list[tuple[str, float]]:
    """`latency` objects (shape owned by another change): every numeric leaf, dotted name."""
    found = []
    if isinstance(value, dict):
        for key, inner in value.items():
            found += flatten_numbers(inner, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += flatten_numbers(inner, f"{prefix}[{index}]")
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        found.append((prefix, float(value)))
    return found


def bench_app(name: str, binary: str, work: str, args) -> dict:
    spec = real_apps.APPS[name]
    served = copy_example(ROOT, spec["path"], os.path.join(work, "served"))
    manual = copy_example(ROOT, spec["path"], os.path.join(work, "cargo"))
    env = clean_env()
    result = {"app": name, "edits": []}

    command = ["cargo", "build", "--target-dir", os.path.join(manual, "target")]
    if spec["bin"]:
        command += ["--bin", spec["bin"]]
    result["coldCargoSeconds"], _ = timed(command, manual, env)
    print(f"bench: {name}: cold cargo build {result['coldCargoSeconds']:.1f} s", flush=True)

    # The cold fat build as a user meets it: `serve` on a fresh cache directory, until its binary
    # can start (build `succeeded`) and until the warm-up after it is done (first patch at speed).
    started = time.monotonic()
    server = Server.start(binary, served, work, bin_name=spec["bin"], entry_patching=args.entry_patching)
    moments: dict = {}
    build_id, app_binary = server.wait_for_build(timeout=real_apps.FAT_BUILD_TIMEOUT, moments=moments)
    result["coldFatBuildSeconds"] = moments["binaryReady"] - started
    result["coldWarmedUpSeconds"] = moments["warmedUp"] - started
    print(f"bench: {name}: cold fat build: binary ready {result['coldFatBuildSeconds']:.1f} s, "
          f"warm-up done {result['coldWarmedUpSeconds']:.1f} s", flush=True)
    app = App.start(app_binary, server.url, build_id, name, work, extra_env=spec["env"])
    app.wait_registered(server, timeout=60)
    observer = spec["observer"](app)
    observer.ready(timeout=30)
    runner = real_apps.Runner(server, app, observer, served)

    for step in spec["steps"]:
        ok, ms, note, plan = runner.step(step)
        if not ok:
            raise HarnessError(f"{name}: {step.name}: {note}")
        step.edit.apply(manual)
        code, seconds, compiled, output = real_apps.cargo_build(manual, spec["bin"])
        if code != 0:
            raise HarnessError(f"{name}: cargo build after {step.name!r} failed:\n{output[-2000:]}")
        edit = {
            "step": step.name,
            "saveToNewBehaviourMs": ms,
            "cargoBuildMs": seconds * 1000,
            "cargoCompiled": compiled,
            "patchId": plan.get("id"),
            "librarySize": real_apps.library_size(plan),
            "phases": {p.get("name"): p.get("durationMs") for p in plan.get("phases") or []},
            "latency": plan.get("latency"),
            "cratesRebuilt": plan.get("cratesRebuilt"),
        }
        result["edits"].append(edit)
        print(f"bench: {name}: {step.name}: save → new {ms:.0f} ms, cargo build {seconds * 1000:.0f} ms "
              f"({', '.join(compiled)}), library {edit['librarySize']}", flush=True)
    return result


def print_app(result: dict) -> None:
    edits = result["edits"]
    patch = [e["saveToNewBehaviourMs"] for e in edits]
    cargo = [e["cargoBuildMs"] for e in edits]
    sizes = [e["librarySize"] for e in edits if e["librarySize"] is not None]
    print(f"\n### {result['app']}\n")
    print("| measure | whisker | cargo | whisker / cargo |")
    print("|---|---|---|---|")
    fat, cold = result["coldFatBuildSeconds"], result["coldCargoSeconds"]
    print(f"| cold build, binary ready (fresh cache / target dir) | {fat:.1f} s | {cold:.1f} s | {fat / cold:.2f}× |")
    warmed = result.get("coldWarmedUpSeconds")
    if warmed is not None:
        print(f"| cold build + warm-up (first patch at full speed) | {warmed:.1f} s | {cold:.1f} s | {warmed / cold:.2f}× |")
    mp, mc = median(patch), median(cargo)
    print(f"| one-line edit, median of {len(edits)} (min–max) | save → new behaviour {mp:.0f} ms ({min(patch):.0f}–{max(patch):.0f}) "
          f"| `cargo build` {mc:.0f} ms ({min(cargo):.0f}–{max(cargo):.0f}) | {mp / mc:.2f}× |")
    if sizes:
        print(f"| patch library (per edit) | {', '.join(f'{s / 1024:.0f} KiB' for s in sizes)} | | |")
    names: list[str] = []
    for edit in edits:
        names += [n for n in edit["phases"] if n not in names]
    print("\n| phase (ms) | " + " | ".join(f"edit {i + 1}" for i in range(len(edits))) + " |")
    print("|---|" + "---|" * len(edits))
    for phase in names:
        print(f"| {phase} | " + " | ".join(str(e["phases"].get(phase, "")) for e in edits) + " |")
    print("| **save → new behaviour** | " + " | ".join(f"{e['saveToNewBehaviourMs']:.0f}" for e in edits) + " |")
    print("| `cargo build` | " + " | ".join(f"{e['cargoBuildMs']:.0f}" for e in edits) + " |")
    latencies = [dict(flatten_numbers(e["latency"])) if e.get("latency") else {} for e in edits]
    keys: list[str] = []
    for latency in latencies:
        keys += [k for k in latency if k not in keys]
    if keys:
        print("\n| latency | " + " | ".join(f"edit {i + 1}" for i in range(len(edits))) + " |")
        print("|---|" + "---|" * len(edits))
        for key in keys:
            print(f"| {key} | " + " | ".join(f"{l[key]:g}" if key in l else "" for l in latencies) + " |")
    else:
        print("\n(no `latency` object in these PatchPlans)")
    for index, edit in enumerate(edits, 1):
        print(f"edit {index}: {edit['step']} — rebuilt {'+'.join(edit['cratesRebuilt'] or [])}; cargo compiled {', '.join(edit['cargoCompiled'])}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--apps", default="async-service,tui-app,big-workspace")
    parser.add_argument("--whisker-dev", help="whisker-dev binary (default: build it, then .build/debug/whisker-dev)")
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--entry-patching", action="store_true")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--json-out", help="also write the raw results as JSON here")
    args = parser.parse_args()
    apps = [a.strip() for a in args.apps.split(",") if a.strip()]
    unknown = [a for a in apps if a not in real_apps.APPS]
    if unknown:
        parser.error(f"unknown app(s) {unknown}; known: {sorted(real_apps.APPS)}")

    binary = args.whisker_dev or build_whisker_dev(ROOT, skip=args.no_build)
    results = []
    for name in apps:
        work = tempfile.mkdtemp(prefix=f"whisker-bench-{name}-")
        register_cleanup(work, keep=args.keep)
        try:
            results.append(bench_app(name, binary, work, args))
        except HarnessError as err:
            print(f"bench: {name}: {err}", file=sys.stderr)
            results.append({"app": name, "error": str(err)})
        finally:
            real_apps_stop()
    print(f"\n## Real apps (whisker-dev {binary})")
    for result in results:
        if "error" in result:
            print(f"\n### {result['app']}\n\nfailed: {result['error'][:500]}")
        else:
            print_app(result)
    if args.json_out:
        with open(args.json_out, "w", encoding="utf-8") as handle:
            json.dump(results, handle, indent=2)
    return 1 if any("error" in r for r in results) else 0


def real_apps_stop() -> None:
    """Stops this app's server and process before the next app's builds (they would compete)."""
    import whisker_harness

    whisker_harness._stop_all()
    whisker_harness._children.clear()
    whisker_harness._servers.clear()


if __name__ == "__main__":
    sys.exit(main())
