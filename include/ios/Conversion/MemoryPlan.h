//===- MemoryPlan.h - Arena layout of a scheduled function ------*- C++ -*-===//
//
// Every activation of a scheduled function gets a place in one arena:
//  * channel slices are views of their input, as are flattens of whole
//    tensors (no copy);
//  * a concat operand produced by an op used only by that concat is written
//    by its producer straight into the concat's channels (no copy);
//  * everything else owns a buffer, live from the stage that produces it to
//    the last stage that reads it (through any views). Buffers whose live
//    ranges overlap never share memory, so the groups of a stage, which run
//    at the same time, never touch each other's tensors; buffers of disjoint
//    ranges reuse memory (greedy best-fit by size).
//
//===----------------------------------------------------------------------===//

#ifndef IOS_CONVERSION_MEMORYPLAN_H
#define IOS_CONVERSION_MEMORYPLAN_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"

namespace mlir::ios {

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
  static FailureOr<MemoryPlan> compute(func::FuncOp func);

  /// The op result a stage/group result stands for (through the yields).
  Value resolve(Value v) const;
  const Storage &storageOf(Value v) const;
  const Buffer &buffer(unsigned i) const { return buffers[i]; }
  ArrayRef<Buffer> getBuffers() const { return buffers; }
  /// Concat operands written in place by their producer.
  bool isInPlace(Value concatOperand, Operation *concat) const {
    return inPlace.contains({concatOperand, concat});
  }
  /// Flattens that are views of their input (the others copy).
  bool isView(Operation *op) const { return views.contains(op); }

  int64_t arenaFloats() const { return arena; }
  /// The sum of all buffers' sizes: what the program would need without
  /// reuse (views and in-place concats already counted once).
  int64_t tensorFloats() const { return tensors; }
  int numStages() const { return stages; }

private:
  llvm::DenseMap<Value, Value> resolved;
  llvm::DenseMap<Value, Storage> storage;
  llvm::DenseSet<std::pair<Value, Operation *>> inPlace;
  llvm::DenseSet<Operation *> views;
  SmallVector<Buffer> buffers;
  int64_t arena = 0, tensors = 0;
  int stages = 0;
};

} // namespace mlir::ios

#endif // IOS_CONVERSION_MEMORYPLAN_H
