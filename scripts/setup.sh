#!/usr/bin/env bash
# Installs what Whisker Hotpatch needs that a fresh Debian machine with Swift and Rust lacks,
# then builds the Swift package. Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

export PATH="$HOME/.cargo/bin:$PATH"

# Debian packages: the two C libraries the server is built on, pkg-config to find them, and the
# LLVM tools the tests compare against (llvm-nm, llvm-objdump) plus lld for linking patches.
APT_PACKAGES=(pkg-config libmicrohttpd-dev libjansson-dev llvm lld curl python3 python3-venv)
# tmux: the terminal UI test runs `whisker-dev serve` in a tmux pane (send-keys, capture-pane).
APT_PACKAGES+=(tmux)
# wrk: benchmarks/server_bench.py's load (HTTP requests while SSE subscribers and devices wait).
APT_PACKAGES+=(wrk)
if [[ "${WHISKER_WITH_BROWSER:-0}" == 1 ]]; then APT_PACKAGES+=(chromium); fi

# Debian's rustc 1.63 and cargo (at /usr/bin; rustup's stay first on PATH): the runtime crate's
# oldest supported toolchain, used for test.sh's 1.63 check of runtime/ and for aarch64 builds.
APT_PACKAGES+=(rustc cargo)

# Debian's packaged crates (sources land in /usr/share/cargo/registry) that the real examples
# build against offline: examples/async-service (tokio + hyper), examples/tui-app (tui +
# crossterm), examples/big-workspace (the rest). Each package also provides its feature variants
# (librust-tokio+full-dev, librust-clap+derive-dev, …) and pulls the crates these depend on.
# The runtime crate stays std-only; only the examples need these.
APT_PACKAGES+=(
    librust-tokio-dev librust-hyper-dev librust-serde-dev librust-serde-derive-dev librust-serde-json-dev
    librust-tui-dev librust-crossterm-dev
    librust-clap-dev librust-regex-dev librust-chrono-dev librust-rayon-dev librust-indexmap-dev librust-csv-dev
    librust-toml-dev librust-sha2-dev librust-base64-dev librust-thiserror-dev librust-anyhow-dev librust-log-dev
    librust-env-logger-dev librust-once-cell-dev librust-unicode-width-dev librust-humantime-dev
    librust-flate2-dev librust-rand-dev librust-walkdir-dev
    # Locked by big-workspace's regex but not pulled by librust-regex-dev (an optional feature there).
    librust-aho-corasick-dev
)

# The aarch64 device: Debian's cross linker and libc, its aarch64 Rust std for rustc 1.63, user-mode
# QEMU to run the binaries (no binfmt: always `qemu-aarch64 -L /usr/aarch64-linux-gnu`), and
# iproute2 for the test-made network namespace the device lives in.
APT_PACKAGES+=(qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross libstd-rust-dev:arm64 iproute2)

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    echo "setup: adding the arm64 architecture to dpkg (for libstd-rust-dev:arm64)" >&2
    $SUDO dpkg --add-architecture arm64
fi

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# schemathesis 4 (PyPI): the API contract test (Tests/EndToEndTests/APIContractEndToEndTests.swift)
# runs `schemathesis run openapi/openapi.yaml --checks all` against a real `serve`. Installed into
# the python3 on PATH with its pip; Debian's own python3 refuses pip installs (PEP 668), so there
# it goes into a venv under the cache dir, whose bin/ the test also looks in.
SCHEMATHESIS_SPEC='schemathesis>=4,<5'
schemathesis_ok() { "$1" -c 'import schemathesis, sys; sys.exit(0 if schemathesis.__version__.startswith("4.") else 1)' 2>/dev/null; }
if ! schemathesis_ok python3; then
    echo "setup: installing $SCHEMATHESIS_SPEC from PyPI" >&2
    if ! python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore "$SCHEMATHESIS_SPEC"; then
        venv="${XDG_CACHE_HOME:-$HOME/.cache}/whisker-hotpatch/schemathesis-venv"
        if ! schemathesis_ok "$venv/bin/python3"; then
            echo "setup: python3's pip refused; using a venv at $venv" >&2
            python3 -m venv "$venv"
            "$venv/bin/python3" -m pip install --quiet --disable-pip-version-check "$SCHEMATHESIS_SPEC"
        fi
    fi
fi

# Every crate the examples' Cargo.lock files name must be in Debian's registry: a missing one
# fails cargo offline much later, in the middle of a test or a benchmark.
python3 scripts/check-registry.py

for tool in swift cargo rustc; do
    command -v "$tool" >/dev/null || { echo "setup: '$tool' is not on PATH; install the Swift and Rust toolchains first" >&2; exit 1; }
done

if [[ "${WHISKER_SKIP_BUILD:-0}" != 1 ]]; then
    swift build ${WHISKER_BUILD_FLAGS:-}
fi
