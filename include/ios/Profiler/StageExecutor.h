//===- StageExecutor.h - Time one stage on the IOS runtime ------*- C++ -*-===//
//
// Builds a stage described by op signatures (the exec protocol's request) on
// the runtime API - synthetic weights and inputs in one arena, groups on
// streams with the emitted programs' fork/join events - and times it. The
// same code measures on the CPU backend (ios-stage-server-cpu, behind
// `profiler=cpu`) and on the CUDA backend (ios-stage-server-cuda, behind
// `profiler=cuda`): which backend runs is decided by what the server links.
//
// A request comes from another process and may be anything: timeStage checks
// the whole stage (checkStage) before it allocates or launches anything, and
// every convolution is planned by the runtime (prepareConv2d, which checks
// its window against its input) before the first kernel runs. A bad stage is
// an error, never a crash.
//
//===----------------------------------------------------------------------===//

#ifndef IOS_PROFILER_STAGEEXECUTOR_H
#define IOS_PROFILER_STAGEEXECUTOR_H

#include "ios/Profiler/Profiler.h"

#include <cstdint>

namespace ios::prof {

struct TimingOptions {
  int warmup = 1;
  int repeats = 5; ///< the median of these is the stage's latency
  /// The largest arena (inputs, outputs and weights of the stage) a stage
  /// may need, in floats (default 1 Gi floats = 4 GiB).
  int64_t maxArenaFloats = int64_t(1) << 30;
};

/// What a stage may hold. Every tensor (activations with the batch, and
/// weights) has at most kMaxElements elements: the CUDA backend describes
/// tensors to cuDNN with `int` sizes and strides. Every dimension and window
/// parameter is at most kMaxElements too.
inline constexpr int64_t kMaxElements = 2147483647; // INT32_MAX
inline constexpr size_t kMaxStageGroups = 64;       ///< one stream each
inline constexpr size_t kMaxStageOps = 4096;

/// The in-group producer of each input of each op: producers[g][i][k] is the
/// position in group g of the op whose output is input k of op i, or -1 for
/// an input from outside the group. An edge feeds the first input of equal
/// shape not fed yet.
using StageProducers = std::vector<std::vector<std::vector<int>>>;

/// Checks that `stage` can be built on the runtime: sizes and limits, each
/// op's inputs, output and attributes for its kind (groups, kernel, stride,
/// padding, dilation, activation and pool types, channel counts), edges
/// that connect matching shapes. The error names the op ("group 0 op 1
/// (conv): ..."). On success returns the producers of every input.
llvm::Expected<StageProducers> checkStage(const StageDescription &stage,
                                          const TimingOptions &opts = {});

/// Latency in ms of `stage` on the linked runtime backend.
llvm::Expected<double> timeStage(const StageDescription &stage,
                                 const TimingOptions &opts = {});

/// Parses the exec protocol's stage object (toJSON(StageDescription)).
llvm::Expected<StageDescription> stageFromJSON(const llvm::json::Value &v);

} // namespace ios::prof

#endif // IOS_PROFILER_STAGEEXECUTOR_H
