//===- Cpp.h - ios IR to a C++ / CUDA program -------------------*- C++ -*-===//

#ifndef IOS_TARGET_CPP_H
#define IOS_TARGET_CPP_H

#include "mlir/Support/LLVM.h"

namespace mlir {
class Operation;
} // namespace mlir

namespace ios {

/// The program for a backend, or the C header of its entry points (the
/// same for both backends).
enum class ProgramKind { Cpp, Cuda, Header };

mlir::LogicalResult translateToProgram(mlir::Operation *op,
                                       llvm::raw_ostream &os, ProgramKind kind);

} // namespace ios

#endif // IOS_TARGET_CPP_H
