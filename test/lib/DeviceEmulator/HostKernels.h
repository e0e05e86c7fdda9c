//===- HostKernels.h - The CUDA backend's kernels as host code --*- C++ -*-===//
//
// lib/Runtime/CUDA/DeviceKernels.cuh compiled a second time, as host C++,
// with the CUDA built-ins emulated. A launch runs every thread of the grid
// on the calling thread, block by block; kernels that exchange values
// between the lanes of a warp (__shfl_down_sync) run each warp's 32 lanes
// as coroutines that meet at every shuffle, so they compute what the GPU
// computes, in the same order.
//
//===----------------------------------------------------------------------===//

#ifndef IOS_TEST_LIB_DEVICEEMULATOR_HOSTKERNELS_H
#define IOS_TEST_LIB_DEVICEEMULATOR_HOSTKERNELS_H

#include <vector_types.h>

#include <functional>
#include <string>

namespace ios::emu {

struct Op;

struct HostKernel {
  const char *name;     // qualified, as nvcc registers the device function
  bool warpSynchronous; // uses warp shuffles: lanes run in lock step
  /// One thread's body, with the current built-ins.
  void (*run)(void **args);
  /// The device memory it reads and writes, and its flops, for these
  /// arguments.
  void (*access)(Op &op, void **args);
  /// The launch as a closure owning a copy of the arguments (kernel
  /// parameters are copied at launch, and a captured launch runs later);
  /// a failed warp shuffle marks the device's error.
  std::function<void()> (*bind)(const HostKernel &k, dim3 grid, dim3 block,
                                void **args);
};

/// The host version of a kernel registered under `qualifiedName`, or null.
const HostKernel *findHostKernel(const std::string &qualifiedName);

/// Runs every thread of the grid. False (reported) if a warp-level
/// intrinsic was misused.
bool runGrid(const HostKernel &k, dim3 grid, dim3 block, void **args);

} // namespace ios::emu

#endif // IOS_TEST_LIB_DEVICEEMULATOR_HOSTKERNELS_H
