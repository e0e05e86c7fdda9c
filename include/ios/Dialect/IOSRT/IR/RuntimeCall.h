//===- RuntimeCall.h - An iosrt op as a runtime API call --------*- C++ -*-===//
//
// Every iosrt op is one call of the runtime API (include/ios/Runtime/
// Runtime.h). The op says which call and with which arguments; the EmitC
// lowering prints it and the stage server makes it, so the two cannot
// disagree about what an op means.
//
//===----------------------------------------------------------------------===//

#ifndef IOS_DIALECT_IOSRT_IR_RUNTIMECALL_H
#define IOS_DIALECT_IOSRT_IR_RUNTIMECALL_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <string>

namespace ios::rtir {

/// One argument of a runtime call (the context, always first, is implied).
struct RuntimeArg {
  enum class Kind {
    Int32,  // int32_t `i`
    Int64,  // int64_t `i`
    Float,  // float `f`
    Bool,   // bool `i`
    String, // const char * `s` (a C string literal when printed)
    Enum,   // an enumerator of the runtime: value `i`, C++ name `s`
    View,   // `value`, an !iosrt.view
    Floats  // const float * to `data` (the call also takes its size)
  };
  Kind kind;
  int64_t i = 0;
  double f = 0;
  std::string s;
  mlir::Value value;
  mlir::DenseElementsAttr data;

  static RuntimeArg int32(int64_t v) { return {Kind::Int32, v}; }
  static RuntimeArg int64(int64_t v) { return {Kind::Int64, v}; }
  static RuntimeArg boolean(bool v) { return {Kind::Bool, v}; }
  static RuntimeArg real(double v) { return {Kind::Float, 0, v}; }
  static RuntimeArg string(llvm::StringRef v) {
    return {Kind::String, 0, 0, v.str()};
  }
  static RuntimeArg enumerator(int64_t v, llvm::StringRef name) {
    return {Kind::Enum, v, 0, name.str()};
  }
  static RuntimeArg view(mlir::Value v) {
    return {Kind::View, 0, 0, {}, v};
  }
  static RuntimeArg floats(mlir::DenseElementsAttr v) {
    return {Kind::Floats, 0, 0, {}, {}, v};
  }
};

/// When a call happens in the program.
enum class RuntimePhase {
  /// Once, at load (create()).
  Load,
  /// A kernel: prepared at load (its id is its index among the program's
  /// kernels), launched at each inference (`launch(ctx, id)`).
  Kernel,
  /// At each inference (run()), in program order.
  Run
};

struct RuntimeCall {
  RuntimePhase phase;
  /// The runtime function, unqualified (`prepareConv2d`, `record`, ...).
  std::string callee;
  llvm::SmallVector<RuntimeArg> args;
};

} // namespace ios::rtir

#endif // IOS_DIALECT_IOSRT_IR_RUNTIMECALL_H
