//===- StageExecutor.h - Time one stage as the program runs it --*- C++ -*-===//
//
// Measures a stage described by op signatures (the exec protocol's request)
// by the code the compiler ships for it:
//
//  1. the stage becomes a one-stage scheduled `ios` function: each op built
//     back from its signature (SchedulableOpInterface::buildFromSignature),
//     values produced outside the stage as function inputs, parameters as
//     `ios.param` arguments, the stage built by the schedule rewrite
//     (ios::applySchedule; a merge stage by its ops' buildMerge);
//  2. the function is lowered by the program's lowering
//     (ios::buildLowerToIOSRTPipeline: --convert-ios-to-iosrt, --cse) to an
//     `iosrt` program; its input/output bindings are dropped (in a program
//     a stage reads and writes the arena, no host copies);
//  3. the program is loaded on the linked runtime backend (ios::exec,
//     random weights) and its run phase timed: warm-up, then the median of
//     `repeats` timed inferences, each running the stage back to back
//     enough times for ~2 ms (at most 16). A small stage is built in copies
//     on memory of their own (TimingOptions::rotateBytes), run one after
//     the other, so that like in a program its tensors and weights are not
//     still in the cores' caches from its previous run.
//
// The same code measures on the CPU backend (ios-stage-server-cpu, behind
// `profiler=cpu`) and on the CUDA backend (ios-stage-server-cuda): which
// backend runs is decided by what the server links.
//
// A request comes from another process and may be anything: the stage's
// shape (batch, groups, ops, tensor sizes, edges) is checked first, every op
// is verified as it is built, the lowering checks the stage, the memory it
// needs is bounded before anything is allocated, and the runtime checks
// every call at load. A bad stage is an error naming the op, never a crash.
//
//===----------------------------------------------------------------------===//

#ifndef IOS_PROFILER_STAGEEXECUTOR_H
#define IOS_PROFILER_STAGEEXECUTOR_H

#include "ios/Profiler/Profiler.h"

#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mlir {
class MLIRContext;
} // namespace mlir

namespace ios::prof {

struct TimingOptions {
  int warmup = 1;
  int repeats = 5; ///< the median of these is the stage's latency
  /// Rounds timePrograms takes the median of: whole programs are few, and
  /// their comparison decides a schedule, so more than a stage's.
  int programRepeats = 9;
  /// The largest memory (the arena of the stage's program and its weights)
  /// a stage may need, in floats (default 1 Gi floats = 4 GiB).
  int64_t maxArenaFloats = int64_t(1) << 30;
  /// A stage is timed in as many copies on their own memory (at most
  /// kMaxStageCopies, within maxArenaFloats) as span this many bytes, run
  /// one after the other, so that it does not find its tensors and weights
  /// in the cores' caches any more than in a program. 0: one copy.
  int64_t rotateBytes = int64_t(16) << 20;
};

inline constexpr int kMaxStageCopies = 8;

/// What a stage may hold. Every tensor (activations with the batch, and
/// weights) has at most kMaxElements elements: the CUDA backend describes
/// tensors to cuDNN with `int` sizes and strides.
inline constexpr int64_t kMaxElements = 2147483647; // INT32_MAX
inline constexpr size_t kMaxStageGroups = 64;       ///< one stream each
inline constexpr size_t kMaxStageOps = 4096;
/// Programs one timePrograms call may compare.
inline constexpr size_t kMaxPrograms = 8;

/// The in-group producer of each input of each op: producers[g][i][k] is the
/// position in group g of the op whose output is input k of op i, or -1 for
/// an input from outside the group. An edge feeds the first input of equal
/// shape not fed yet.
using StageProducers = std::vector<std::vector<std::vector<int>>>;

/// Checks the shape of `stage` (what any stage must be, whatever its ops):
/// batch, group and op counts, every op's batch and tensor sizes, edges that
/// connect matching shapes. On success returns the producers of every input.
llvm::Expected<StageProducers> checkStage(const StageDescription &stage);

/// Builds, lowers and times stages in one MLIR context.
class StageExecutor {
public:
  explicit StageExecutor(const TimingOptions &opts = {});
  ~StageExecutor();

  /// Latency in ms of `stage` on the linked runtime backend. With
  /// `printStage`, the iosrt program that is measured is printed to it.
  llvm::Expected<double> time(const StageDescription &stage,
                              llvm::raw_ostream *printStage = nullptr);

  /// Latencies in ms of whole programs, each `modules[i]` the text of a
  /// module holding one scheduled `ios` function (ios-schedule's
  /// `compare=sequential`: the searched schedule and the sequential one).
  /// Each is lowered by the program's lowering and loaded with random
  /// weights; then they run in interleaved rounds, one inference of each per
  /// round, so that a machine that drifts (clock, another process) costs
  /// them alike: the median of `programRepeats` rounds after `warmup`. With
  /// `print`, each iosrt program is printed to it.
  llvm::Expected<std::vector<double>>
  timePrograms(llvm::ArrayRef<std::string> modules,
               llvm::raw_ostream *print = nullptr);

private:
  TimingOptions opts;
  std::unique_ptr<mlir::MLIRContext> context;
};

} // namespace ios::prof

#endif // IOS_PROFILER_STAGEEXECUTOR_H
