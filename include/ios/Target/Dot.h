//===- Dot.h - ios IR to Graphviz -------------------------------*- C++ -*-===//

#ifndef IOS_TARGET_DOT_H
#define IOS_TARGET_DOT_H

#include "mlir/Support/LLVM.h"

namespace mlir {
class Operation;
namespace ios {

/// Prints every function of `op` (a module or a function) as a Graphviz
/// digraph: graph ops are nodes, SSA edges are arrows; a scheduled function's
/// stages are clusters and its groups coloured by stream index.
LogicalResult translateToDot(Operation *op, raw_ostream &os);

} // namespace ios
} // namespace mlir

#endif // IOS_TARGET_DOT_H
