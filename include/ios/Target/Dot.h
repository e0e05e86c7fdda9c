//===- Dot.h - ios IR to Graphviz -------------------------------*- C++ -*-===//

#ifndef IOS_TARGET_DOT_H
#define IOS_TARGET_DOT_H

#include "mlir/Support/LLVM.h"

namespace mlir {
class Operation;
} // namespace mlir

namespace ios {

mlir::LogicalResult translateToDot(mlir::Operation *op, llvm::raw_ostream &os);

} // namespace ios

#endif // IOS_TARGET_DOT_H
