#!/usr/bin/env bash
# Installs what the project needs on Debian 12 (only what is missing), then
# configures and builds build/. Safe to run again: every step is idempotent.
#
#   scripts/setup.sh            install + configure + build
#   IOS_SKIP_INSTALL=1 ...      skip the apt step (e.g. no root)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

packages=(
  # LLVM/MLIR 22 with lit, FileCheck, not, mlir-tblgen
  llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools
  # build
  cmake ninja-build ccache lld g++
  # the CPU runtime's kernels (oneDNN on OpenMP)
  libdnnl-dev
  # unit tests
  googletest libgtest-dev
  # python side: zoo, PyTorch reference; ONNX and torchvision for the importers
  python3 python3-numpy python3-torch python3-onnx python3-torchvision
  # installing the python package offline into a venv (test/Install)
  python3-venv python3-pip python3-setuptools python3-wheel
  # ios-to-dot tests render with dot
  graphviz
  # python3 -m ios.timeline draws with matplotlib
  python3-matplotlib
)

if [[ "${IOS_SKIP_INSTALL:-0}" != 1 ]]; then
  missing=()
  for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$p")
    fi
  done
  if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}"
    sudo=""
    [[ $(id -u) == 0 ]] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  else
    echo "setup: all ${#packages[@]} packages present"
  fi
fi

build="${IOS_BUILD_DIR:-$root/build}"
if [[ ! -f "$build/build.ninja" ]]; then
  "$root/scripts/configure.sh"
fi
ninja -C "$build" -j"$(nproc)" all
