//===- IOSRT.h - The IOS runtime program dialect ----------------*- C++ -*-===//

#ifndef IOS_DIALECT_IOSRT_IR_IOSRT_H
#define IOS_DIALECT_IOSRT_IR_IOSRT_H

#include "ios/Dialect/IOS/IR/IOSOps.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "ios/Dialect/IOSRT/IR/RuntimeCall.h"

#include "ios/Dialect/IOSRT/IR/IOSRTDialect.h.inc"
#include "ios/Dialect/IOSRT/IR/IOSRTInterfaces.h.inc"

#define GET_TYPEDEF_CLASSES
#include "ios/Dialect/IOSRT/IR/IOSRTTypes.h.inc"

#define GET_OP_CLASSES
#include "ios/Dialect/IOSRT/IR/IOSRTOps.h.inc"

namespace ios::rtir {

/// Names of the attributes of a program function.
inline constexpr llvm::StringLiteral kArenaAttrName = "iosrt.arena";
inline constexpr llvm::StringLiteral kStreamsAttrName = "iosrt.streams";
inline constexpr llvm::StringLiteral kEventsAttrName = "iosrt.events";
/// On a module lowered to EmitC: the backend it was lowered for.
inline constexpr llvm::StringLiteral kTargetAttrName = "iosrt.target";

} // namespace ios::rtir

#endif // IOS_DIALECT_IOSRT_IR_IOSRT_H
