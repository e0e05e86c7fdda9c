//===- Executor.h - Run iosrt programs in process ---------------*- C++ -*-===//
//
// Executes an `iosrt` program function (what --convert-ios-to-iosrt makes)
// on the runtime backend the final binary links (libIOSRuntimeCPU or
// libIOSRuntimeCUDA; this library links none): every op is made as the call
// its RuntimeCallOpInterface answers - the same answer the EmitC lowering
// prints - so a program run here does what the emitted program does.
//
// Load, as an emitted create(): the context, the given weights, then every
// load-phase call and every kernel's prepare call in program order, checked
// once by finishCreate. Run, as an emitted run(): upload, the run phase
// (kernels launched by id, records, waits, stage markers in program order),
// finishRun. The run phase can be repeated inside one inference (the stage
// server times short stages that way).
//
//===----------------------------------------------------------------------===//

#ifndef IOS_EXECUTION_EXECUTOR_H
#define IOS_EXECUTION_EXECUTOR_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/Error.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace ios::rt {
class Context;
} // namespace ios::rt

namespace ios::exec {

/// A weight handed to the program at load (rt::addWeight).
struct Weight {
  std::string name;
  std::vector<float> data;
};

/// An iosrt program loaded on the linked runtime backend.
class LoadedProgram {
public:
  /// Loads `program` (a function with `iosrt.arena`, `iosrt.streams` and
  /// `iosrt.events` whose ops are runtime calls) with `weights`. The error
  /// is the runtime's (the first failed load call, naming the layer) or
  /// says which op cannot be made.
  static llvm::Expected<std::unique_ptr<LoadedProgram>>
  load(mlir::func::FuncOp program, llvm::ArrayRef<Weight> weights);
  ~LoadedProgram();
  LoadedProgram(const LoadedProgram &) = delete;
  LoadedProgram &operator=(const LoadedProgram &) = delete;

  /// Starts an inference (`inputs`: one buffer per bound input; null if
  /// none is bound).
  void upload(const float *const *inputs);
  /// Enqueues the program's run phase once.
  void runPhase();
  /// Ends the inference (`outputs`: one buffer per bound output; null if
  /// none is bound); the error is the failed kernel's.
  llvm::Error finishRun(float *const *outputs);

  /// The program's kernels (prepared at load).
  size_t numKernels() const { return kernels; }

private:
  explicit LoadedProgram(rt::Context *ctx) : ctx(ctx) {}

  rt::Context *ctx;
  /// The run phase, in program order.
  std::vector<std::function<void(rt::Context *)>> steps;
  size_t kernels = 0;
};

} // namespace ios::exec

#endif // IOS_EXECUTION_EXECUTOR_H
