//===- Passes.h - IOS dialect passes ----------------------------*- C++ -*-===//

#ifndef IOS_DIALECT_IOS_TRANSFORMS_PASSES_H
#define IOS_DIALECT_IOS_TRANSFORMS_PASSES_H

#include "ios/Dialect/IOS/IR/IOSOps.h"
#include "ios/Dialect/IOS/Transforms/EnumOptionParser.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Pass/Pass.h"

#include <memory>

namespace ios {
namespace prof {
class Profiler;
} // namespace prof

#define GEN_PASS_DECL
#include "ios/Dialect/IOS/Transforms/Passes.h.inc"

/// The scheduling pass with a profiler of the caller's (an embedding
/// program's own measurements): `options.profiler` then only names it in the
/// IR. The profiler is shared by every function the pass schedules.
std::unique_ptr<mlir::Pass>
createIOSSchedulePass(const IOSScheduleOptions &options,
                      std::shared_ptr<prof::Profiler> profiler);

#define GEN_PASS_REGISTRATION
#include "ios/Dialect/IOS/Transforms/Passes.h.inc"

} // namespace ios

#endif // IOS_DIALECT_IOS_TRANSFORMS_PASSES_H
