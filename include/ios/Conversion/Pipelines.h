//===- Pipelines.h - The registered lowering pipelines ----------*- C++ -*-===//

#ifndef IOS_CONVERSION_PIPELINES_H
#define IOS_CONVERSION_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace ios {

/// Options of `ios-lower-to-cpp`.
struct LowerToCppOptions : mlir::PassPipelineOptions<LowerToCppOptions> {
  Option<std::string> target{*this, "target",
                             llvm::cl::desc("the runtime backend: cpu or cuda"),
                             llvm::cl::init("cpu")};
  Option<std::string> device{
      *this, "device",
      llvm::cl::desc("if set, fail on functions scheduled for another device")};
  Option<bool> emitMain{*this, "emit-main",
                        llvm::cl::desc("emit a main() (compiled with -DIOS_MAIN)"),
                        llvm::cl::init(true)};
  Option<std::string> mainName{
      *this, "main",
      llvm::cl::desc("the program main() runs (default: the only one)")};
  Option<bool> header{
      *this, "header",
      llvm::cl::desc("emit the C header of the entry points, not the program"),
      llvm::cl::init(false)};
};

/// Scheduled `ios` functions to `iosrt` programs: --convert-ios-to-iosrt
/// (with `device`, if not empty), --cse. The first half of
/// buildLowerToCppPipeline; the stage server lowers what it measures with it.
void buildLowerToIOSRTPipeline(mlir::OpPassManager &pm,
                               llvm::StringRef device = "");

/// Scheduled `ios` functions to the C entry points of a program:
/// buildLowerToIOSRTPipeline, then --convert-iosrt-to-emitc.
void buildLowerToCppPipeline(mlir::OpPassManager &pm,
                             const LowerToCppOptions &options);

/// Registers `ios-lower-to-cpp`.
void registerLowerToCppPipeline();

} // namespace ios

#endif // IOS_CONVERSION_PIPELINES_H
