#!/bin/sh
# contrib/fuzz/build.sh - builds the libFuzzer binaries FuzzPrescan and
# FuzzCfReader with AddressSanitizer into .build/fuzz/.  The library sources
# are copied with their `import SMBase/SMRules` lines removed and compiled
# as one module with the fuzz entry point, so no Package.swift target and
# no fuzzer flags reach a plain `swift build`.
# Usage: contrib/fuzz/build.sh [prescan|cfreader|all]   (default all)
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
out="$root/.build/fuzz"
swiftc=${SWIFTC:-swiftc}
mkdir -p "$out"
chmod 755 "$root/.build" "$out"

build() { # name module-dirs...
    name=$1; shift
    src="$out/src-$name"
    rm -rf "$src"; mkdir -p "$src"
    for m in "$@"; do
        for f in "$root/Sources/$m"/*.swift; do
            sed -e '/^import SMBase$/d' -e '/^import SMRules$/d' -e '/^import SMConfig$/d' \
                "$f" > "$src/$m-$(basename "$f")"
        done
    done
    cp "$root/contrib/fuzz/$name.swift" "$src/"
    "$swiftc" -sanitize=fuzzer,address -parse-as-library -O -g -swift-version 6 \
        -module-name "$name" "$src"/*.swift -o "$out/$name"
    echo "built $out/$name"
}

what=${1:-all}
case $what in
    prescan) build FuzzPrescan SMBase SMRules ;;
    cfreader) build FuzzCfReader SMBase SMRules SMConfig ;;
    all) build FuzzPrescan SMBase SMRules; build FuzzCfReader SMBase SMRules SMConfig ;;
    *) echo "usage: $0 [prescan|cfreader|all]" >&2; exit 64 ;;
esac
