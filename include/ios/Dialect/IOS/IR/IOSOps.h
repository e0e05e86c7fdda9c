//===- IOSOps.h - IOS dialect ops -------------------------------*- C++ -*-===//

#ifndef IOS_DIALECT_IOS_IR_IOSOPS_H
#define IOS_DIALECT_IOS_IR_IOSOPS_H

#include "ios/Dialect/IOS/IR/IOSDialect.h"
#include "ios/Dialect/IOS/IR/IOSInterfaces.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include <cstdint>
#include <optional>
#include <string>

namespace ios {

/// Default values of the conv2d window attributes (static storage: the
/// generated accessors hand out ArrayRefs into them).
inline constexpr int64_t kDefaultOnes[] = {1, 1};
inline constexpr int64_t kDefaultZeros[] = {0, 0};

/// The largest dimension and element count of any tensor: the runtimes
/// describe tensors to cuDNN with 32-bit sizes and strides.
inline constexpr int64_t kMaxTensorElements = (int64_t(1) << 31) - 1;

/// The element count of `shape` if the runtimes can index it (at most
/// kMaxTensorElements, computed without overflow), else nullopt.
std::optional<int64_t> indexableElements(llvm::ArrayRef<int64_t> shape);

/// The layer name of an op: its `ios.name` attribute, else the name of its
/// location (a `NameLoc`, also inside a `FusedLoc`); nullopt if it has none.
std::optional<std::string> layerName(mlir::Operation *op);

} // namespace ios

#include "ios/Dialect/IOS/IR/IOSEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "ios/Dialect/IOS/IR/IOSAttrs.h.inc"

#define GET_OP_CLASSES
#include "ios/Dialect/IOS/IR/IOSOps.h.inc"

#endif // IOS_DIALECT_IOS_IR_IOSOPS_H
