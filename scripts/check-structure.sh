#!/usr/bin/env bash
# Structural rules of the codebase (docs/architecture.md), checked by grep so a change that breaks
# one fails the README's test command:
#   1. the HTTP layer (Sources/HTTP) knows nothing of patching: it never imports Hotpatch;
#   2. the session layer (Sources/DevServer/Session) speaks typed values, not HTTP: it does not
#      import HTTP, and no code line (comments may explain) names HTTPError, HTTPStatus, Response
#      or Request;
#   3. ELF numbers live in ObjectFile only: no Hotpatch or DevServer file declares an ELF constant
#      (SHT_/SHF_/STT_/STB_/R_X86_64_/R_AARCH64_/EM_/ET_ names or an `ELFNumbers`-style table).
# Prints every violation and exits 1 when there is one.
set -uo pipefail
cd "$(dirname "$0")/.."

failures=0
violation() {
    echo "check-structure: $1" >&2
    shift
    printf '  %s\n' "$@" >&2
    failures=$((failures + 1))
}

# 1. The HTTP target does not import Hotpatch (nor anything built on it).
if [[ -d Sources/HTTP ]]; then
    hits=$(grep -rnE '^\s*(@testable\s+)?import\s+(Hotpatch|DevServer|ObjectFile)\b' Sources/HTTP || true)
    [[ -z "$hits" ]] || violation "the HTTP target imports the pipeline" "$hits"
else
    violation "Sources/HTTP (the HTTP layer's own target) is missing"
fi

# 2. The session layer throws its own error and returns typed values.
if [[ -d Sources/DevServer/Session ]]; then
    # `file:line:` then optional blanks and `//`: a comment line, which may name HTTP types.
    hits=$(grep -rnwE 'HTTPError|HTTPStatus|Response|Request|import\s+HTTP' Sources/DevServer/Session \
        | grep -vE '^[^:]+:[0-9]+:\s*//' || true)
    [[ -z "$hits" ]] || violation "the session layer speaks HTTP" "$hits"
else
    violation "Sources/DevServer/Session (the transport-free session layer) is missing"
fi

# 3. No ELF constant outside ObjectFile: a `static let`/`let`/`case` whose name is an ELF
#    constant, or a literal table of them.
pattern='(static\s+let|let|case)\s+(SHT_|SHF_|STT_|STB_|STV_|R_X86_64_|R_AARCH64_|EM_|ET_|PT_|DT_|ELFCLASS|ELFDATA)[A-Z0-9_]*\b|\bELFNumbers\b'
hits=$(grep -rnE "$pattern" Sources --include='*.swift' | grep -v '^Sources/ObjectFile/' || true)
[[ -z "$hits" ]] || violation "ELF constants declared outside ObjectFile" "$hits"

if ((failures)); then
    echo "check-structure: $failures rule(s) broken" >&2
    exit 1
fi
echo "check-structure: all rules hold"
