#!/usr/bin/env python3
"""Issue 3 benchmark: per-phase timings of a one-line edit, next to the rustc floor and to
`cargo build` + restart, measured in one run on a private copy of examples/counter.

    benchmarks/patch_bench.py [--runs 5] [--whisker-dev .build/release/whisker-dev]

Prints a table (median / min / max per phase). Goal: everything beyond rustc + link
<= max(10% of the total, 20 ms).
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def wait_for(log_path, needle, timeout=60):
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        with open(log_path, errors="replace") as f:
            if needle in f.read():
                return time.perf_counter()
        time.sleep(0.001)
    raise SystemExit(f"bench: '{needle}' did not appear in {log_path}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--whisker-dev", default=os.path.join(ROOT, ".build/release/whisker-dev"))
    args = parser.parse_args()
    whisker = args.whisker_dev
    if not os.access(whisker, os.X_OK):
        raise SystemExit(f"bench: {whisker} not found; run `swift build -c release` first")

    work = tempfile.mkdtemp(prefix="whisker-patch-bench-")
    try:
        os.makedirs(os.path.join(work, "examples"))
        for src, dst in (("runtime", "runtime"), ("examples/counter", "examples/counter")):
            shutil.copytree(os.path.join(ROOT, src), os.path.join(work, dst), ignore=shutil.ignore_patterns("target"))
        project = os.path.join(work, "examples/counter")
        main_rs = os.path.join(project, "src/main.rs")
        env = dict(os.environ, WHISKER_CACHE_DIR=os.path.join(work, "cache"))
        env["PATH"] = os.path.expanduser("~/.cargo/bin") + ":" + env.get("PATH", "")

        build = json.loads(run([whisker, "build", "--project", project, "--json"], env=env).stdout)
        log_path = os.path.join(work, "app.log")
        log = open(log_path, "w")
        app = subprocess.Popen([build["binary"]], stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT,
                               env=dict(env, COUNTER_INTERVAL_MS="5"), text=True)
        wait_for(log_path, "aslr_reference=")
        reference = open(log_path).read().split("aslr_reference=")[1].split()[0]

        samples = {}
        floors, totals = [], []
        text = "hello from counter"
        for run_index in range(1, args.runs + 1):
            new_text = f"bench edit {run_index}"
            with open(main_rs) as f:
                source = f.read()
            with open(main_rs, "w") as f:
                f.write(source.replace(f'"{text}"', f'"{new_text}"'))
            text = new_text
            table_path = os.path.join(work, f"table-{run_index}.json")
            started = time.perf_counter()
            plan = json.loads(run([whisker, "patch", "--project", project, "--aslr-reference", reference,
                                   "--jump-table-out", table_path, "--json"], env=env).stdout)
            cli_done = time.perf_counter()
            app.stdin.write(table_path + "\n")
            app.stdin.flush()
            applied = wait_for(log_path, f"applied patch {plan['patchId']}")
            visible = wait_for(log_path, f": {new_text}")
            for phase in plan["phases"]:
                samples.setdefault(phase["name"], []).append(phase["durationMs"])
            samples.setdefault("apply", []).append((applied - cli_done) * 1000)
            samples.setdefault("visible (next tick)", []).append((visible - cli_done) * 1000)
            samples.setdefault("whisker-dev patch (process)", []).append((cli_done - started) * 1000)
            totals.append(sum(p["durationMs"] for p in plan["phases"]))

            # The floor: the same replayed rustc command alone, into a scratch dir.
            obj = plan["objectPlan"]
            scratch = tempfile.mkdtemp(dir=work)
            arguments = [a if a != obj["outDirectory"] else scratch for a in obj["arguments"]]
            arguments = [a.replace(obj["outDirectory"], scratch) if a.startswith("--out-dir=") else a for a in arguments]
            t0 = time.perf_counter()
            subprocess.run([obj["rustc"]] + arguments, cwd=obj["workingDirectory"], env=dict(env, **obj.get("environment", {})),
                           check=True, capture_output=True)
            floors.append((time.perf_counter() - t0) * 1000)

        # The alternative: cargo build of the same edit + restart until the first tick.
        target = os.path.join(work, "cargo-target")
        run(["cargo", "build", "--manifest-path", os.path.join(project, "Cargo.toml"), "--target-dir", target], env=env)
        cargo_restart = []
        for run_index in range(1, args.runs + 1):
            with open(main_rs) as f:
                source = f.read()
            new_text = f"cargo edit {run_index}"
            with open(main_rs, "w") as f:
                f.write(source.replace(f'"{text}"', f'"{new_text}"'))
            text = new_text
            t0 = time.perf_counter()
            run(["cargo", "build", "--manifest-path", os.path.join(project, "Cargo.toml"), "--target-dir", target], env=env)
            restart_log = os.path.join(work, f"restart-{run_index}.log")
            with open(restart_log, "w") as out:
                proc = subprocess.Popen([os.path.join(target, "debug/counter")], stdout=out, stderr=subprocess.STDOUT,
                                        env=dict(env, COUNTER_INTERVAL_MS="5", COUNTER_MAX_TICKS="1"))
                wait_for(restart_log, f": {new_text}")
                proc.wait()
            cargo_restart.append((time.perf_counter() - t0) * 1000)
        app.kill()
        app.wait()

        def row(name, values):
            return f"| {name:<28} | {statistics.median(values):9.1f} | {min(values):9.1f} | {max(values):9.1f} |"

        print(f"\nOne-line edit of examples/counter, {args.runs} runs (ms)\n")
        print(f"| {'phase':<28} | {'median':>9} | {'min':>9} | {'max':>9} |")
        print(f"|{'-' * 30}|{'-' * 11}|{'-' * 11}|{'-' * 11}|")
        for name, values in samples.items():
            print(row(name, values))
        print(row("pipeline total (phases)", totals))
        print(row("rustc alone (the floor)", floors))
        print(row("cargo build + restart", cargo_restart))
        rustc = sum(statistics.median(values) for name, values in samples.items() if name == "rustc" or name.startswith("rustc "))
        link = statistics.median(samples.get("link", [0]))
        total = statistics.median(totals)
        overhead = total - rustc - link
        allowed = max(0.10 * total, 20.0)
        verdict = "meets" if overhead <= allowed else "misses"
        print(f"\noverhead beyond rustc + link: {overhead:.1f} ms; goal <= max(10% of total, 20 ms) = {allowed:.1f} ms -> {verdict} the goal")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
