//===- Passes.h - IOS passes ------------------------------------*- C++ -*-===//

#ifndef IOS_TRANSFORMS_PASSES_H
#define IOS_TRANSFORMS_PASSES_H

#include "ios/Dialect/IOS/IR/IOSDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::ios {

#define GEN_PASS_DECL
#include "ios/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "ios/Transforms/Passes.h.inc"

} // namespace mlir::ios

#endif // IOS_TRANSFORMS_PASSES_H
