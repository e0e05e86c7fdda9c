//===- IOSInterfaces.h - The schedulable-op interface -----------*- C++ -*-===//

#ifndef IOS_DIALECT_IOS_IR_IOSINTERFACES_H
#define IOS_DIALECT_IOS_IR_IOSINTERFACES_H

#include "ios/Scheduler/OpSignature.h"

#include "mlir/IR/Builders.h"
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

} // namespace ios

#include "ios/Dialect/IOS/IR/IOSInterfaces.h.inc"

#endif // IOS_DIALECT_IOS_IR_IOSINTERFACES_H
