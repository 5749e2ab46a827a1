#!/usr/bin/env bash
# Structural rules of the codebase (docs/architecture.md), checked by grep so a change that breaks
# one fails the README's test command:
#   1. the HTTP layer (Sources/HTTP) knows nothing of patching: it never imports Hotpatch;
#   2. the session layer (Sources/DevServer/Session) speaks typed values, not HTTP: it does not
#      import HTTP, and no code line (comments may explain) names HTTPError, HTTPStatus, Response
#      or Request;
#   3. ELF numbers live in ObjectFile only: no Hotpatch or DevServer file declares an ELF constant
#      (SHT_/SHF_/STT_/STB_/R_X86_64_/R_AARCH64_/EM_/ET_ names or camelCase spellings of them with a
#      number, an `enum ELF…` / `ELFNumbers`-style table, a number declared in an extension of one
#      of ObjectFile's ELF types), nor tests a section's flags or the machine against a bare number.
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

# 3. No ELF number outside ObjectFile: the pipeline names ObjectFile's constants (`ELF.SectionFlags`,
#    `ELF.X86_64Relocation`, …) and builds its policies from them.
number='(0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|[0-9][0-9_]*)'
elf_swift() { find Sources -name '*.swift' -not -path 'Sources/ObjectFile/*' -print0 | xargs -0 "$@"; }
code_only() { grep -vE '^[^:]+:[0-9]+:\s*//' || true; }  # drop comment lines
#    a) C spellings, the tables they came in: an `enum ELF…` or an architecture's relocation enum
#       of one's own, a type of one's own named like ObjectFile's ELF types (`struct
#       ELFRelocatableWriter`), the ELF magic spelled out;
elf_types=$(grep -rhoE '\b(enum|struct|class)\s+[A-Z][A-Za-z0-9_]*' Sources/ObjectFile/ELF | awk '{print $2}' | sort -u)
own_types=$(printf '%s\n' "$elf_types" | grep -E '^ELF|.Relocation$' | paste -sd'|' -)
hits=$(elf_swift grep -nE "\b(enum|struct|class)\s+($own_types)\b|\b0x7[fF],\s*0x45,\s*0x4[cC],\s*0x46\b" | code_only)
pattern='(static\s+let|let|case)\s+(SHT_|SHF_|SHN_|STT_|STB_|STV_|R_X86_64_|R_AARCH64_|EM_|ET_|PT_|DT_|ELFCLASS|ELFDATA)[A-Z0-9_]*\b|\bELFNumbers\b|\benum\s+(ELF[A-Za-z0-9_]*|[A-Za-z0-9_]*(X86|AArch64|Aarch64|ARM64|Arm64|ARM|RISCV|RiscV)[A-Za-z0-9_]*Reloc[A-Za-z0-9_]*)\b'
hits+=$'\n'$(elf_swift grep -nE "$pattern" || true)
#    b) camelCase spellings given a number (`let shfMerge: UInt64 = 0x10`, `static let machineX86_64 = 62`);
camel='\blet\s+(sht|shf|shn|stt|stb|stv|pt|dt|em|et|elfClass|elfData|machine)[A-Z0-9_][A-Za-z0-9_]*\s*(:[^=]+)?=\s*[-+~(\[ ]*'
hits+=$'\n'$(elf_swift grep -nE "$camel$number\b" | code_only)
#    c) a section's flags or the machine compared with a bare number (`flags & 0x2`, `machine == 62`);
hits+=$'\n'$(elf_swift grep -nE "\bflags\s*&\s*\(?\s*$number\b|\b[a-zA-Z]*[mM]achine\s*(==|!=)\s*$number\b" | code_only)
#    d) inside an extension of one of ObjectFile's ELF types (`extension ELF.X86_64Relocation`), a
#       `let` whose value holds a number or a `case` matching one: what the pipeline adds there is
#       policy built from ObjectFile's names (`gotLoads: Set<UInt32> = [gotpcrel, …]`), never a number.
hits+=$'\n'$(elf_swift awk -v types="^($(printf '%s\n' "$elf_types" | paste -sd'|' -))\$" -v number="$number" '
    FNR == 1 { inside = 0; depth = 0; opened = 0; open_let = 0 }
    {
        code = $0
        sub(/\/\/.*/, "", code)
        gsub(/"([^"\\]|\\.)*"/, "\"\"", code)
    }
    !inside && match(code, /^[ \t]*((public|internal|private|fileprivate|package)[ \t]+)?extension[ \t]+[A-Za-z0-9_.]+/) {
        declared = substr(code, RSTART, RLENGTH)
        sub(/.*extension[ \t]+/, "", declared)
        count = split(declared, parts, ".")
        for (i = 1; i <= count; i++) if (parts[i] ~ types) { inside = 1; depth = 0; opened = 0; open_let = 0 }
    }
    inside {
        digits = "(^|[^A-Za-z0-9_.])" number "($|[^A-Za-z0-9_])"
        if (code ~ /(^|[^A-Za-z0-9_])let[ \t]+[A-Za-z0-9_]+[^=]*=/) {
            value = code
            sub(/^[^=]*=/, "", value)
            if (value ~ digits) { print FILENAME ":" FNR ":" $0 }
            open_let = gsub(/[[(]/, "&", value) - gsub(/[])]/, "&", value)
        } else if (open_let > 0) {
            if (code ~ digits) { print FILENAME ":" FNR ":" $0 }
            open_let += gsub(/[[(]/, "&", code) - gsub(/[])]/, "&", code)
        } else if (code ~ /^[ \t]*case[ \t]/) {
            pattern = code
            sub(/:.*/, "", pattern)
            if (pattern ~ digits) { print FILENAME ":" FNR ":" $0 }
        }
        depth += gsub(/{/, "{", code) - gsub(/}/, "}", code)
        if (code ~ /{/) opened = 1
        if (opened && depth <= 0) inside = 0
    }
' || true)
hits=$(printf '%s\n' "$hits" | awk 'NF && !seen[$0]++')
[[ -z "$hits" ]] || violation "ELF constants declared outside ObjectFile" "$hits"

if ((failures)); then
    echo "check-structure: $failures rule(s) broken" >&2
    exit 1
fi
echo "check-structure: all rules hold"
