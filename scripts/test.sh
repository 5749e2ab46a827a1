#!/usr/bin/env bash
# Runs every test: the Swift package's tests (unit, real-binary, end-to-end), the Rust runtime's,
# and the edit-kind matrix (scripts/edit-matrix.py: live patches of examples/matrix, issue 6).
# Installs whatever is missing first, so it works on a fresh Debian machine with Swift and Rust.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

# The status-page test drives headless Chromium.
WHISKER_WITH_BROWSER=1 WHISKER_SKIP_BUILD=1 ./scripts/setup.sh

echo "== Rust runtime crate tests"
cargo test --quiet --manifest-path runtime/Cargo.toml

echo "== Swift package tests"
swift build --build-tests
swift test "$@"

# WHISKER_SKIP_MATRIX=1 skips it (e.g. while iterating on one Swift suite with a --filter).
if [[ "${WHISKER_SKIP_MATRIX:-}" != 1 ]]; then
    echo "== Edit-kind matrix (examples/matrix patched live)"
    python3 scripts/edit-matrix.py --no-build
fi
