#!/usr/bin/env python3
"""Issue 10, "cost follows the edit": per-phase milliseconds of a one-line edit in the binary
crate, on a small binary (examples/counter, std only) and on a large one (~60k symbols: an app on
tokio, hyper, regex, clap, serde, chrono, rand, url, toml, futures, serde_yaml and
tracing-subscriber from Debian's `librust-*-dev` packages, generated here).

    benchmarks/patch_cost.py [--edits 5] [--whisker-dev .build/release/whisker-dev] [--only small|large]

Each edit changes one string literal and runs `whisker-dev patch` (no process needed: the slide
only moves the jump table's addresses). Prints per binary the fat binary's symbol count, then the
median / min / max of every phase and of "everything but rustc". Goal: everything but rustc
<= 30 ms, on the large binary too; objectSymbols, relocate, link, jumpTable and functionDiff must
follow the patch's objects, not the binary's symbol count.

The large app needs (scripts/setup.sh does not install them):
    apt-get install librust-tokio-dev librust-hyper-dev librust-regex-dev librust-clap-dev \\
        librust-serde-json-dev librust-chrono-dev librust-rand-dev librust-url-dev librust-toml-dev \\
        librust-futures-dev librust-serde-yaml-dev librust-tracing-subscriber-dev
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REGISTRY = "/usr/share/cargo/registry"

LARGE_CARGO = """[package]
name = "bigapp"
version = "0.1.0"
edition = "2021"
publish = false

[dependencies]
whisker-hot = { path = "../runtime" }
tokio = { version = "1", features = ["rt", "rt-multi-thread", "net", "time", "macros", "sync", "io-util"] }
hyper = { version = "0.14", features = ["server", "client", "http1", "http2", "tcp", "runtime"] }
regex = "1"
clap = { version = "4", features = ["derive"] }
serde_json = "1"
chrono = "0.4"
rand = "0.8"
url = "2"
toml = "0.5"
futures = "0.3"
serde_yaml = "0.8"
tracing-subscriber = { version = "0.3", features = ["fmt", "env-filter"] }
tracing = "0.1"
serde = { version = "1", features = ["derive"] }

[workspace]
"""

LARGE_CONFIG = f"""[source.crates-io]
replace-with = "debian"
[source.debian]
directory = "{REGISTRY}"
[net]
offline = true
"""

LARGE_MAIN = r'''use std::io::Write;
use std::time::Duration;
use clap::Parser;

#[derive(Parser, Debug)]
struct Args {
    #[arg(long, default_value_t = 500)]
    interval: u64,
}

fn message() -> &'static str {
    "hello from bigapp"
}

fn tick(n: u64) {
    let re = regex::Regex::new(r"h(\w+)").unwrap();
    let v = serde_json::json!({"n": n, "msg": message()});
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "tick {n}: {} {}", re.replace(message(), "H$1"), v);
    let _ = out.flush();
}

async fn serve() {
    use hyper::service::{make_service_fn, service_fn};
    let make = make_service_fn(|_| async {
        Ok::<_, hyper::Error>(service_fn(|_req| async {
            Ok::<_, hyper::Error>(hyper::Response::new(hyper::Body::from(message())))
        }))
    });
    let addr = ([127, 0, 0, 1], 0).into();
    let _ = hyper::Server::bind(&addr).serve(make).await;
}

#[derive(serde::Serialize, serde::Deserialize, Debug)]
struct Config { name: String, n: u64 }

fn extras() {
    let c: Config = toml::from_str("name = \"x\"\nn = 3").unwrap();
    let y = serde_yaml::to_string(&c).unwrap();
    let u = url::Url::parse("http://example.com/a?b=c").unwrap();
    let r: u64 = rand::random();
    let now = chrono::Utc::now();
    let f = futures::executor::block_on(async { 1 + 1 });
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::new("info")).try_init().ok();
    tracing::info!("start");
    println!("{} {} {} {} {}", y.len(), u.host_str().unwrap_or(""), r % 2, now.timestamp() > 0, f);
}

fn main() {
    let args = Args::parse();
    extras();
    whisker_hot::connect();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.spawn(serve());
    let mut n = 0u64;
    loop {
        n += 1;
        whisker_hot::call(|| tick(n));
        std::thread::sleep(Duration::from_millis(args.interval));
    }
}
'''


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def make_small(work):
    shutil.copytree(os.path.join(ROOT, "examples/counter"), os.path.join(work, "examples/counter"),
                    ignore=shutil.ignore_patterns("target"))
    project = os.path.join(work, "examples/counter")
    return project, os.path.join(project, "src/main.rs"), '"hello from counter'


def make_large(work):
    if not os.path.isdir(os.path.join(REGISTRY, "tokio-1.24.2")) and not any(
            name.startswith("tokio-") for name in os.listdir(REGISTRY) if os.path.isdir(REGISTRY)):
        raise SystemExit("bench: the large app needs Debian's librust-*-dev packages (see the docstring)")
    project = os.path.join(work, "bigapp")
    os.makedirs(os.path.join(project, "src"))
    os.makedirs(os.path.join(project, ".cargo"))
    with open(os.path.join(project, "Cargo.toml"), "w") as f:
        f.write(LARGE_CARGO)
    with open(os.path.join(project, ".cargo/config.toml"), "w") as f:
        f.write(LARGE_CONFIG)
    with open(os.path.join(project, "src/main.rs"), "w") as f:
        f.write(LARGE_MAIN)
    return project, os.path.join(project, "src/main.rs"), '"hello from bigapp'


# `--app NAME`: a real example (examples/README.md) instead of the generated apps; the literal
# each edit changes (the file relative to the example, the literal's start up to its first quote).
APPS = {
    "async-service": ("src/routes.rs", '"async-service: try /hello?name=you'),
    "tui-app": ("src/ui.rs", '"build farm'),
    "big-workspace": ("logscope/src/report/mod.rs", '" | total {}'),
    "counter": ("src/main.rs", '"hello from counter'),
}


def make_app(name):
    def make(work):
        project = os.path.join(work, "examples", name)
        if not os.path.isdir(project):
            shutil.copytree(os.path.join(ROOT, "examples", name), project, ignore=shutil.ignore_patterns("target"))
        source, literal = APPS[name]
        return project, os.path.join(project, source), literal
    return make


def measure(name, make, whisker, edits, work, cache_dir=None, reuse_build=False):
    project, source, literal = make(work)
    env = dict(os.environ, WHISKER_CACHE_DIR=cache_dir or os.path.join(work, "cache-" + name))
    env["PATH"] = os.path.expanduser("~/.cargo/bin") + ":" + env.get("PATH", "")
    if reuse_build:
        symbols = "?"
    else:
        build = json.loads(run([whisker, "build", "--project", project, "--json"], env=env).stdout)
        symbols = build.get("symbolCount") or build.get("symbols") or "?"
    phases = {}
    order = []
    others = []
    # Edit 0 warms the cache entry and the diff baseline; it is not counted.
    for edit in range(edits + 1):
        with open(source) as f:
            text = f.read()
        start = text.index(literal)
        end = text.index('"', start + 1)
        with open(source, "w") as f:
            f.write(text[:start] + f"{literal} {edit}" + text[end:])
        plan = json.loads(run([whisker, "patch", "--project", project, "--aslr-reference", "0x555555560000",
                               "--jump-table-out", os.path.join(work, "jump-table.json"), "--json"], env=env).stdout)
        if edit == 0:
            continue
        total = 0.0
        for phase in plan["phases"]:
            key = "rustc" if phase["name"].startswith("rustc") else phase["name"]
            if key not in phases:
                phases[key] = []
                order.append(key)
            phases[key].append(phase["durationMs"])
            if key != "rustc":
                total += phase["durationMs"]
        others.append(total)
    return symbols, order, phases, others, plan


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--edits", type=int, default=5)
    parser.add_argument("--whisker-dev", default=os.path.join(ROOT, ".build/release/whisker-dev"))
    parser.add_argument("--only", choices=["small", "large"])
    parser.add_argument("--large-project", help="reuse this copy of the large app (its src/main.rs keeps the "
                        "literal \"hello from bigapp…\") instead of generating one; its cargo target stays warm")
    parser.add_argument("--app", choices=sorted(APPS), help="measure this example instead of the generated apps")
    parser.add_argument("--work", help="work directory to keep and reuse (the project copy, its cache); default: a fresh temporary one")
    parser.add_argument("--reuse-build", action="store_true", help="patch the project's latest fat build "
                        "(with --work: compare two whisker-dev binaries on one build)")
    parser.add_argument("--cache-dir", help="WHISKER_CACHE_DIR to use (default: a fresh one per run)")
    args = parser.parse_args()
    if not os.access(args.whisker_dev, os.X_OK):
        raise SystemExit(f"bench: {args.whisker_dev} not found; run `swift build -c release` first")
    work = os.path.abspath(args.work) if args.work else tempfile.mkdtemp(prefix="whisker-patch-cost-")
    try:
        if not os.path.isdir(os.path.join(work, "runtime")):
            shutil.copytree(os.path.join(ROOT, "runtime"), os.path.join(work, "runtime"),
                            ignore=shutil.ignore_patterns("target"))
        os.makedirs(os.path.join(work, "examples"), exist_ok=True)
        rows = []
        apps = [(args.app, make_app(args.app))] if args.app else [("small", make_small), ("large", make_large)]
        for name, make in apps:
            if args.only and args.only != name:
                continue
            if name == "large" and args.large_project:
                def make(_, project=os.path.abspath(args.large_project)):
                    return project, os.path.join(project, "src/main.rs"), '"hello from bigapp'
            rows.append((name, measure(name, make, args.whisker_dev, args.edits, work, args.cache_dir, args.reuse_build)))
        for name, (symbols, order, phases, others, plan) in rows:
            print(f"\n{name}: {symbols} symbols in the fat binary, {len(others)} one-line edits, "
                  f"patch objects {sum(os.path.getsize(o) for o in plan['objects']) // 1024} KiB, "
                  f"library {plan['library']['size'] // 1024} KiB")
            print(f"{'phase':<18}{'median ms':>11}{'min':>9}{'max':>9}")
            for key in order + ["all but rustc"]:
                values = others if key == "all but rustc" else phases[key]
                print(f"{key:<18}{statistics.median(values):>11.1f}{min(values):>9.1f}{max(values):>9.1f}")
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
