#!/usr/bin/env bash
# Configures build/ (Ninja, ccache, lld, Debian's LLVM/MLIR 22). Extra
# arguments go to cmake, e.g. -DCMAKE_CXX_COMPILER=clang++-22.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${IOS_BUILD_DIR:-$root/build}"
cmake -G Ninja -S "$root" -B "$build" \
  -DCMAKE_BUILD_TYPE=Release \
  -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
  -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit \
  -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
  -DLLVM_USE_LINKER=lld \
  -DPython3_EXECUTABLE=/usr/bin/python3 "$@"
