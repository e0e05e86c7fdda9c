#!/usr/bin/env bash
# The main job, end to end, on the embedded default (the IOS README's sample
# network): set up, then show the network's schedule IR and its picture.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${IOS_BUILD_DIR:-$root/build}"
out="${IOS_OUT_DIR:-$root/out}"
"$root/scripts/setup.sh" >/dev/null
mkdir -p "$out"

schedule="$root/test/Dialect/IOS/sample-schedule.mlir"
echo "== schedule IR of the sample network (verified by ios-opt) =="
"$build/bin/ios-opt" "$schedule" | tee "$out/sample.scheduled.mlir"
"$build/bin/ios-translate" --ios-to-dot "$schedule" > "$out/sample.dot"
dot -Tsvg "$out/sample.dot" -o "$out/sample.svg"
echo "== picture: $out/sample.svg (Graphviz source: $out/sample.dot) =="
