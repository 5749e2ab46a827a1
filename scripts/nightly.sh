#!/usr/bin/env bash
# The long real-app checks that do not fit CI's budget (issue 10): the 110-crate workspace's
# library-crate edits — each patch library at most 1 MiB, the running process printing the new
# behaviour, a second and third edit (other function, same function again) applying too, cargo's
# target/ untouched, a plain cargo build afterwards incremental — and the terminal UI app; then the
# real-apps benchmark table (release build of whisker-dev).
#
#   scripts/nightly.sh            # everything
#   scripts/nightly.sh --no-bench # the checks only
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

WHISKER_SKIP_BUILD=1 ./scripts/setup.sh
swift build --product whisker-dev
swift build --product whisker-rustc-shim
swift build --product whisker-linker-shim

python3 scripts/real-apps.py --app big-workspace --no-build --max-library-bytes 1048576
python3 scripts/real-apps.py --app tui-app --no-build

if [[ "${1:-}" != "--no-bench" ]]; then
    swift build -c release --product whisker-dev
    swift build -c release --product whisker-rustc-shim
    swift build -c release --product whisker-linker-shim
    python3 benchmarks/real_apps.py --whisker-dev "$PWD/.build/release/whisker-dev"
fi
