//===- TranslateToCpp.cpp - ios IR to a C++ / CUDA program ----------------===//
//
// Prints the EmitC form of a program with the upstream C++ emitter. Input
// that is not lowered yet (scheduled `ios` functions, or `iosrt` programs)
// first goes through the registered `ios-lower-to-cpp` pipeline - the same
// passes `ios-opt --ios-lower-to-cpp` runs, so
// `ios-opt --ios-lower-to-cpp=target=T | ios-translate --ios-to-T` prints
// the same program. The program text is the same for both backends up to
// its header: streams, events and kernels live behind the runtime API.
// --ios-to-cpp-header prints the C header of the entry points instead.
//
//===----------------------------------------------------------------------===//

#include "ios/Target/Cpp.h"

#include "ios/Conversion/Pipelines.h"
#include "ios/Dialect/IOS/IR/IOSOps.h"
#include "ios/Dialect/IOSRT/IR/IOSRT.h"

#include "mlir/Dialect/EmitC/IR/EmitC.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/Cpp/CppEmitter.h"

using namespace mlir;
using namespace ios;

LogicalResult ios::translateToProgram(Operation *op, raw_ostream &os,
                                      ProgramKind kind) {
  auto module = dyn_cast<ModuleOp>(op);
  if (!module)
    return op->emitError() << "expected a module";
  StringRef target = kind == ProgramKind::Cuda ? "cuda" : "cpu";
  bool lowered = true;
  module.walk([&](Operation *inner) {
    if (isa<IOSDialect, rtir::IOSRTDialect>(inner->getDialect()))
      lowered = false;
  });
  if (kind == ProgramKind::Header && lowered)
    return module.emitError()
           << "the header is generated from scheduled ios or iosrt input, "
              "not from a lowered program";
  if (!lowered) {
    PassManager pm(module.getContext());
    LowerToCppOptions options;
    options.target = target.str();
    options.header = kind == ProgramKind::Header;
    buildLowerToCppPipeline(pm, options);
    if (failed(pm.run(module)))
      return failure();
  } else if (auto attr = module->getAttrOfType<StringAttr>(rtir::kTargetAttrName);
             attr && attr.getValue() != target) {
    return module.emitError()
           << "the module was lowered for target '" << attr.getValue()
           << "'; lower it with --ios-lower-to-cpp=target=" << target;
  }
  return emitc::translateToCpp(module, os);
}
