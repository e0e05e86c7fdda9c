//===- Passes.h - IOS conversion passes -------------------------*- C++ -*-===//

#ifndef IOS_CONVERSION_PASSES_H
#define IOS_CONVERSION_PASSES_H

#include "ios/Dialect/IOS/IR/IOSDialect.h"
#include "ios/Dialect/IOS/Transforms/EnumOptionParser.h"
#include "ios/Dialect/IOSRT/IR/IOSRT.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/EmitC/IR/EmitC.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace ios {
/// The order `--convert-ios-to-iosrt` enqueues a stage's kernels in. The host
/// issues launches one at a time (5-20 us each on a GPU), so group by group
/// the last group of a wide stage starts only after every other group's
/// kernels were issued; round-robin starts every stream within a few calls.
enum class LaunchOrder { roundRobin, grouped };
} // namespace ios

namespace llvm::cl {
template <>
class parser<ios::LaunchOrder>
    : public ios::CompactEnumOptionParser<ios::LaunchOrder> {
public:
  using CompactEnumOptionParser::CompactEnumOptionParser;
};
} // namespace llvm::cl

namespace ios {

#define GEN_PASS_DECL
#include "ios/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "ios/Conversion/Passes.h.inc"

} // namespace ios

#endif // IOS_CONVERSION_PASSES_H
