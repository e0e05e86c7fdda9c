//===- Cpp.h - ios IR to a C++ / CUDA program -------------------*- C++ -*-===//

#ifndef IOS_TARGET_CPP_H
#define IOS_TARGET_CPP_H

#include "mlir/Support/LLVM.h"

namespace mlir {
class Operation;
} // namespace mlir

namespace ios {

enum class ProgramKind { Cpp, Cuda };

mlir::LogicalResult translateToProgram(mlir::Operation *op,
                                       llvm::raw_ostream &os, ProgramKind kind);

} // namespace ios

#endif // IOS_TARGET_CPP_H
