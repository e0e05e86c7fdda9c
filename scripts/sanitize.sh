#!/usr/bin/env bash
# The compiler under AddressSanitizer and UndefinedBehaviorSanitizer: configures
# build-sanitize/ (IOS_BUILD_DIR) with IOS_SANITIZE=address,undefined (-O1,
# line tables, assertions on), builds what the lit tests run and link, and
# runs the whole lit suite on it. Any sanitizer report fails its test: the
# suite's configuration sets ASAN_OPTIONS / UBSAN_OPTIONS so a report aborts
# (test/lit.cfg.py; docs/Fuzzing.md explains each option). Extra arguments go
# to lit (e.g. a test directory of the build: build-sanitize/test/Tools).
#   IOS_NINJA_FLAGS  ninja's flags (default -j$(nproc))
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${IOS_BUILD_DIR:-$root/build-sanitize}"

IOS_BUILD_DIR="$build" "$root/scripts/configure.sh" \
  -DIOS_SANITIZE=address,undefined \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1" \
  "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g1" >/dev/null
# shellcheck disable=SC2086
ninja -C "$build" ${IOS_NINJA_FLAGS:--j"$(nproc)"} ios-test-depends

start=$SECONDS
status=0
if [[ $# -gt 0 ]]; then
  /usr/lib/llvm-22/bin/lit -sv "$@" || status=$?
else
  /usr/lib/llvm-22/bin/lit -sv "$build/test" || status=$?
fi
echo "sanitize.sh: lit took $((SECONDS - start)) s"
exit "$status"
