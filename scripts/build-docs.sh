#!/usr/bin/env bash
# Builds the DocC documentation of the LocalStorage library into .build/docs, treating every
# DocC warning (an unresolved or ambiguous symbol link, a documented parameter that does not
# exist, ...) as an error. Uses the toolchain's own `docc`; needs no package dependency.
#
#   scripts/build-docs.sh                 # then open .build/docs/index.html through a web server,
#                                         # or `docc preview` the catalog
#
# The symbol graphs come from a build of the LocalStorage target in its own scratch directory
# (.build/docs-build), so the extra compiler flags do not invalidate the regular debug build.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -d /opt/swift/usr/bin ]; then export PATH="/opt/swift/usr/bin:$PATH"; fi

scratch=.build/docs-build
# Kept between runs: an incremental build that has nothing to recompile emits no new graph.
symbols="$PWD/$scratch/symbol-graphs"
output=.build/docs

rm -rf "$output"
mkdir -p "$symbols"

echo "== symbol graph of LocalStorage"
swift build --scratch-path "$scratch" --target LocalStorage \
    -Xswiftc -emit-symbol-graph -Xswiftc -emit-symbol-graph-dir -Xswiftc "$symbols"
if [ ! -s "$symbols/LocalStorage.symbols.json" ]; then
    echo "FAIL: the build emitted no symbol graph for LocalStorage (remove $scratch and retry)"
    exit 1
fi

echo "== docc convert"
docc convert Sources/LocalStorage/LocalStorage.docc \
    --additional-symbol-graph-dir "$symbols" \
    --fallback-display-name LocalStorage \
    --fallback-bundle-identifier org.localstorage.LocalStorage \
    --output-path "$output" \
    --warnings-as-errors

echo "documentation: $output"
