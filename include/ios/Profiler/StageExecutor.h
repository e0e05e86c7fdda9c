//===- StageExecutor.h - Time one stage on the IOS runtime ------*- C++ -*-===//
//
// Builds a stage described by op signatures (the exec protocol's request) on
// the runtime API - synthetic weights and inputs in one arena, groups on
// streams with the emitted programs' fork/join events - and times it. The
// same code measures on the CPU backend (ios-stage-server-cpu, behind
// `profiler=cpu`) and on the CUDA backend (ios-stage-server-cuda, behind
// `profiler=cuda`): which backend runs is decided by what the server links.
//
//===----------------------------------------------------------------------===//

#ifndef IOS_PROFILER_STAGEEXECUTOR_H
#define IOS_PROFILER_STAGEEXECUTOR_H

#include "ios/Profiler/Profiler.h"

namespace ios::prof {

struct TimingOptions {
  int warmup = 1;
  int repeats = 5; ///< the median of these is the stage's latency
};

/// Latency in ms of `stage` on the linked runtime backend.
llvm::Expected<double> timeStage(const StageDescription &stage,
                                 const TimingOptions &opts = {});

/// Parses the exec protocol's stage object (toJSON(StageDescription)).
llvm::Expected<StageDescription> stageFromJSON(const llvm::json::Value &v);

} // namespace ios::prof

#endif // IOS_PROFILER_STAGEEXECUTOR_H
