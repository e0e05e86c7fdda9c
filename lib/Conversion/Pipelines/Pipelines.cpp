//===- Pipelines.cpp - The registered lowering pipelines ------------------===//
//
// One definition of the back end: ios-opt runs it as `ios-lower-to-cpp`,
// ios-translate runs it before printing un-lowered input, and the stage
// server lowers the stages it measures with it.
//
//===----------------------------------------------------------------------===//

#include "ios/Conversion/Pipelines.h"

#include "ios/Conversion/Passes.h"

#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void ios::buildLowerToIOSRTPipeline(OpPassManager &pm, StringRef device) {
  ConvertIOSToIOSRTOptions toRT;
  toRT.device = device.str();
  pm.addPass(createConvertIOSToIOSRT(toRT));
  // Equal views (a tensor read by several kernels) become one variable.
  pm.addPass(createCSEPass());
}

void ios::buildLowerToCppPipeline(OpPassManager &pm,
                                  const LowerToCppOptions &options) {
  buildLowerToIOSRTPipeline(pm, options.device);
  ConvertIOSRTToEmitCOptions toEmitC;
  toEmitC.target = options.target;
  toEmitC.emitMain = options.emitMain;
  toEmitC.mainName = options.mainName;
  toEmitC.header = options.header;
  pm.addPass(createConvertIOSRTToEmitC(toEmitC));
}

void ios::registerLowerToCppPipeline() {
  PassPipelineRegistration<LowerToCppOptions>(
      "ios-lower-to-cpp",
      "Lower scheduled ios functions to the C++/CUDA program of the IOS "
      "runtime (--convert-ios-to-iosrt, --cse, --convert-iosrt-to-emitc)",
      buildLowerToCppPipeline);
}
