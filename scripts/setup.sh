#!/usr/bin/env bash
# Installs what Whisker Hotpatch needs that a fresh Debian machine with Swift and Rust lacks,
# then builds the Swift package. Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

export PATH="$HOME/.cargo/bin:$PATH"

# Debian packages: the two C libraries the server is built on, pkg-config to find them, and the
# LLVM tools the tests compare against (llvm-nm, llvm-objdump) plus lld for linking patches.
APT_PACKAGES=(pkg-config libmicrohttpd-dev libjansson-dev llvm lld curl python3)
if [[ "${WHISKER_WITH_BROWSER:-0}" == 1 ]]; then APT_PACKAGES+=(chromium); fi

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}" >&2
    SUDO=""
    if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

for tool in swift cargo rustc; do
    command -v "$tool" >/dev/null || { echo "setup: '$tool' is not on PATH; install the Swift and Rust toolchains first" >&2; exit 1; }
done

if [[ "${WHISKER_SKIP_BUILD:-0}" != 1 ]]; then
    swift build ${WHISKER_BUILD_FLAGS:-}
fi
