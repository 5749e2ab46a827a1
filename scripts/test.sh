#!/usr/bin/env bash
# Runs every test: the Swift package's tests (unit, real-binary, end-to-end), the Rust runtime's,
# the edit-kind matrix (scripts/edit-matrix.py: live patches of examples/matrix, issue 6), and one
# real example patched live end to end (scripts/real-apps.py: examples/async-service on tokio +
# hyper, issue 10). Installs whatever is missing first, so it works on a fresh Debian machine
# with Swift and Rust.
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

# WHISKER_SKIP_REAL_APPS=1 skips it. The async example's cold builds (cargo's baseline and the fat
# build) take ~2–3 minutes on 2 cores; tui-app and big-workspace run from the same script with
# --app (big-workspace is a few minutes more: benchmarks/real_apps.py and nightly-style runs).
if [[ "${WHISKER_SKIP_REAL_APPS:-}" != 1 ]]; then
    echo "== Real app patched live (examples/async-service)"
    python3 scripts/real-apps.py --app async-service --no-build
fi
