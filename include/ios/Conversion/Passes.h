//===- Passes.h - IOS conversion passes -------------------------*- C++ -*-===//

#ifndef IOS_CONVERSION_PASSES_H
#define IOS_CONVERSION_PASSES_H

#include "ios/Dialect/IOS/IR/IOSDialect.h"
#include "ios/Dialect/IOSRT/IR/IOSRT.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/EmitC/IR/EmitC.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace ios {

#define GEN_PASS_DECL
#include "ios/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "ios/Conversion/Passes.h.inc"

} // namespace ios

#endif // IOS_CONVERSION_PASSES_H
