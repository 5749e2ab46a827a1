#!/usr/bin/env bash
# Cold fat build (`whisker-dev build`) vs cold `cargo build` of the same project, and the time from
# the end of cargo to the build being ready (binary kept, symbols cached, diff baseline compiled).
#
#   benchmarks/fat_build.sh [--runs N] [--project DIR]
#
# Without --project it copies Debian's `bat` sources (apt `librust-bat-dev`: a lib + bin package
# with 130+ dependency crates) to a scratch directory, drops the dev-dependencies Debian lacks and
# points cargo at /usr/share/cargo/registry. Every run uses a fresh target / cache directory.
# Goal (issue 10): fat build wall <= 1.2x cargo's. The machine's other load is printed per run
# ("others", CPU-seconds used by other processes meanwhile): compare runs with little of it.
set -euo pipefail

runs=1
project=""
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs=$2; shift 2 ;;
        --project) project=$2; shift 2 ;;
        *) echo "usage: $0 [--runs N] [--project DIR]" >&2; exit 2 ;;
    esac
done

root=$(cd "$(dirname "$0")/.." && pwd)
whisker="$root/.build/release/whisker-dev"
[ -x "$whisker" ] || whisker="$root/.build/debug/whisker-dev"
[ -x "$whisker" ] || { echo "build whisker-dev first (swift build)" >&2; exit 1; }
scratch=$(mktemp -d /tmp/whisker-fat-build-bench.XXXXXX)
trap 'rm -rf "$scratch"' EXIT

if [ -z "$project" ]; then
    source_dir=$(ls -d /usr/share/cargo/registry/bat-* 2>/dev/null | sort -V | tail -1)
    [ -n "$source_dir" ] || { echo "no Debian bat sources: apt-get install librust-bat-dev" >&2; exit 1; }
    project="$scratch/bat"
    cp -r "$source_dir" "$project"
    rm -f "$project/.cargo-checksum.json"
    # Debian does not package every dev-dependency; cargo must resolve them all.
    python3 - "$project/Cargo.toml" <<'EOF'
import sys
path = sys.argv[1]
kept, skipping = [], False
for line in open(path).read().split("\n"):
    if line.startswith("["):
        skipping = "dev-dependencies" in line
    if not skipping:
        kept.append(line)
open(path, "w").write("\n".join(kept))
EOF
    mkdir -p "$project/.cargo"
    cat > "$project/.cargo/config.toml" <<'EOF'
[source.crates-io]
replace-with = "debian"
[source.debian]
directory = "/usr/share/cargo/registry"
[net]
offline = true
EOF
fi
(cd "$project" && cargo generate-lockfile --offline >/dev/null 2>&1 || true)

busy() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat; }
# measure NAME CMD...: runs CMD in the project, sets wall user sys others
measure() {
    local name=$1; shift
    local before; before=$(busy)
    (cd "$project" && /usr/bin/time -f "%e %U %S" -o "$scratch/$name.time" "$@" > "$scratch/$name.log" 2>&1) \
        || { echo "$name failed:" >&2; tail -20 "$scratch/$name.log" >&2; exit 1; }
    local after; after=$(busy)
    read -r wall user sys < "$scratch/$name.time"
    others=$(echo "scale=1; ($after - $before) / $(getconf CLK_TCK) - $user - $sys" | bc)
}

printf "%-4s %-22s %8s %8s %8s %8s %10s\n" run build wall user sys others "besides cargo"
for run in $(seq "$runs"); do
    measure cargo cargo build --target-dir "$scratch/cargo-target-$run"
    printf "%-4s %-22s %7.1fs %7.1fs %7.1fs %7.1fs %10s\n" "$run" "cargo build" "$wall" "$user" "$sys" "$others" "-"
    cargo_wall=$wall
    measure whisker "$whisker" build --project "$project" --cache-dir "$scratch/cache-$run"
    # cargo's own phase as whisker-dev reports it; everything before it (prepare) and after it (keep,
    # fingerprint, symbols, diff baseline: what the user waits for after cargo) is what it adds.
    cargo_phase=$(awk '$1 == "cargo" { v=$2; if ($3 == "ms") v=v/1000; print v }' "$scratch/whisker.log")
    ready=$(echo "scale=2; $wall - $cargo_phase" | bc)
    printf "%-4s %-22s %7.1fs %7.1fs %7.1fs %7.1fs %9.2fs\n" "$run" "whisker-dev build" "$wall" "$user" "$sys" "$others" "$ready"
    printf "%-4s %-22s %7.2fx   (goal <= 1.20x)\n" "$run" "ratio" "$(echo "scale=3; $wall / $cargo_wall" | bc)"
    rm -rf "$scratch/cargo-target-$run" "$scratch/cache-$run"
done
