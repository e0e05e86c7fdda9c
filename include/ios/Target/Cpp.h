//===- Cpp.h - ios IR to a C++ / CUDA program -------------------*- C++ -*-===//

#ifndef IOS_TARGET_CPP_H
#define IOS_TARGET_CPP_H

#include "mlir/Support/LLVM.h"

namespace mlir {
class Operation;
namespace ios {

enum class ProgramKind { Cpp, Cuda };

/// Prints `op` (a module of scheduled ios functions, or of emitc functions
/// already lowered by --convert-ios-to-emitc) as a C++ program calling the
/// IOS runtime. The Cuda kind prints the same program as a CUDA translation
/// unit (built with nvcc against the CUDA runtime backend).
LogicalResult translateToProgram(Operation *op, raw_ostream &os,
                                 ProgramKind kind);

} // namespace ios
} // namespace mlir

#endif // IOS_TARGET_CPP_H
