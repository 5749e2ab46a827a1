#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer) of every parser that reads outside input (issue 14):
#   Swift (fuzz/Package.swift, -sanitize=fuzzer,address): the ELF, Mach-O and universal readers,
#   the relocation rewriter, the JSON layer, the API's request-body and query parsers;
#   Rust (fuzz/rust/, the runtime's `fuzzing` feature, rustc's sancov pass + clang's libFuzzer):
#   the runtime's HTTP response parser and its JSON reader.
# Builds every target, seeds each corpus from real files and messages (objects compiled here by
# clang and rustc, fuzz/seeds/: API bodies and HTTP responses captured from a real server and
# device), runs each target in turn for --seconds (one fuzzer at a time, nice 19), and prints a
# table: target, seconds, executions, coverage (edges), corpus, crashes. Exit 1 when any target
# crashed (the input is kept under .build-fuzz/artifacts/<target>/; scripts/fuzz.sh --replay FILE
# --targets T runs it once).
#
#   scripts/fuzz.sh [--seconds 600] [--targets fuzz-elf,rust-json,…] [--nice 19] [--build-only] [--replay FILE]
#
# Corpora grow across runs in .build-fuzz/corpus/<target>/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH="$HOME/.cargo/bin:$PATH"

SWIFT_TARGETS=(fuzz-elf fuzz-macho fuzz-universal fuzz-relocate fuzz-json fuzz-request-bodies)
RUST_TARGETS=(rust-http-response rust-json)
seconds=600
targets=""
build_only=0
niceness=19  # the fuzzer yields to everything else on the machine
replay=""
while (($#)); do
    case "$1" in
        --seconds) seconds=$2; shift 2 ;;
        --targets) targets=$2; shift 2 ;;
        --build-only) build_only=1; shift ;;
        --nice) niceness=$2; shift 2 ;;
        --replay) replay=$2; shift 2 ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        *) echo "fuzz: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
if [[ -z "$targets" ]]; then
    selected=("${SWIFT_TARGETS[@]}" "${RUST_TARGETS[@]}")
else
    IFS=, read -r -a selected <<<"$targets"
fi

SCRATCH=$ROOT/.build-fuzz
WORK=$SCRATCH/work
mkdir -p "$WORK" "$SCRATCH/corpus" "$SCRATCH/artifacts" "$SCRATCH/logs" "$SCRATCH/bin"
CLANG=${CLANG:-$(command -v clang)}
FUZZER_LIB=$("$CLANG" -print-file-name=libclang_rt.fuzzer-x86_64.a 2>/dev/null || true)
[[ -f "$FUZZER_LIB" ]] || FUZZER_LIB=$(ls "$(dirname "$(dirname "$CLANG")")"/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a 2>/dev/null | head -1)
[[ -f "$FUZZER_LIB" ]] || { echo "fuzz: clang's libFuzzer (libclang_rt.fuzzer-x86_64.a) not found beside $CLANG" >&2; exit 2; }

wants() { local t; for t in "${selected[@]}"; do [[ "$t" == "$1" ]] && return 0; done; return 1; }
wants_any() { local t; for t in "$@"; do wants "$t" && return 0; done; return 1; }

# ---- build ---------------------------------------------------------------------------------
if wants_any "${SWIFT_TARGETS[@]}"; then
    echo "fuzz: building the Swift targets (release, -sanitize=fuzzer,address)" >&2
    swift build -c release --package-path fuzz --scratch-path "$SCRATCH" \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -enable-testing >"$SCRATCH/logs/swift-build.log" 2>&1 \
        || { tail -30 "$SCRATCH/logs/swift-build.log" >&2; exit 2; }
    bin_path=$(swift build -c release --package-path fuzz --scratch-path "$SCRATCH" --show-bin-path)
    for t in "${SWIFT_TARGETS[@]}"; do ln -sf "$bin_path/$t" "$SCRATCH/bin/$t"; done
fi
if wants_any "${RUST_TARGETS[@]}"; then
    echo "fuzz: building the Rust targets (sancov + libFuzzer)" >&2
    # The runtime and the harness with SanitizerCoverage: inline 8-bit counters, the PC table and
    # comparison tracing libFuzzer reads; overflow checks and debug assertions on; a panic aborts.
    RUSTC_FLAGS=(--edition 2021 -C opt-level=2 -C debuginfo=1 -C debug-assertions -C overflow-checks
        -C panic=abort -C codegen-units=1 -C passes=sancov-module
        -C llvm-args=-sanitizer-coverage-level=4 -C llvm-args=-sanitizer-coverage-inline-8bit-counters
        -C llvm-args=-sanitizer-coverage-pc-table -C llvm-args=-sanitizer-coverage-trace-compares)
    # What cargo would set for the crate (the User-Agent names the version).
    CARGO_PKG_VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' runtime/Cargo.toml | head -1) \
    rustc "${RUSTC_FLAGS[@]}" --crate-type rlib --crate-name whisker_hot --cfg 'feature="fuzzing"' \
        runtime/src/lib.rs -o "$SCRATCH/bin/libwhisker_hot.rlib" 2>"$SCRATCH/logs/rust-build.log" \
        || { tail -30 "$SCRATCH/logs/rust-build.log" >&2; exit 2; }
    for t in "${RUST_TARGETS[@]}"; do
        source_file=fuzz/rust/${t#rust-}.rs
        source_file=${source_file//-/_}
        rustc "${RUSTC_FLAGS[@]}" --crate-type bin --extern whisker_hot="$SCRATCH/bin/libwhisker_hot.rlib" \
            -C link-arg=-Wl,--whole-archive -C link-arg="$FUZZER_LIB" -C link-arg=-Wl,--no-whole-archive \
            -C link-arg=-lstdc++ "$source_file" -o "$SCRATCH/bin/$t" 2>>"$SCRATCH/logs/rust-build.log" \
            || { tail -30 "$SCRATCH/logs/rust-build.log" >&2; exit 2; }
    done
fi

# ---- seeds: real files and messages --------------------------------------------------------
SEEDS=$WORK/seeds
rm -rf "$SEEDS"
mkdir -p "$SEEDS"/{elf,macho,universal,relocate}
cat >"$WORK/seed.c" <<'EOF'
struct point { long x; int y; char tag; };
static int local_counter = 3;
int shared_counter;
__thread int per_thread;
extern int imported(int);
int scale(struct point *p, int z) { local_counter += z; per_thread++; return (int)p->x * z + p->y + imported(shared_counter); }
int helper(int z) { return z ^ 0x55; }
int (*table[])(int) = { helper, imported };
EOF
# A patch-like crate: statics, a thread-local, calls into std, a panic path. The executable is
# the relocate target's "fat binary"; its large-code-model object is the patch object.
cat >"$WORK/seed.rs" <<'EOF'
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
static CALLS: AtomicU64 = AtomicU64::new(0);
static mut RAW: u64 = 0;
thread_local! { static LOCAL: Cell<u64> = const { Cell::new(0) }; }
#[inline(never)]
pub fn tick(n: u64) -> u64 {
    let calls = CALLS.fetch_add(1, Ordering::SeqCst);
    let raw = unsafe { RAW += n; RAW };
    LOCAL.with(|c| c.set(c.get() + 1));
    if n > 1000 { panic!("too big") }
    calls + raw + LOCAL.with(|c| c.get())
}
fn main() { std::process::exit(tick(std::env::args().count() as u64) as i32) }
EOF
seed_c() { "$CLANG" --target="$1" -g -O1 -c "$WORK/seed.c" -o "$2" 2>/dev/null || echo "fuzz: no $1 seed (clang failed)" >&2; }
for triple in x86_64-linux-gnu aarch64-linux-gnu i386-linux-gnu powerpc64-linux-gnu mips-linux-gnu arm-linux-gnueabihf; do
    seed_c "$triple" "$SEEDS/elf/c-$triple.o"
done
"$CLANG" -fPIC -O1 -shared -nostdlib -fuse-ld=lld -ftls-model=global-dynamic "$WORK/seed.c" -o "$SEEDS/elf/c-shared.so" -Wl,--unresolved-symbols=ignore-all 2>/dev/null || true
"$CLANG" -O1 -static -nostdlib -fuse-ld=lld "$WORK/seed.c" -o "$SEEDS/elf/c-static" -Wl,-e,helper -Wl,--unresolved-symbols=ignore-all 2>/dev/null || true
rustc --edition 2021 -C opt-level=1 -C debuginfo=2 -C codegen-units=1 --crate-type lib --crate-name seed --emit=obj \
    "$WORK/seed.rs" -o "$SEEDS/elf/rust-debuginfo.o" 2>/dev/null || true
for triple in x86_64-apple-macos11 arm64-apple-macos11; do seed_c "$triple" "$SEEDS/macho/c-$triple.o"; done
LIPO=$(command -v llvm-lipo || command -v llvm-lipo-14 || true)
if [[ -n "$LIPO" ]]; then
    "$LIPO" -create "$SEEDS/macho/c-x86_64-apple-macos11.o" "$SEEDS/macho/c-arm64-apple-macos11.o" -output "$SEEDS/universal/c-fat.o"
fi
# A fat_arch_64 table too (llvm-lipo writes 32-bit tables), built around the same two slices.
python3 - "$SEEDS/macho/c-x86_64-apple-macos11.o" "$SEEDS/macho/c-arm64-apple-macos11.o" "$SEEDS/universal/c-fat64.o" <<'EOF'
import struct, sys
slices = [(0x01000007, 3, open(sys.argv[1], "rb").read()), (0x0100000C, 0, open(sys.argv[2], "rb").read())]
out = bytearray(struct.pack(">II", 0xCAFEBABF, len(slices)))
offset = 4096
table, body = bytearray(), bytearray()
for cpu, sub, data in slices:
    table += struct.pack(">IIQQII", cpu, sub, offset, len(data), 12, 0)
    body += data + b"\0" * (-len(data) % 4096)
    offset += len(data) + (-len(data) % 4096)
out += table
out += b"\0" * (4096 - len(out)) + body
open(sys.argv[3], "wb").write(out)
EOF
rustc --edition 2021 -C opt-level=1 --crate-name app -C metadata=1234abcd "$WORK/seed.rs" -o "$WORK/relocate-executable" 2>/dev/null
rustc --edition 2021 -C opt-level=1 --crate-name app -C metadata=1234abcd --emit=obj -C codegen-units=1 \
    -C code-model=large -C relocation-model=static "$WORK/seed.rs" -o "$SEEDS/relocate/rust-large.o" 2>/dev/null
"$CLANG" -O1 -mcmodel=large -c "$WORK/seed.c" -o "$SEEDS/relocate/c-large-x86_64.o"
"$CLANG" --target=aarch64-linux-gnu -O1 -mcmodel=large -fno-pic -c "$WORK/seed.c" -o "$SEEDS/relocate/c-large-aarch64.o" 2>/dev/null || true
# Debian's rustc 1.63 builds the aarch64 devices' patches (scripts/setup.sh installs its std).
if [[ -x /usr/bin/rustc ]]; then
    /usr/bin/rustc --edition 2021 -C opt-level=1 --crate-name app -C metadata=1234abcd --emit=obj -C codegen-units=1 \
        --target aarch64-unknown-linux-gnu -C code-model=large -C relocation-model=static \
        "$WORK/seed.rs" -o "$SEEDS/relocate/rust-large-aarch64.o" 2>/dev/null || true
fi
cp "$SEEDS/relocate/"*.o "$SEEDS/elf/"

seed_dirs() {  # generated seeds, then the committed messages
    case "$1" in
        fuzz-elf) echo "$SEEDS/elf" ;;
        fuzz-macho) echo "$SEEDS/macho" ;;
        fuzz-universal) echo "$SEEDS/universal $SEEDS/macho" ;;
        fuzz-relocate) echo "$SEEDS/relocate" ;;
        fuzz-json) echo "$ROOT/fuzz/seeds/json" ;;
        fuzz-request-bodies) echo "$ROOT/fuzz/seeds/request-bodies" ;;
        rust-http-response) echo "$ROOT/fuzz/seeds/http-responses" ;;
        rust-json) echo "$ROOT/fuzz/seeds/json" ;;
    esac
}
max_len() {
    case "$1" in
        fuzz-elf|fuzz-relocate) echo 262144 ;;
        fuzz-macho|fuzz-universal) echo 65536 ;;
        *) echo 16384 ;;
    esac
}

((build_only)) && { echo "fuzz: built into $SCRATCH/bin; seeds in $SEEDS" >&2; exit 0; }

export SWIFT_BACKTRACE=enable=no  # else Swift's backtracer takes the trap before libFuzzer does
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1:allocator_may_return_null=1}
export WHISKER_FUZZ_EXECUTABLE=$WORK/relocate-executable

if [[ -n "$replay" ]]; then
    for t in "${selected[@]}"; do "$SCRATCH/bin/$t" "$replay"; done
    exit 0
fi

# ---- run, one target at a time -------------------------------------------------------------
rows=()
crashed=0
for t in "${selected[@]}"; do
    corpus=$SCRATCH/corpus/$t
    artifacts=$SCRATCH/artifacts/$t
    mkdir -p "$corpus" "$artifacts"
    log=$SCRATCH/logs/$t.log
    # Findings only: libFuzzer also keeps slow-unit-* inputs (a unit over 10 s, e.g. starved at nice 19).
    findings() { find "$artifacts" -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) | wc -l; }
    before=$(findings)
    started=$(date +%s)
    echo "fuzz: $t for ${seconds} s (log: $log)" >&2
    # shellcheck disable=SC2046
    nice -n "$niceness" "$SCRATCH/bin/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 \
        -max_len="$(max_len "$t")" -print_final_stats=1 -artifact_prefix="$artifacts/" \
        "$corpus" $(seed_dirs "$t") >"$log" 2>&1 && status=0 || status=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    [[ -n "$runs" ]] || runs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
    secs=$(( $(date +%s) - started ))
    coverage=$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9]+[bKM]?b?' "$log" | tail -1)
    cov=$(sed -E 's/cov: ([0-9]+).*/\1/' <<<"$coverage")
    ft=$(sed -E 's/.*ft: ([0-9]+).*/\1/' <<<"$coverage")
    corp=$(sed -E 's/.*corp: ([0-9]+).*/\1/' <<<"$coverage")
    crashes=$(( $(findings) - before ))
    if ((status != 0)); then
        crashed=1
        ((crashes > 0)) || crashes="exit $status"
        echo "fuzz: $t stopped with status $status; see $log" >&2
        grep -E 'ERROR|fuzz check failed|Fatal error|panicked|Test unit written' "$log" | head -5 >&2 || true
    fi
    rows+=("| $t | $secs | ${runs:-?} | ${cov:-?} | ${ft:-?} | ${corp:-?} | $crashes |")
done

echo
echo "| target | seconds | executions | coverage (edges) | features | corpus | crashes |"
echo "|---|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
exit $crashed
