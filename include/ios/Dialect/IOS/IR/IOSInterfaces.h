//===- IOSInterfaces.h - The schedulable-op interface -----------*- C++ -*-===//

#ifndef IOS_DIALECT_IOS_IR_IOSINTERFACES_H
#define IOS_DIALECT_IOS_IR_IOSINTERFACES_H

#include "ios/Scheduler/OpSignature.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"

#include <optional>
#include <string>

namespace ios {

/// How an op's result relates to its first operand in memory.
struct ResultLayout {
  enum class Kind : uint8_t {
    /// Written by the op's kernels.
    Computed,
    /// Channels [channelOffset, channelOffset + C) of the operand: a view.
    ChannelSlice,
    /// The operand's bytes seen with another shape: a view when the operand
    /// is contiguous, a copy otherwise.
    Reshape,
  };
  Kind kind = Kind::Computed;
  int64_t channelOffset = 0;

  static ResultLayout channelSlice(int64_t offset) {
    return {Kind::ChannelSlice, offset};
  }
  static ResultLayout reshape() { return {Kind::Reshape, 0}; }
  bool isView() const { return kind != Kind::Computed; }
};

/// Makes a parameter of an op built from its signature: `role` says which
/// ("weight", "bias", "scale", ...), `type` is its tensor type.
using ParamBuilder =
    llvm::function_ref<mlir::Value(llvm::StringRef role,
                                   mlir::RankedTensorType type)>;

} // namespace ios

#include "ios/Dialect/IOS/IR/IOSInterfaces.h.inc"

namespace ios {

/// Builds the op that `signature` describes, at the builder's insertion
/// point: the registered op whose getScheduleKind() is the signature's kind
/// builds itself (SchedulableOpInterface::buildFromSignature) on `inputs`
/// (one value per input shape, of that shape at the signature's batch).
/// The op is verified and must give the signature back: its inputs, output
/// and batch, and every attribute the signature names. Otherwise an error
/// is emitted at `loc`, the op (if built) is erased and this fails.
mlir::FailureOr<mlir::Operation *>
buildFromSignature(mlir::OpBuilder &builder, mlir::Location loc,
                   const sched::OpSignature &signature, mlir::ValueRange inputs,
                   ParamBuilder params);

} // namespace ios

#endif // IOS_DIALECT_IOS_IR_IOSINTERFACES_H
