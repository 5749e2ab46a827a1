#!/usr/bin/env bash
# Symbol-table benchmark: SymbolTable parse vs `llvm-nm -P --defined-only`, cache load vs parse.
# Usage: benchmarks/symbols.sh [FILE] [--runs N]   (default FILE: rustc's librustc_driver-*.so)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
exec swift run -c release whisker-bench symbols "$@"
