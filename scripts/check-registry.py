#!/usr/bin/env python3
"""Checks that every crates.io package the examples' Cargo.lock files lock is in Debian's
registry (/usr/share/cargo/registry, where librust-*-dev packages put their sources): the
examples build offline against it, and a missing crate would otherwise fail cargo much later.
Prints the missing <crate>-<version> and the Debian package that likely provides each; exit 1."""

import glob
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REGISTRY = "/usr/share/cargo/registry"
PACKAGE = re.compile(r'\[\[package\]\]\nname = "([^"]+)"\nversion = "([^"]+)"\nsource = "registry\+')


def main() -> int:
    have = set(os.listdir(REGISTRY)) if os.path.isdir(REGISTRY) else set()
    missing: dict[str, list[str]] = {}
    for lock in sorted(glob.glob(os.path.join(ROOT, "examples", "*", "Cargo.lock"))):
        with open(lock, encoding="utf-8") as handle:
            for name, version in PACKAGE.findall(handle.read()):
                if f"{name}-{version}" not in have:
                    missing.setdefault(f"{name}-{version}", []).append(os.path.relpath(lock, ROOT))
    if not missing:
        return 0
    for crate, locks in sorted(missing.items()):
        name = crate.rsplit("-", 1)[0]
        print(f"check-registry: {crate} (locked by {', '.join(locks)}) is not in {REGISTRY}; "
              f"apt-get install librust-{name.replace('_', '-')}-dev", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
