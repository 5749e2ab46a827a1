#!/usr/bin/env bash
# Per-function change detection: time to read, fingerprint and compare a crate's old and new objects.
# Default: examples/counter compiled before and after an edit of message() (rustc --emit=obj,
# codegen-units=1). Or pass objects: benchmarks/function-diff.sh --old A.o --new B.o [--runs N]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
exec swift run -c release whisker-bench function-diff "$@"
