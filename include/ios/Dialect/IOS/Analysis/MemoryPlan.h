//===- MemoryPlan.h - Arena layout of a scheduled function ------*- C++ -*-===//
//
// Every activation of a scheduled function gets a place in one arena:
//  * results that are views of their first operand (channel slices, and
//    reshapes such as flatten of a whole tensor) take no memory of their own;
//  * an operand of an op that concatenates its operands, produced by an op
//    that writes its whole result and used by nothing else, is written by its
//    producer straight into its channels (no copy);
// (what each op is comes from its SchedulableOpInterface);
//  * everything else owns a buffer, live from the stage that produces it to
//    the last stage that reads it (through any views). Buffers whose live
//    ranges overlap never share memory, so the groups of a stage, which run
//    at the same time, never touch each other's tensors; buffers of disjoint
//    ranges reuse memory (greedy best-fit by size).
//
//===----------------------------------------------------------------------===//

#ifndef IOS_DIALECT_IOS_ANALYSIS_MEMORYPLAN_H
#define IOS_DIALECT_IOS_ANALYSIS_MEMORYPLAN_H

#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"

namespace ios {

/// Where a value lives: `channelOffset` channels into buffer `buffer`, whose
/// tensors are `rootChannels` channels wide (the batch stride).
struct Storage {
  unsigned buffer = 0;
  int64_t channelOffset = 0;
  int64_t rootChannels = 0;
};

struct Buffer {
  int64_t offset = 0;   ///< in floats, from the arena's base
  int64_t size = 0;     ///< in floats
  int firstStage = 0;   ///< -1: the function input
  int lastStage = 0;    ///< numStages: live until the end (function result)
};

class MemoryPlan {
public:
  /// Plans `func`, a scheduled function (body = ios.stage ops). Emits an
  /// error and fails on values it cannot place (dynamic shapes, ...).
  static mlir::FailureOr<MemoryPlan> compute(mlir::FunctionOpInterface func);

  /// The op result a stage/group result stands for (through the yields).
  mlir::Value resolve(mlir::Value v) const;
  const Storage &storageOf(mlir::Value v) const;
  /// The storage of `v`, or null for values the plan does not place
  /// (parameters, constants).
  const Storage *lookup(mlir::Value v) const;
  const Buffer &buffer(unsigned i) const { return buffers[i]; }
  llvm::ArrayRef<Buffer> getBuffers() const { return buffers; }
  /// Operands of concatenating ops written in place by their producer.
  bool isInPlace(mlir::Value concatOperand, mlir::Operation *concat) const {
    return inPlace.contains({concatOperand, concat});
  }
  /// Reshapes that are views of their input (the others copy).
  bool isView(mlir::Operation *op) const { return views.contains(op); }

  int64_t arenaFloats() const { return arena; }
  /// The sum of all buffers' sizes: what the program would need without
  /// reuse (views and in-place concats already counted once).
  int64_t tensorFloats() const { return tensors; }
  int numStages() const { return stages; }

private:
  llvm::DenseMap<mlir::Value, mlir::Value> resolved;
  llvm::DenseMap<mlir::Value, Storage> storage;
  llvm::DenseSet<std::pair<mlir::Value, mlir::Operation *>> inPlace;
  llvm::DenseSet<mlir::Operation *> views;
  llvm::SmallVector<Buffer> buffers;
  int64_t arena = 0, tensors = 0;
  int stages = 0;
};

} // namespace ios

#endif // IOS_DIALECT_IOS_ANALYSIS_MEMORYPLAN_H
