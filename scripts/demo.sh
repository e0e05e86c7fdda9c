#!/usr/bin/env bash
# The main job, end to end, on the embedded default - the IOS README's sample
# network from the model zoo:
#   schedule it with IOS's dynamic program and the analytic V100 model,
#   print the program with ios-translate --ios-to-cpp, compile it against the
#   CPU runtime, run it, and check its output against PyTorch and against the
#   sequential program; also print the schedule IR and draw its picture.
#
#   scripts/demo.sh [MODEL [--batch N] [--strategy S] ...]   (python3 -m ios.pipeline options)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${IOS_BUILD_DIR:-$root/build}"
out="${IOS_OUT_DIR:-$root/out}"
model="${1:-sample}"
[[ $# -gt 0 ]] && shift
"$root/scripts/setup.sh" >/dev/null
mkdir -p "$out"
export PYTHONPATH="$root/python${PYTHONPATH:+:$PYTHONPATH}"
export IOS_BUILD_DIR="$build"

/usr/bin/python3 -m ios.pipeline "$model" --out "$out" "$@"

scheduled=$(ls -t "$out/$model"-b*.both.mlir 2>/dev/null | head -1 || true)
if [[ -n "$scheduled" ]]; then
  "$build/bin/ios-translate" --ios-to-dot "$scheduled" > "${scheduled%.mlir}.dot"
  dot -Tsvg "${scheduled%.mlir}.dot" -o "${scheduled%.mlir}.svg"
  if [[ "$model" == sample ]]; then
    echo "== the schedule as IR ($scheduled) =="
    "$build/bin/ios-opt" "$scheduled"
  fi
  echo "== picture: ${scheduled%.mlir}.svg; program: ${scheduled%.mlir}.cpp"
fi
