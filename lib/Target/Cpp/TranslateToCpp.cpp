//===- TranslateToCpp.cpp - ios IR to a C++ / CUDA program ----------------===//
//
// Lowers scheduled functions with --convert-ios-to-emitc (when the module
// still holds them) and prints the EmitC module with the upstream C++
// emitter. The program text is the same for both backends: streams, events
// and kernels live behind the runtime API, so the CPU program that runs in
// the tests is the program a GPU runs.
//
//===----------------------------------------------------------------------===//

#include "ios/Target/Cpp.h"

#include "ios/Conversion/Passes.h"
#include "ios/Dialect/IOS/IR/IOSOps.h"

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
  bool hasIOS = false;
  module.walk([&](Operation *inner) {
    if (isa<StageOp, SchedulableOpInterface>(inner))
      hasIOS = true;
  });
  if (hasIOS) {
    PassManager pm(module.getContext());
    pm.addPass(createConvertIOSToEmitC());
    if (failed(pm.run(module)))
      return failure();
  }
  if (kind == ProgramKind::Cuda) {
    // Make the file a CUDA translation unit: nvcc compiles it against the
    // CUDA backend of the runtime.
    OpBuilder b(module.getBodyRegion());
    b.setInsertionPointToStart(module.getBody());
    emitc::VerbatimOp::create(
        b, module.getLoc(),
        "// CUDA program: nvcc -std=c++17 -I<ios>/include model.cu "
        "-L<build>/lib -lIOSRuntimeCUDA -lcudnn -lcudart");
    emitc::IncludeOp::create(b, module.getLoc(), "cuda_runtime.h", true);
  }
  return emitc::translateToCpp(module, os);
}
