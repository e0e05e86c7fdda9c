#!/usr/bin/env bash
# Sets up (installs missing packages, configures, builds) and runs every test:
# lit + FileCheck, GoogleTest and the python suite, all through ctest. Fails
# when any suite ran zero tests.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${IOS_BUILD_DIR:-$root/build}"

"$root/scripts/setup.sh"

set +e
(cd "$build" && ctest --output-on-failure -j"$(nproc)") 2>&1 | tee "$build/ctest.out"
status=${PIPESTATUS[0]}
set -e

# A suite that silently ran nothing is a failure, not a pass. ctest keeps
# every test's full output in LastTest.log.
log="$build/Testing/Temporary/LastTest.log"
lit_total=$(grep -Eo '^ *Passed *: [0-9]+' "$log" | grep -Eo '[0-9]+$' | head -1 || true)
gtest_total=$(grep -Ec '^\[  PASSED  \] 1 test' "$log" || true)
py_total=$(grep -Eo '^Ran [0-9]+ tests?' "$log" | grep -Eo '[0-9]+' | head -1 || true)
echo "test.sh: lit tests passed: ${lit_total:-0}, GoogleTest tests passed: ${gtest_total:-0}, python tests run: ${py_total:-0}"
if [[ "${lit_total:-0}" == 0 || "${gtest_total:-0}" == 0 || "${py_total:-0}" == 0 ]]; then
  echo "test.sh: error: a test suite ran zero tests" >&2
  exit 1
fi
# Close on ctest's own summary line.
grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$build/ctest.out" | tail -1
exit "$status"
