#!/usr/bin/env bash
# Runs every test: the codebase's structural rules (scripts/check-structure.sh), the Swift package's tests (unit, real-binary, end-to-end), the Rust runtime's
# (with rustup's toolchain, then with Debian's rustc 1.63, the oldest it supports), the edit-kind
# matrix (scripts/edit-matrix.py: live patches of examples/matrix, issue 6), and one real example
# patched live end to end (scripts/real-apps.py: examples/async-service on tokio + hyper, issue
# 10), and an aarch64 device patched over a veth LAN (scripts/device-lan.py, issue 12). Installs whatever is missing first, so it works on a fresh Debian machine with Swift and
# Rust.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

# The status-page test drives headless Chromium.
WHISKER_WITH_BROWSER=1 WHISKER_SKIP_BUILD=1 ./scripts/setup.sh

echo "== Structural rules (scripts/check-structure.sh)"
./scripts/check-structure.sh

echo "== Rust runtime crate tests"
cargo test --quiet --manifest-path runtime/Cargo.toml

# The same tests on the runtime's oldest supported toolchain (rust-version in runtime/Cargo.toml):
# Debian's rustc 1.63 and cargo 1.65, which setup.sh installs at /usr/bin (rustup's stay first on
# PATH). Apps on older toolchains and the aarch64 cross builds use it, so a newer language or std
# feature must fail here, not there. RUSTDOC too: the doctests cannot link against a crate built
# by another rustc. Its own target dir, so the two toolchains' artifacts never mix.
if [[ -x /usr/bin/rustc ]]; then
    echo "== Rust runtime crate tests on $(/usr/bin/rustc --version) (the oldest supported)"
    # cargo 1.65 cannot read a version 4 lock file, which cargo writes for a crate without
    # rust-version (an old checkout's). The runtime has no dependencies: nothing is lost by
    # letting cargo write it again (version 3 now, for either cargo).
    if grep -q '^version = 4' runtime/Cargo.lock 2>/dev/null; then rm runtime/Cargo.lock; fi
    RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc /usr/bin/cargo test --quiet --manifest-path runtime/Cargo.toml \
        --target-dir target/runtime-rust-1.63
    # And on the phones' architecture: aarch64 Linux under user-mode QEMU (the runner), with the
    # cdylibs the tests load cross-built for it. LD_LIBRARY_PATH keeps the cross libc beside the
    # cross loader (see examples/counter/.cargo/config.toml).
    if command -v qemu-aarch64 >/dev/null && command -v aarch64-linux-gnu-gcc >/dev/null; then
        echo "== Rust runtime crate tests on aarch64-unknown-linux-gnu under qemu-aarch64"
        CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc \
        CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu -E LD_LIBRARY_PATH=/usr/aarch64-linux-gnu/lib" \
        RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc /usr/bin/cargo test --quiet --manifest-path runtime/Cargo.toml \
            --target aarch64-unknown-linux-gnu --target-dir target/runtime-aarch64
    else
        echo "== Rust runtime crate tests on aarch64: skipped, qemu-aarch64 or aarch64-linux-gnu-gcc is absent (scripts/setup.sh installs them)"
    fi
else
    echo "== Rust runtime crate tests on rustc 1.63: skipped, /usr/bin/rustc is absent (scripts/setup.sh installs Debian's rustc and cargo)"
fi

echo "== Swift package tests"
swift build --build-tests
swift test "$@"

# WHISKER_SKIP_MATRIX=1 skips it (e.g. while iterating on one Swift suite with a --filter).
if [[ "${WHISKER_SKIP_MATRIX:-}" != 1 ]]; then
    echo "== Edit-kind matrix (examples/matrix patched live)"
    python3 scripts/edit-matrix.py --no-build
    # The same rows on two aarch64 devices under QEMU (issue 12); "skipped" without the tools.
    echo "== Edit-kind matrix on aarch64 (Debian's Rust 1.63, qemu-aarch64)"
    python3 scripts/edit-matrix.py --no-build --target aarch64-unknown-linux-gnu
fi

# WHISKER_SKIP_DEVICE=1 skips it. An aarch64 counter under QEMU in a network namespace, patched
# live over a veth pair with a token (issue 12); it says "skipped" when the machine can't (no
# QEMU, no root for the namespace).
if [[ "${WHISKER_SKIP_DEVICE:-}" != 1 ]]; then
    echo "== aarch64 device on the LAN (scripts/device-lan.py)"
    python3 scripts/device-lan.py --no-build
fi

# WHISKER_SKIP_REAL_APPS=1 skips it. The async example's cold builds (cargo's baseline and the fat
# build) take ~2–3 minutes on 2 cores; tui-app and big-workspace run from the same script with
# --app (big-workspace is a few minutes more: benchmarks/real_apps.py and nightly-style runs).
if [[ "${WHISKER_SKIP_REAL_APPS:-}" != 1 ]]; then
    echo "== Real app patched live (examples/async-service)"
    python3 scripts/real-apps.py --app async-service --no-build
fi
